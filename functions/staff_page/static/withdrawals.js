// Withdrawals: the ones to pay (GET /admin/withdrawals?status=), record paid with the payout reference
// (POST .../paid) or reject with a reason (POST .../rejected). Staff pay by hand, outside this system.
// A withdrawal on hold (a refunded job's reward was clawed back: docs/rewards.md) shows why; rejecting it is
// the usual outcome, paying it anyway needs a note (sent with override_hold, audited).
// Where to pay it shows masked (the method on file when it was requested); a staff member paying it reveals
// the full details (POST .../payout-details/reveal, audited), shown in the row until the list reloads.
// Payout batch: staff tick requested withdrawals to bank accounts, create one batch (POST /admin/payout-batches),
// download its ABA file or CSV (audited), then mark the whole batch paid with the bank's reference.

import { $, append, el, money, offerDownload, say, when, words } from "./dom.js";

let formCount = 0;

const HOLD_REASONS = { reward_clawed_back: "a refunded job's reward was clawed back" };

function holdText(item) {
  const reason = HOLD_REASONS[item.hold_reason] || words(item.hold_reason || "on hold");
  const jobs = (item.hold_jobs || []).length ? ` (job ${item.hold_jobs.join(", ")})` : "";
  const cents = item.hold_cents ? `: ${money(item.hold_cents, item.currency)} of it no longer covered` : "";
  return `On hold since ${when(item.held_at)}: ${reason}${jobs}${cents}. Reject it to return the amount, or pay it anyway with a note.`;
}

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

const DETAIL_LABELS = [["bsb", "BSB"], ["account_number", "Account number"], ["account_name", "Account name"],
  ["payid_kind", "PayID type"], ["payid_value", "PayID"], ["paypal_email", "PayPal email"]];

function payoutLine(item, open) {
  if (item.payout_method) return el("p", `Pay to: ${item.payout_method.display}`, { class: "meta payout" });
  return open ? el("p", "No payout method on file when it was requested: ask the referrer to add one on their dashboard.", { class: "meta payout" }) : null;
}

