// Referrers: the directory (GET /admin/referrers?q=&cursor=) and one referrer's page (GET /admin/referrers/{id}).

import { $, append, cents, clearErrors, el, facts, fieldError, fieldErrors, money, offerDownload, say, when, words } from "./dom.js";

// The printable flyer sizes (the API's FlyerSize), as the referrer's dashboard offers them.
const FLYERS = [["a4", "A4 poster"], ["a5", "A5 flyer"], ["dl", "DL flyer"], ["card", "Business card"], ["decal", "Van / window decal"]];

// A financial year's label as the statements' routes take it (docs/api.md "Yearly statements"): 2025-26 for
// July 2025 to June 2026, or 2025 when the year starts in January.
function yearLabel(first, startMonth) {
  return startMonth === 1 ? String(first) : `${first}-${String((first + 1) % 100).padStart(2, "0")}`;
}

/** The first calendar year of the financial year today is in, on the programme's clock. */
function currentFirstYear(startMonth, timeZone) {
  let parts;
  try {
    parts = new Intl.DateTimeFormat("en-US", { timeZone, year: "numeric", month: "numeric" }).formatToParts(new Date());
  } catch {
    parts = new Intl.DateTimeFormat("en-US", { timeZone: "UTC", year: "numeric", month: "numeric" }).formatToParts(new Date());
  }
  const part = (type) => Number(parts.find((p) => p.type === type).value);
  return part("month") >= startMonth ? part("year") : part("year") - 1;
}

function section(title, ...children) {
  return append(el("section", null, { class: "card" }), el("h2", title), ...children);
}

function table(caption, headings, rows) {
  if (!rows.length) return el("p", `No ${caption.toLowerCase()} yet.`, { class: "empty" });
  const head = el("tr");
  for (const title of headings) head.appendChild(el("th", title, { scope: "col" }));
  const body = el("tbody");
  for (const cells of rows) {
    const row = el("tr");
    for (const cell of cells) row.appendChild(cell instanceof Node ? append(el("td"), cell) : el("td", cell));
    body.appendChild(row);
  }
  // A wide table scrolls inside its box at 360 px: focusable and named, so the keyboard can scroll it.
  return append(el("div", null, { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption }),
    append(el("table"), el("caption", caption, { class: "meta" }), append(el("thead"), head), body));
}

