// The evidence card of one referral (GET /admin/referrals/{id}) and the decision form
// (POST /admin/referrals/{id}/decisions with the referral's version: a 409 means someone decided first).

import { $, append, clearErrors, el, facts, fieldError, money, say, when, words } from "./dom.js";

export const FLAG_TEXT = {
  duplicate_contact: { title: "Duplicate contact", text: "Another lead or referrer has the same email or phone number. It may be the same person referred twice." },
  self_referral: { title: "Self-referral", text: "The customer's contact details match the referrer's own: they may have referred themselves." },
  existing_customer: { title: "Existing customer", text: "This customer was already known before the referral, so the referral may not have brought them." },
  velocity: { title: "Many referrals quickly", text: "This code or referrer sent an unusual number of leads in a short time." },
  zone_mismatch: { title: "Outside the code's area", text: "The customer's postcode is outside the zones this share code was made for." },
  unclear_source: { title: "Unclear source", text: "The evidence does not show clearly which referrer (if any) the customer came from: pick one or none." },
  missing_job_link: { title: "No job linked", text: "No job in the job system has been linked to this lead within the expected time." },
  refund_hold: { title: "Refunded", text: "The job was refunded, so the reward is on hold or reversed." },
};

const SOURCE_TEXT = {
  link: "the referral link (a click with the code)",
  qr: "a QR code scan",
  code: "the share code typed in",
  staff: "a staff member's attribution",
  referrer: "the referrer submitting the job",
};

/** A stored value (a flag's evidence, an attribution reason) as one readable line. */
function describe(value) {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return value.map(describe).join(", ");
  if (typeof value === "object") return Object.entries(value).map(([k, v]) => `${words(k)}: ${describe(v)}`).join("; ");
  return words(String(value));
}

function section(title, ...children) {
  return append(el("section", null, { class: "card" }), el("h2", title), ...children);
}

function empty(text) {
  return el("p", text, { class: "empty" });
}

function sourceChain(evidence) {
  const referral = evidence.referral || {};
  const lead = evidence.lead || {};
  const attribution = referral.attribution || {};
  const won = referral.source ? `Won by ${SOURCE_TEXT[referral.source] || words(referral.source)}.` : "No referral source recorded.";
  const steps = el("ol", null, { class: "timeline", "aria-label": "The evidence, and which won" });
  if (evidence.click) steps.appendChild(el("li", `Click on ${when(evidence.click.created_at || evidence.click.at)} with code ${evidence.click.code || referral.code || ""}`));
  if (lead.ref || referral.code) steps.appendChild(el("li", `Lead arrived with code ${lead.ref || referral.code}${lead.created_at ? ` on ${when(lead.created_at)}` : ""}`));
  if (lead.referred_by) steps.appendChild(el("li", `The customer wrote they were referred by “${lead.referred_by}” (a claim, never attributed by itself)`));
  for (const item of attribution.evidence || []) {
    const verdict = item.accepted ? "won" : "not used";
    steps.appendChild(el("li", `${words(item.source)}${item.value ? ` ${item.value}` : ""}: ${verdict}${item.reason ? ` — ${words(item.reason)}` : ""}`));
  }
  if (attribution.outcome || attribution.reason) steps.appendChild(el("li", `Outcome: ${words(attribution.outcome)}${attribution.reason ? ` (${words(attribution.reason)})` : ""}${attribution.decided_at ? `, ${when(attribution.decided_at)}` : ""}`));
  const code = evidence.share_code;
  return section("Where it came from",
    el("p", won),
    facts([
      ["Referrer", evidence.referrer ? `${evidence.referrer.name || ""} (${evidence.referrer.referrer_id || referral.referrer_id})` : referral.referrer_id || "none"],
      ["Referrer status", evidence.referrer ? words(evidence.referrer.status || "active") : ""],
      ["Code", referral.code || lead.ref],
      ["Placement", code && code.placement ? words(code.placement) : ""],
      ["Outcome", words(referral.attribution_outcome)],
    ]),
    steps.childElementCount ? steps : null);
}

function flags(evidence) {
  const list = evidence.flags || [];
  if (!list.length) return section("Flags", empty("No flags were raised."));
  return section("Flags", ...list.map((flag) => {
    const text = FLAG_TEXT[flag.flag_type] || { title: words(flag.flag_type), text: "" };
    return append(el("div", null, { class: `flag ${flag.severity || ""}` }),
      el("h3", `${text.title}${flag.severity ? ` — ${flag.severity}` : ""}${flag.status ? ` (${flag.status})` : ""}`),
      el("p", text.text),
      flag.evidence ? el("p", `What was found: ${describe(flag.evidence)}`, { class: "meta" }) : null);
  }));
}