export function wireWithdrawals({ session, openReferrer }) {
  let cursor = null;
  let loads = 0; // only the latest load of the list renders (an older one may answer after it)

  function decideForms(item, li) {
    const held = item.status === "on_hold";
    const reference = field("Payout reference (bank transfer id, receipt…)", { name: "payout_reference", maxlength: "120", autocomplete: "off" });
    const note = field(held ? "Note (required: why pay it despite the hold)" : "Note (optional)", { name: "note", maxlength: "2000", autocomplete: "off" });
    const paidLabel = held ? "Pay anyway" : "Record as paid";
    const paid = append(el("form", null, { class: "inline-form", novalidate: true, "aria-label": paidLabel }),
      ...reference.nodes, ...note.nodes, el("button", paidLabel, { type: "submit", class: held ? "secondary" : undefined }));
    const reason = field("Reason for rejecting (the referrer sees it)", { tag: "textarea", name: "note", rows: "2", maxlength: "1000" });
    const reject = append(el("form", null, { class: "inline-form", novalidate: true, "aria-label": "Reject" }),
      ...reason.nodes, el("button", "Reject", { type: "submit", class: "secondary" }));

    async function send(path, body, part) {
      try {
        await session.api("POST", `/admin/withdrawals/${encodeURIComponent(item.withdrawal_id)}/${path}`, body);
      } catch (error) {
        const fields = error.fields || {};
        if (path === "paid" && (fields.note || fields.override_hold) && !fields[part.input.name]) {
          showError(note, fields.note || `It is on hold (${fields.override_hold}): reload the list.`);
          return;
        }
        const fieldMessage = fields[part.input.name] || fields.note;
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
      const text = note.input.value.trim();
      if (held && !text) return showError(note, "Say why you pay it despite the hold: it is kept in the audit trail.");
      send("paid", held ? { payout_reference: value, note: text, override_hold: true } : { payout_reference: value, note: text }, reference);
    });
    reject.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = reason.input.value.trim();
      if (!value) return showError(reason, "Say why: the referrer is told.");
      send("rejected", { note: value }, reason);
    });
    return [paid, reject];
  }

  function revealButton(item) {
    const button = el("button", "Show the payout details", { type: "button", class: "secondary" });
    button.addEventListener("click", async () => {
      let details;
      try {
        details = await session.api("POST", `/admin/withdrawals/${encodeURIComponent(item.withdrawal_id)}/payout-details/reveal`);
      } catch (error) {
        say(`Could not show them: ${error.message}`, { error: true });
        return;
      }
      const facts = el("dl", null, { class: "facts payout-details" });
      for (const [name, label] of DETAIL_LABELS) {
        if (details[name]) append(facts, el("dt", label), el("dd", details[name]));
      }
      button.replaceWith(facts);
      say("Payout details shown: this is recorded in the audit trail.");
    });
    return button;
  }

  function row(item) {
    const li = el("li", null, { "data-withdrawal-id": item.withdrawal_id });
    const who = el("a", `Referrer ${item.referrer_id}`, { href: `#referrer/${encodeURIComponent(item.referrer_id)}` });
    who.addEventListener("click", (event) => { event.preventDefault(); openReferrer(item.referrer_id); });
    append(li,
      append(el("div", null, { class: "row-head" }), el("strong", money(item.amount_cents, item.currency)),
        el("span", `requested ${when(item.created_at)}`, { class: "meta" })),
      append(el("p", null, { class: "meta" }), who),
      payoutLine(item, ["requested", "on_hold"].includes(item.status)),
      item.status === "on_hold" ? el("p", holdText(item), { class: "meta hold" }) : null,
      !["requested", "on_hold"].includes(item.status) ? el("p", `${words(item.status)} ${when(item.decided_at)} by ${item.decided_by || "staff"}${item.payout_reference ? ` · reference ${item.payout_reference}` : ""}${item.note ? ` · ${item.note}` : ""}`, { class: "meta" }) : null);
    if (item.status === "requested" && session.can("staff") && (item.payout_method || {}).type === "bank_account") {
      const id = `wd-batch-${item.withdrawal_id}`;
      append(li, append(el("label", null, { class: "choice", for: id }),
        el("input", null, { id, type: "checkbox", class: "batch-pick", value: item.withdrawal_id }), el("span", " Add to a payout batch")));
    }
    if (["requested", "on_hold"].includes(item.status) && session.can("staff")) {
      if (item.payout_method) append(li, revealButton(item));
      append(li, ...decideForms(item, li));
    }
    return li;
  }

  function batchRow(batch) {
    const li = el("li", null, { "data-batch-id": batch.batch_id });
    append(li, append(el("div", null, { class: "row-head" }), el("strong", money(batch.total_cents, batch.currency)),
      el("span", `${batch.count} withdrawal(s) · created ${when(batch.created_at)} by ${batch.created_by}`, { class: "meta" })));
    if (batch.status === "paid") {
      append(li, el("p", `Paid ${when(batch.paid_at)} · reference ${batch.payout_reference}`, { class: "meta" }));
      return li;
    }
    const link = el("a", null, { class: "download", hidden: true });
    const download = (suffix) => {
      const button = el("button", `Download the ${suffix.toUpperCase()} file`, { type: "button", class: "secondary" });
      button.addEventListener("click", async () => {
        try {
          const blob = await session.file(`/admin/payout-batches/${encodeURIComponent(batch.batch_id)}/file.${suffix}`);
          offerDownload(link, blob, `payout-batch-${batch.batch_id}.${suffix}`);
          say(`The ${suffix.toUpperCase()} file is ready: its download is recorded in the audit trail.`);
        } catch (error) {
          const missing = Object.keys(error.fields || {}).filter((f) => f.startsWith("payout_file."));
          say(missing.length ? `Set the bank file settings on the Programme screen first (${missing.map((f) => words(f.slice(12))).join(", ")}).`
            : `Could not download it: ${error.message}`, { error: true });
        }
      });
      return button;
    };
    const reference = field("The bank's reference for the bulk payment", { name: "payout_reference", maxlength: "120", autocomplete: "off" });
    const form = append(el("form", null, { class: "inline-form", novalidate: true, "aria-label": "Mark the batch paid" }),
      ...reference.nodes, el("button", "Mark the batch paid", { type: "submit" }));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const value = reference.input.value.trim();
      if (!value) return showError(reference, "Enter the bank's reference of the payment.");
      try {
        const paid = await session.api("POST", `/admin/payout-batches/${encodeURIComponent(batch.batch_id)}/paid`, { payout_reference: value });
        li.replaceWith(batchRow(paid));
        await load(); // the paid withdrawals leave the list to pay
        say(`Batch paid: ${paid.count} withdrawal(s), ${money(paid.total_cents, paid.currency)}.`);
      } catch (error) {
        const fields = error.fields || {};
        if (fields.payout_reference) showError(reference, fields.payout_reference);
        else say(`Could not mark it paid: ${error.message}`, { error: true });
      }
    });
    append(li, el("p", "Open: not paid yet.", { class: "meta" }), download("aba"), download("csv"), link, form);
    return li;
  }

  async function loadBatches() {
    if (!session.can("staff")) return;
    $("batch-panel").hidden = false;
    try {
      const page = await session.api("GET", "/admin/payout-batches?limit=10");
      const list = $("batch-list");
      list.replaceChildren(...page.items.map(batchRow));
      if (!list.childElementCount) list.appendChild(el("li", "No payout batches yet.", { class: "empty" }));
    } catch (error) {
      say(`Could not load the payout batches: ${error.message}`, { error: true });
    }
  }

  $("batch-create").addEventListener("click", async () => {
    const ids = [...$("withdrawals-list").querySelectorAll("input.batch-pick:checked")].map((box) => box.value);
    if (!ids.length) {
      say("Tick the withdrawals to put in the batch first.", { error: true });
      return;
    }
    try {
      const batch = await session.api("POST", "/admin/payout-batches", { withdrawal_ids: ids });
      await loadBatches();
      say(`Payout batch created: ${batch.count} withdrawal(s), ${money(batch.total_cents, batch.currency)}. Download the ABA file for your bank.`);
      $("batch-title").focus();
    } catch (error) {
      say(`Could not create the batch: ${error.message}`, { error: true });
    }
  });

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
      if (!more) loadBatches();
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
