// Referrers: the directory (GET /admin/referrers?q=&cursor=) and one referrer's page (GET /admin/referrers/{id}).

import { $, append, clearErrors, el, facts, fieldError, money, say, when, words } from "./dom.js";

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
    if (!more) cursor = null;
    const params = new URLSearchParams({ limit: "25" });
    const q = $("referrers-q").value.trim();
    if (q) params.set("q", q);
    if (cursor) params.set("cursor", cursor);
    say("Loading the referrers…");
    try {
      const page = await session.api("GET", `/admin/referrers?${params}`);
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
    say("Loading the referrer…");
    let found;
    try {
      found = await session.api("GET", `/admin/referrers/${encodeURIComponent(referrerId)}`);
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
        ["Status", words(who.status || "active")], ["Email", who.email], ["Phone", found.profile.phone],
        ["Referrer id", who.referrer_id], ["Link", found.profile.link], ["Joined", when(who.created_at)],
        ["Emails", found.profile.notifications_opt_out ? "opted out of stage emails" : ""],
      ])),
      section("Balance", facts([
        ["Available", money(balance.available_cents, currency)], ["Pending", money(balance.pending_cents, currency)],
        ["In withdrawals", money(balance.held_cents, currency)], ["Paid", money(balance.paid_cents, currency)],
      ])),
      section("Share codes", table("Share codes", ["Code", "Placement", "Status", "Uses"],
        found.share_codes.map((c) => [c.code, words(c.placement) || (c.personal ? "personal" : ""), words(c.status), String(c.uses ?? 0)]))),
      section("Referrals", table("Referrals, newest first", ["Customer", "Stage", "Received"], referrals),
        found.more_referrals ? el("p", "Older referrals are not shown.", { class: "meta" }) : null),
      section("Ledger", table("Ledger entries, newest first", ["When", "Entry", "Amount"],
        found.ledger.map((e) => [when(e.at || e.created_at), words(e.kind), money(e.amount_cents, e.currency || currency)]))),
      section("Withdrawals", table("Withdrawals, newest first", ["Requested", "Amount", "Status", "Reference"],
        found.withdrawals.map((w) => [when(w.created_at), money(w.amount_cents, w.currency), words(w.status), w.payout_reference || ""]))),
    );
    say("");
    $("referrer-title").focus();
  }

  $("referrers-search").addEventListener("submit", (event) => {
    event.preventDefault();
    clearErrors(event.currentTarget);
    load();
  });
  $("referrers-more").addEventListener("click", () => load({ more: true }));
  return { load, open };
}