function jobTimeline(evidence) {
  const events = [...(evidence.job_events || [])].sort((a, b) => String(a.occurred_at || a.created_at).localeCompare(String(b.occurred_at || b.created_at)));
  if (!evidence.job && !events.length) return section("Job", empty("No job linked yet."));
  const job = evidence.job || {};
  const steps = el("ol", null, { class: "timeline", "aria-label": "Job events, oldest first" });
  for (const event of events) {
    const kind = words(String(event.event_type || event.kind || event.type_name || "").replace(/^job\./, ""));
    const amount = event.amount_cents !== undefined ? ` · ${money(event.amount_cents, event.currency)}` : "";
    steps.appendChild(el("li", `${kind || "event"} — ${when(event.occurred_at || event.created_at)}${amount}`));
  }
  return section("Job",
    facts([["Job", job.job_id], ["Status", words(job.status)], ["Amount", job.amount_cents !== undefined ? money(job.amount_cents, job.currency) : ""]]),
    steps.childElementCount ? steps : empty("No job events yet."));
}

function reward(evidence) {
  const item = evidence.reward;
  const ledger = evidence.ledger || [];
  const parts = [];
  parts.push(item ? facts([
    ["State", words(item.state)], ["Amount", money(item.amount_cents, item.currency)],
    ["Releases", when(item.release_at)], ["Tier", item.tier],
  ]) : empty("No reward yet."));
  if (ledger.length) {
    const table = el("table");
    append(table, el("caption", "Ledger entries for this job", { class: "meta" }));
    const head = el("tr");
    for (const title of ["When", "Entry", "Amount"]) head.appendChild(el("th", title, { scope: "col" }));
    append(table, append(el("thead"), head));
    const body = el("tbody");
    for (const entry of ledger) {
      append(body, append(el("tr"), el("td", when(entry.created_at)), el("td", words(entry.kind || entry.entry_type || entry.reason)),
        el("td", money(entry.amount_cents, entry.currency))));
    }
    parts.push(append(el("div", null, { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Ledger entries" }),
      append(table, body)));
  }
  return section("Reward", ...parts);
}

function history(evidence) {
  const notes = new Map((evidence.notes || []).map((n) => [n.note_id, n]));
  const used = new Set();
  const entries = (evidence.decisions || []).map((d) => {
    used.add(d.note_id);
    const moved = d.from_status && d.to_status ? ` (${words(d.from_status)} → ${words(d.to_status)})` : "";
    return { at: d.at, text: `${words(d.decision)} by ${d.actor || "staff"}${moved}`, note: (notes.get(d.note_id) || {}).text };
  });
  for (const note of evidence.notes || []) {
    if (!used.has(note.note_id)) entries.push({ at: note.at, text: `Note by ${note.actor || "staff"}${note.context ? ` (${words(note.context)})` : ""}`, note: note.text });
  }
  entries.sort((a, b) => String(b.at).localeCompare(String(a.at)));
  if (!entries.length) return section("Notes and decisions", empty("No notes or decisions yet."));
  const list = el("ol", null, { class: "timeline", "aria-label": "Newest first" });
  for (const entry of entries) {
    list.appendChild(append(el("li"), el("strong", entry.text), el("span", ` — ${when(entry.at)}`, { class: "meta" }),
      entry.note ? el("p", entry.note) : null));
  }
  return section("Notes and decisions", list);
}

export function wireEvidence({ session, backToQueue }) {
  let current = null;

  async function open(leadId) {
    say("Loading the evidence…");
    $("decide-conflict").hidden = true;
    try {
      current = await session.api("GET", `/admin/referrals/${encodeURIComponent(leadId)}`);
    } catch (error) {
      say(`Could not load the evidence: ${error.message}`, { error: true });
      return false;
    }
    const referral = current.referral || {};
    $("referral-title").textContent = `Referral of ${referral.masked_name || (current.lead || {}).masked_name || "a customer"}`;
    const summary = section("Summary", facts([
      ["Referral id", current.lead_id], ["Stage", words(referral.stage)], ["Review", words(referral.review_status)],
      ["Received", when(referral.created_at || (current.lead || {}).created_at)], ["Version", String(referral.version || 0)],
    ]));
    $("referral-body").replaceChildren(summary, sourceChain(current), flags(current), jobTimeline(current), reward(current), history(current));
    $("decide-form").hidden = !session.can("staff") || !current.referral;
    say("");
    $("referral-title").focus();
    return true;
  }

  $("decide-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    clearErrors(form);
    $("decide-conflict").hidden = true;
    const note = $("decide-note").value.trim();
    if (!note) return fieldError("decide-note", "Write why: every decision needs a note.");
    const decision = form.querySelector("input[name=decision]:checked").value;
    try {
      await session.api("POST", `/admin/referrals/${encodeURIComponent(current.lead_id)}/decisions`,
        { decision, note, expected_version: Number((current.referral || {}).version || 0) });
    } catch (error) {
      if (error.status === 409) {
        $("decide-conflict").hidden = false;
        $("decide-reload").focus();
      } else if (error.fields && error.fields.note) {
        fieldError("decide-note", error.fields.note);
      } else {
        say(`Could not record the decision: ${error.message}`, { error: true });
      }
      return;
    }
    $("decide-note").value = "";
    await open(current.lead_id);
    say(`Decision recorded: ${words(decision)}.`);
  });
  $("decide-reload").addEventListener("click", () => open(current.lead_id));
  return { open, backToQueue };
}
