// Withdrawals: the ones to pay (GET /admin/withdrawals?status=), record paid with the payout reference
// (POST .../paid) or reject with a reason (POST .../rejected). Staff pay by hand, outside this system.

import { $, append, el, money, say, when, words } from "./dom.js";

let formCount = 0;

function field(labelText, attrs) {
  const id = `wd-field-${(formCount += 1)}`;
  const input = el(attrs.tag || "input", null, { id, ...attrs, tag: undefined, "aria-describedby": `${id}-error` });
  return { id, input, nodes: [el("label", labelText, { for: id }), input, el("p", null, { id: `${id}-error`, class: "field-error" })] };
}

function showError(part, message) {
  $(`${part.id}-error`).textContent = message;
  part.input.setAttribute("aria-invalid", "true");
  part.input.focus();
}

export function wireWithdrawals({ session, openReferrer }) {
  let cursor = null;
  let loads = 0; // only the latest load of the list renders (an older one may answer after it)

  function decideForms(item, li) {
    const reference = field("Payout reference (bank transfer id, receipt…)", { name: "payout_reference", maxlength: "120", autocomplete: "off" });
    const note = field("Note (optional)", { name: "note", maxlength: "2000", autocomplete: "off" });
    const paid = append(el("form", null, { class: "inline-form", novalidate: true, "aria-label": "Record as paid" }),
      ...reference.nodes, ...note.nodes, el("button", "Record as paid", { type: "submit" }));
    const reason = field("Reason for rejecting (the referrer sees it)", { tag: "textarea", name: "note", rows: "2", maxlength: "1000" });
    const reject = append(el("form", null, { class: "inline-form", novalidate: true, "aria-label": "Reject" }),
      ...reason.nodes, el("button", "Reject", { type: "submit", class: "secondary" }));

    async function send(path, body, part) {
      try {
        await session.api("POST", `/admin/withdrawals/${encodeURIComponent(item.withdrawal_id)}/${path}`, body);
      } catch (error) {
        const fieldMessage = error.fields && (error.fields[part.input.name] || error.fields.note);
        if (fieldMessage) showError(part, fieldMessage);
        else say(`Could not save it: ${error.message}`, { error: true });
        return;
      }
      li.remove();
      say(path === "paid" ? `Recorded as paid: ${money(item.amount_cents, item.currency)}.` : "Withdrawal rejected: the amount is back in the referrer's balance.");
      $("withdrawals-title").focus();
    }
    paid.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = reference.input.value.trim();
      if (!value) return showError(reference, "Enter the reference of the payment you made.");
      send("paid", { payout_reference: value, note: note.input.value.trim() }, reference);
    });
    reject.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = reason.input.value.trim();
      if (!value) return showError(reason, "Say why: the referrer is told.");
      send("rejected", { note: value }, reason);
    });
    return [paid, reject];
  }

  function row(item) {
    const li = el("li", null, { "data-withdrawal-id": item.withdrawal_id });
    const who = el("a", `Referrer ${item.referrer_id}`, { href: `#referrer/${encodeURIComponent(item.referrer_id)}` });
    who.addEventListener("click", (event) => { event.preventDefault(); openReferrer(item.referrer_id); });
    append(li,
      append(el("div", null, { class: "row-head" }), el("strong", money(item.amount_cents, item.currency)),
        el("span", `requested ${when(item.created_at)}`, { class: "meta" })),
      append(el("p", null, { class: "meta" }), who),
      item.status !== "requested" ? el("p", `${words(item.status)} ${when(item.decided_at)} by ${item.decided_by || "staff"}${item.payout_reference ? ` · reference ${item.payout_reference}` : ""}${item.note ? ` · ${item.note}` : ""}`, { class: "meta" }) : null);
    if (item.status === "requested" && session.can("staff")) append(li, ...decideForms(item, li));
    return li;
  }

  async function load({ more = false } = {}) {
    loads += 1;
    const mine = loads;
    if (!more) cursor = null;
    const params = new URLSearchParams({ status: $("withdrawals-status").value, limit: "25" });
    if (cursor) params.set("cursor", cursor);
    say("Loading the withdrawals…");
    try {
      const page = await session.api("GET", `/admin/withdrawals?${params}`);
      if (mine !== loads || $("view-withdrawals").hidden) return; // a newer load renders, or another screen is open
      const list = $("withdrawals-list");
      if (!more) list.replaceChildren();
      for (const item of page.items) list.appendChild(row(item));
      if (!list.childElementCount) list.appendChild(el("li", "No withdrawals here.", { class: "empty" }));
      cursor = page.next_cursor;
      $("withdrawals-more").hidden = !cursor;
      say(`${list.querySelectorAll("li[data-withdrawal-id]").length} withdrawal(s) shown.`);
    } catch (error) {
      say(`Could not load the withdrawals: ${error.message}`, { error: true });
    }
  }

  $("withdrawals-filter").addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  $("withdrawals-more").addEventListener("click", () => load({ more: true }));
  return { load };
}