export function wireReferrers({ session, openReferrer, openReferral }) {
  let cursor = null;
  let loads = 0; // only the latest load of the list renders (an older one may answer after it)
  let shown = null; // the referrer whose page is open

  // A printable flyer of any code (GET /admin/share-codes/{code}/flyer.pdf): a size, what its QR counts
  // scans as (the size's own by default; the placements are the "Where it will be shared" list's), then
  // fetched with the session like the QR image and offered as a download.
  function flyerPicker(code) {
    const id = `flyer-${code.code}`;
    const picker = el("div", null, { class: "flyer-picker", role: "group", "aria-label": `Flyer of ${code.code}` });
    const size = el("select", null, { id: `${id}-size` });
    for (const [value, label] of FLYERS) size.appendChild(el("option", label, { value }));
    const placement = el("select", null, { id: `${id}-placement` });
    placement.appendChild(el("option", "The size’s own", { value: "" }));
    for (const option of $("code-placement").options) placement.appendChild(el("option", option.textContent, { value: option.value }));
    const get = el("button", "Flyer (PDF)", { type: "button", class: "secondary", "aria-label": `Download a flyer of ${code.code}` });
    const link = el("a", null, { hidden: true, "data-flyer": code.code });
    get.addEventListener("click", async () => {
      const query = new URLSearchParams({ size: size.value });
      if (placement.value) query.set("placement", placement.value);
      const filename = `${code.code}-${size.value}.pdf`;
      try {
        offerDownload(link, await session.file(`/admin/share-codes/${encodeURIComponent(code.code)}/flyer.pdf?${query}`), filename);
      } catch (error) {
        say(`Could not make the flyer: ${error.message}`, { error: true });
      }
    });
    return append(picker, el("label", "Flyer size", { for: size.id }), size,
      el("label", "QR counts scans as", { for: placement.id }), placement, get, link);
  }

  // This and last financial year's statements (GET /admin/referrers/{id}/statements/{year}/statement.csv|pdf,
  // staff), fetched with the session like the flyer; the years follow the programme's statements rules.
  function statements(referrerId, rules) {
    const startMonth = Number(rules.year_start_month) || 7;
    const first = currentFirstYear(startMonth, rules.time_zone || "Australia/Sydney");
    const month = (m) => new Date(Date.UTC(2000, m - 1, 1)).toLocaleString(undefined, { month: "long", timeZone: "UTC" });
    const list = el("ul", null, { class: "statements", "aria-label": "Yearly statements, this year first" });
    for (const [heading, year] of [["This financial year", first], ["Last financial year", first - 1]]) {
      const label = yearLabel(year, startMonth);
      const period = startMonth === 1 ? `${year}` : `${month(startMonth)} ${year} – ${month(startMonth - 1)} ${year + 1}`;
      const item = el("li", null, { "data-year": label });
      const box = el("div", null, { class: "code-actions" });
      for (const suffix of ["csv", "pdf"]) {
        const get = el("button", suffix.toUpperCase(), { type: "button", class: "secondary", "aria-label": `Download the ${label} statement as ${suffix.toUpperCase()}` });
        const link = el("a", null, { hidden: true, "data-statement": suffix });
        get.addEventListener("click", async () => {
          const path = `/admin/referrers/${encodeURIComponent(referrerId)}/statements/${encodeURIComponent(label)}/statement.${suffix}`;
          try {
            offerDownload(link, await session.file(path), `statement-${label}.${suffix}`);
          } catch (error) {
            say(`Could not make the statement: ${error.message}`, { error: true });
          }
        });
        append(box, get, link);
      }
      list.appendChild(append(item, el("strong", `${heading}: ${label}`), el("span", ` (${period}, ${rules.time_zone || "Australia/Sydney"} time)`, { class: "meta" }), box));
    }
    return list;
  }

  function codeActions(code) {
    const box = el("div", null, { class: "code-actions" });
    const qr = el("button", "QR code (SVG)", { type: "button", class: "secondary", "aria-label": `Download the QR code of ${code.code}` });
    const link = el("a", null, { hidden: true });
    qr.addEventListener("click", async () => {
      try {
        offerDownload(link, await session.file(`/admin/share-codes/${encodeURIComponent(code.code)}/qr.svg`), `${code.code}.svg`);
      } catch (error) {
        say(`Could not make the QR code: ${error.message}`, { error: true });
      }
    });
    append(box, qr, link, flyerPicker(code));
    if (session.can("staff")) {
      const enable = code.status !== "active";
      const toggle = el("button", enable ? "Enable" : "Disable", { type: "button", class: "secondary", "aria-label": `${enable ? "Enable" : "Disable"} ${code.code}` });
      toggle.addEventListener("click", async () => {
        try {
          await session.api("POST", `/admin/share-codes/${encodeURIComponent(code.code)}/${enable ? "enable" : "disable"}`);
        } catch (error) {
          say(`Could not change the code: ${error.message}`, { error: true });
          return;
        }
        await open(shown);
        say(`${code.code} is ${enable ? "active" : "disabled"}.`);
      });
      box.appendChild(toggle);
    }
    return box;
  }

  function row(item) {
    const li = el("li", null, { "data-referrer-id": item.referrer_id });
    const open = el("button", "Open", { type: "button", class: "secondary", "aria-label": `Open ${item.name || item.referrer_id}` });
    open.addEventListener("click", () => openReferrer(item.referrer_id));
    const status = item.status || "active";
    return append(li,
      append(el("div", null, { class: "row-head" }), el("strong", item.name || "—"),
        el("span", words(status), { class: `chip ${status === "active" ? "ok" : "high"}` })),
      el("p", [item.email, item.personal_code ? `code ${item.personal_code}` : ""].filter(Boolean).join(" · "), { class: "meta" }),
      open);
  }

  async function load({ more = false } = {}) {
    loads += 1;
    const mine = loads;
    if (!more) cursor = null;
    const params = new URLSearchParams({ limit: "25" });
    const q = $("referrers-q").value.trim();
    if (q) params.set("q", q);
    if (cursor) params.set("cursor", cursor);
    say("Loading the referrers…");
    try {
      const page = await session.api("GET", `/admin/referrers?${params}`);
      if (mine !== loads || $("view-referrers").hidden) return; // a newer load renders, or another screen is open
      const list = $("referrers-list");
      if (!more) list.replaceChildren();
      for (const item of page.items) list.appendChild(row(item));
      if (!list.childElementCount) list.appendChild(el("li", q ? "Nobody matches that search." : "No referrers yet.", { class: "empty" }));
      cursor = page.next_cursor;
      $("referrers-more").hidden = !cursor;
      say(`${list.querySelectorAll("li[data-referrer-id]").length} referrer(s) shown${cursor ? "; more below" : ""}.`);
    } catch (error) {
      if (error.fields && error.fields.q) fieldError("referrers-q", error.fields.q);
      say(`Could not load the referrers: ${error.message}`, { error: true });
    }
  }

  async function open(referrerId) {
    shown = referrerId;
    say("Loading the referrer…");
    let found;
    let program; // the statements' year and clock (null: the defaults)
    try {
      [found, program] = await Promise.all([session.api("GET", `/admin/referrers/${encodeURIComponent(referrerId)}`),
        session.can("staff") ? session.api("GET", "/admin/program").catch(() => null) : null]);
    } catch (error) {
      say(`Could not load the referrer: ${error.message}`, { error: true });
      return;
    }
    const who = found.referrer;
    const balance = found.balance || {};
    const currency = balance.currency || (found.withdrawals[0] || {}).currency;
    $("referrer-title").textContent = who.name || who.referrer_id;
    const referrals = found.referrals.map((r) => {
      const link = el("a", r.masked_name || r.lead_id, { href: `#referral/${encodeURIComponent(r.lead_id)}` });
      link.addEventListener("click", (event) => { event.preventDefault(); openReferral(r.lead_id); });
      return [link, words(r.stage), when(r.created_at)];
    });
    $("referrer-body").replaceChildren(
      section("Details", facts([
        ["Status", words(who.status || "active")], ["Type", words(who.referrer_type) || "none (the general rules)"], ["Email", who.email], ["Phone", found.profile.phone],
        ["Referrer id", who.referrer_id], ["Link", found.profile.link], ["Joined", when(who.created_at)],
        ["Emails", found.profile.notifications_opt_out ? "opted out of stage emails" : ""],
      ])),
      section("Balance", facts([
        ["Available", money(balance.available_cents, currency)], ["Pending", money(balance.pending_cents, currency)],
        ["In withdrawals", money(balance.held_cents, currency)], ["Paid", money(balance.paid_cents, currency)],
      ])),
      section("Share codes", table("Share codes", ["Code", "Placement", "Status", "Uses", ""],
        found.share_codes.map((c) => [c.code, words(c.placement) || (c.personal ? "personal" : ""), words(c.status),
          `${c.uses ?? 0}${c.max_uses ? ` of ${c.max_uses}` : ""}`, codeActions(c)]))),
      section("Referrals", table("Referrals, newest first", ["Customer", "Stage", "Received"], referrals),
        found.more_referrals ? el("p", "Older referrals are not shown.", { class: "meta" }) : null),
      section("Ledger", table("Ledger entries, newest first", ["When", "Entry", "Amount"],
        found.ledger.map((e) => [when(e.at || e.created_at), words(e.kind), money(e.amount_cents, e.currency || currency)]))),
      section("Withdrawals", table("Withdrawals, newest first", ["Requested", "Amount", "Status", "Reference"],
        found.withdrawals.map((w) => [when(w.created_at), money(w.amount_cents, w.currency), words(w.status), w.payout_reference || ""]))),
      ...(session.can("staff") ? [section("Statements", statements(who.referrer_id, (program && program.rules.statements) || {}))] : []),
    );
    showStatusForm(who.status || "active");
    $("referrer-type").hidden = who.status === "erased" || !session.can("staff");
    $("type-select").value = who.referrer_type || "";
    say("");
    $("referrer-title").focus();
  }

  // Suspend an active referrer, reactivate a suspended one (POST .../suspend | .../reactivate, a note each);
  // an erased referrer has neither.
  function showStatusForm(status) {
    const suspended = status === "suspended";
    $("referrer-status").hidden = status === "erased" || !session.can("staff");
    $("referrer-status").dataset.action = suspended ? "reactivate" : "suspend";
    $("referrer-status-title").textContent = suspended ? "Reactivate this referrer" : "Suspend this referrer";
    $("referrer-status-hint").textContent = suspended
      ? "Active again: they can sign in and their codes credit them again."
      : "Suspended: signed out, their codes no longer credit them, no new codes. Reactivate any time.";
    $("status-submit").textContent = suspended ? "Reactivate" : "Suspend";
  }

  $("referrers-search").addEventListener("submit", (event) => {
    event.preventDefault();
    clearErrors(event.currentTarget);
    load();
  });
  $("referrers-more").addEventListener("click", () => load({ more: true }));

  $("referrer-add").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    clearErrors(form);
    const body = { name: $("add-name").value.trim(), email: $("add-email").value.trim() };
    if (!body.name) return fieldError("add-name", "Enter their name.");
    if (!body.email) return fieldError("add-email", "Enter their email address: the welcome email goes there.");
    if ($("add-phone").value.trim()) body.phone = $("add-phone").value.trim();
    if ($("add-type").value) body.referrer_type = $("add-type").value;
    let created;
    try {
      created = await session.api("POST", "/admin/referrers", body);
    } catch (error) {
      if (!fieldErrors(error, { name: "add-name", email: "add-email", phone: "add-phone", referrer_type: "add-type" })) say(`Could not add them: ${error.message}`, { error: true });
      return;
    }
    form.reset();
    openReferrer(created.referrer_id, `${body.name} is added with code ${created.code}; the welcome email is on its way.`);
  });

  $("adjust-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    clearErrors(form);
    const text = $("adjust-amount").value.trim().replace("−", "-");
    const negative = text.startsWith("-");
    const amount = cents(negative ? text.slice(1) : text);
    if (amount === null || amount === 0) return fieldError("adjust-amount", "An amount like 15.00, or -5.00 for a correction.");
    const reason = $("adjust-reason").value.trim();
    if (reason.length < 3) return fieldError("adjust-reason", "Say why: it is kept with the entry.");
    let posted;
    // One id per adjustment the user means: a resend after a lost answer posts nothing twice.
    form.dataset.adjustmentId = form.dataset.adjustmentId || crypto.randomUUID();
    try {
      posted = await session.api("POST", `/admin/referrers/${encodeURIComponent(shown)}/adjustments`,
        { amount_cents: negative ? -amount : amount, reason, adjustment_id: form.dataset.adjustmentId });
    } catch (error) {
      if (error.fields && error.fields.adjustment_id) { // an earlier send of this one got through
        form.reset();
        delete form.dataset.adjustmentId;
        await open(shown);
        say("This adjustment was already posted.");
        return;
      }
      if (!fieldErrors(error, { amount_cents: "adjust-amount", reason: "adjust-reason" })) say(`Could not post it: ${error.message}`, { error: true });
      return;
    }
    form.reset();
    delete form.dataset.adjustmentId;
    await open(shown);
    say(`Adjustment posted: available balance now ${money(posted.available_cents)}.`);
  });

  // The referrer's type (PATCH /admin/referrers/{id}, a note each): picks the programme's rules.by_type.
  $("referrer-type").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    clearErrors(form);
    const note = $("type-note").value.trim();
    if (!note) return fieldError("type-note", "Say why: it is kept in the audit trail.");
    let changed;
    try {
      changed = await session.api("PATCH", `/admin/referrers/${encodeURIComponent(shown)}`,
        { referrer_type: $("type-select").value || null, note });
    } catch (error) {
      if (!fieldErrors(error, { note: "type-note", referrer_type: "type-select" })) say(`Could not change their type: ${error.message}`, { error: true });
      return;
    }
    form.reset();
    await open(shown);
    say(`Type set: ${words(changed.referrer_type) || "none"}.`);
  });

  $("referrer-status").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    clearErrors(form);
    const note = $("status-note").value.trim();
    if (!note) return fieldError("status-note", "Say why: it is kept in the audit trail.");
    const action = form.dataset.action || "suspend";
    let changed;
    try {
      changed = await session.api("POST", `/admin/referrers/${encodeURIComponent(shown)}/${action}`, { note });
    } catch (error) {
      if (!fieldErrors(error, { note: "status-note" })) say(`Could not change their status: ${error.message}`, { error: true });
      return;
    }
    form.reset();
    await open(shown);
    say(`${action === "suspend" ? "Suspended" : "Reactivated"}: ${changed.share_codes_updated} share code(s) updated.`);
  });

  $("code-add").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    clearErrors(form);
    const body = { visibility: "public", placement: $("code-placement").value };
    const custom = $("code-custom").value.trim();
    if (custom) {
      if (!/^[A-Za-z0-9-]{4,20}$/.test(custom)) return fieldError("code-custom", "4 to 20 letters, digits or “-”.");
      body.code = custom;
    }
    const zones = $("code-zones").value.split(",").map((z) => z.trim()).filter(Boolean);
    if (zones.length) body.zones = zones;
    if ($("code-expires").value) body.expires_at = `${$("code-expires").value}T23:59:59Z`;
    if ($("code-max").value) {
      const max = Number($("code-max").value);
      if (!Number.isInteger(max) || max < 1) return fieldError("code-max", "A whole number, 1 or more.");
      body.max_uses = max;
    }
    let created;
    try {
      created = await session.api("POST", `/admin/referrers/${encodeURIComponent(shown)}/share-codes`, body);
    } catch (error) {
      const ids = { code: "code-custom", zones: "code-zones", expires_at: "code-expires", max_uses: "code-max", placement: "code-placement" };
      if (!fieldErrors(error, ids)) say(`Could not create the code: ${error.message}`, { error: true });
      return;
    }
    form.reset();
    await open(shown);
    say(`Code ${created.code} created: ${created.url}`);
  });
  return { load, open };
}
