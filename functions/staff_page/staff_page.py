"""GET /admin: the staff review page. Static HTML without data: the browser asks the staff API (/admin/*,
behind the JWT authorizer) with the bearer token the staff member pastes, so this route needs no
authorizer. Data is only ever inserted with ``textContent``; the CSP allows just this page's own script
(by hash) and requests to the same origin.
"""

from __future__ import annotations

from referral_core.init_phase import init_complete  # first: pauses the GC while the function loads

import base64
import hashlib
from typing import Any

from referral_core.pages import render
from referral_core.security_headers import secured

SCRIPT = """
"use strict";
const KEY = "staffToken";
const $ = (id) => document.getElementById(id);
const status = (text) => { $("status").textContent = text; };
let current = null;

async function api(method, path, body) {
  const headers = {"Authorization": "Bearer " + (sessionStorage.getItem(KEY) || "")};
  if (body) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {method, headers, body: body ? JSON.stringify(body) : undefined});
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = data.error || {};
    throw new Error(response.status + " " + (error.message || response.statusText));
  }
  return data;
}

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text == null ? "" : String(text);
  row.appendChild(td);
  return td;
}

async function loadQueue() {
  status("Loading the queue…");
  try {
    const page = await api("GET", "/admin/reviews?status=" + encodeURIComponent($("queue-status").value));
    const body = $("queue-rows");
    body.replaceChildren();
    for (const item of page.items) {
      const row = document.createElement("tr");
      const open = document.createElement("button");
      open.type = "button";
      open.textContent = "Open " + item.lead_id;
      open.addEventListener("click", () => openReferral(item.lead_id));
      cell(row, "").appendChild(open);
      cell(row, item.masked_name);
      cell(row, item.stage);
      cell(row, (item.flag_types || []).join(", "));
      cell(row, item.updated_at);
      body.appendChild(row);
    }
    status(page.items.length + " referral(s) in the queue.");
  } catch (error) { status("Could not load the queue: " + error.message); }
}

async function openReferral(leadId) {
  status("Loading the evidence…");
  try {
    current = await api("GET", "/admin/referrals/" + encodeURIComponent(leadId));
    $("evidence-title").textContent = "Evidence for " + leadId;
    $("evidence").textContent = JSON.stringify(current, null, 2);
    $("decide").hidden = false;
    $("note").focus();
    status("Evidence loaded.");
  } catch (error) { status("Could not load the evidence: " + error.message); }
}

function version() {
  const referral = (current && current.referral) || {};
  return Number(referral.version || 0);
}

async function decide(event) {
  event.preventDefault();
  const leadId = current && current.lead_id;
  if (!leadId) return;
  try {
    await api("POST", "/admin/referrals/" + encodeURIComponent(leadId) + "/decisions",
              {decision: $("decision").value, note: $("note").value, expected_version: version()});
    status("Decision recorded.");
    $("note").value = "";
    await openReferral(leadId);
    await loadQueue();
  } catch (error) { status("Could not record the decision: " + error.message); }
}

$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY, $("token").value.trim());
  $("token").value = "";
  status("Token kept for this browser tab.");
  loadQueue();
});
$("refresh").addEventListener("click", loadQueue);
$("decide").addEventListener("submit", decide);
if (sessionStorage.getItem(KEY)) loadQueue();
"""

BODY = f"""<main>
<h1>Staff review</h1>
<p id="status" role="status" aria-live="polite">Paste a staff token to start.</p>
<form id="token-form">
<label for="token">Staff bearer token (kept in this tab only)</label>
<input id="token" name="token" type="password" autocomplete="off" required>
<button type="submit">Use token</button>
</form>
<h2>Review queue</h2>
<label for="queue-status">Status</label>
<select id="queue-status"><option>open</option><option>questioned</option><option>deferred</option>
<option>accepted</option><option>dismissed</option></select>
<button type="button" id="refresh">Load queue</button>
<table><caption class="muted">Newest first</caption>
<thead><tr><th scope="col">Referral</th><th scope="col">Customer</th><th scope="col">Stage</th>
<th scope="col">Flags</th><th scope="col">Updated</th></tr></thead>
<tbody id="queue-rows"></tbody></table>
<h2 id="evidence-title">Evidence</h2>
<pre id="evidence" tabindex="0" aria-labelledby="evidence-title"></pre>
<form id="decide" hidden>
<label for="decision">Decision</label>
<select id="decision"><option value="accept">Accept</option><option value="question">Question</option>
<option value="defer">Defer</option><option value="dismiss">Dismiss</option></select>
<label for="note">Note (required)</label>
<textarea id="note" required maxlength="2000"></textarea>
<button type="submit">Record decision</button>
</form>
</main>
<script>{SCRIPT}</script>"""

PAGE = render("Staff review", BODY)
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Content-Security-Policy": (f"default-src 'none'; script-src 'sha256-{_SCRIPT_HASH}'; "
                                "style-src 'unsafe-inline'; connect-src 'self'; form-action 'none'; "
                                "frame-ancestors 'none'; base-uri 'none'"),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}

def openapi_paths() -> dict[str, Any]:
    """Raw handler (no resolver): its part of the OpenAPI document (scripts/openapi.py)."""
    return {"/admin": {"get": {
        "summary": "GET /admin", "operationId": "get_staff_page",
        "description": "The staff review page (static HTML, no token needed; it calls /admin/* with one).",
        "responses": {"200": {"description": "HTML page",
                              "content": {"text/html": {"schema": {"type": "string"}}}}},
    }}}


@secured
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 200, "headers": dict(HEADERS), "body": PAGE}


init_complete()
