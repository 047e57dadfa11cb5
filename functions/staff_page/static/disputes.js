// Disputes: list by status (GET /admin/disputes), record one (POST /admin/disputes), resolve it once with
// an outcome and a note (POST /admin/disputes/{id}/resolve).

import { $, append, clearErrors, el, fieldError, fieldErrors, say, when, words } from "./dom.js";

const OUTCOMES = { upheld: "Upheld", partly_upheld: "Partly upheld", not_upheld: "Not upheld", withdrawn: "Withdrawn" };
let serial = 0;

export function wireDisputes({ session }) {
  let cursor = null;
  let loads = 0; // only the latest load of the list renders (an older one may answer after it)

  function resolveForm(dispute, li) {
    serial += 1;
    const outcomeId = `dispute-outcome-${serial}`;
    const noteId = `dispute-resolve-note-${serial}`;
    const outcome = el("select", null, { id: outcomeId, name: "outcome" });
    for (const [value, label] of Object.entries(OUTCOMES)) outcome.appendChild(el("option", label, { value }));
    const note = el("textarea", null, { id: noteId, name: "note", rows: "2", maxlength: "4000", "aria-describedby": `${noteId}-error` });
    const form = append(el("form", null, { class: "inline-form", novalidate: true, "aria-label": `Resolve ${dispute.subject}` }),
      el("label", "Outcome", { for: outcomeId }), outcome,
      el("label", "Note (why)", { for: noteId }), note, el("p", null, { id: `${noteId}-error`, class: "field-error" }),
      el("button", "Resolve", { type: "submit" }));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      if (!note.value.trim()) return fieldError(noteId, "Write how it was resolved.");
      try {
        await session.api("POST", `/admin/disputes/${encodeURIComponent(dispute.dispute_id)}/resolve`,
          { outcome: outcome.value, note: note.value.trim() });
      } catch (error) {
        if (error.status === 409) say("This dispute was already resolved: reload the list.", { error: true });
        else if (!fieldErrors(error, { note: noteId, outcome: outcomeId })) say(`Could not resolve it: ${error.message}`, { error: true });
        return;
      }
      li.remove();
      say(`Dispute resolved: ${OUTCOMES[outcome.value]}.`);
      $("disputes-title").focus();
    });
    return form;
  }

  function row(dispute) {
    const li = el("li", null, { "data-dispute-id": dispute.dispute_id });
    const notes = el("ol", null, { class: "timeline", "aria-label": "Notes, oldest first" });
    for (const note of dispute.notes || []) {
      notes.appendChild(append(el("li"), el("span", `${when(note.at)} · ${note.by}`, { class: "meta" }), el("p", note.text)));
    }
    append(li,
      append(el("div", null, { class: "row-head" }), el("strong", dispute.subject), el("span", when(dispute.created_at), { class: "meta" })),
      el("p", [dispute.referral_id ? `referral ${dispute.referral_id}` : "", dispute.referrer_id ? `referrer ${dispute.referrer_id}` : "",
        dispute.outcome ? `outcome: ${words(dispute.outcome)}` : ""].filter(Boolean).join(" · "), { class: "meta" }),
      notes);
    if (dispute.status === "open" && session.can("staff")) li.appendChild(resolveForm(dispute, li));
    return li;
  }

  async function load({ more = false } = {}) {
    loads += 1;
    const mine = loads;
    if (!more) cursor = null;
    const params = new URLSearchParams({ status: $("disputes-status").value, limit: "25" });
    if (cursor) params.set("cursor", cursor);
    say("Loading the disputes…");
    try {
      const page = await session.api("GET", `/admin/disputes?${params}`);
      if (mine !== loads || $("view-disputes").hidden) return; // a newer load renders, or another screen is open
      const list = $("disputes-list");
      if (!more) list.replaceChildren();
      for (const item of page.items) list.appendChild(row(item));
      if (!list.childElementCount) list.appendChild(el("li", "No disputes here.", { class: "empty" }));
      cursor = page.next_cursor;
      $("disputes-more").hidden = !cursor;
      say(`${list.querySelectorAll("li[data-dispute-id]").length} dispute(s) shown.`);
    } catch (error) {
      say(`Could not load the disputes: ${error.message}`, { error: true });
    }
  }

  $("disputes-filter").addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  $("disputes-more").addEventListener("click", () => load({ more: true }));
  $("dispute-open").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    clearErrors(form);
    const body = { subject: $("dispute-subject").value.trim(), note: $("dispute-note").value.trim() };
    if (!body.subject) return fieldError("dispute-subject", "Say what the dispute is about.");
    if (!body.note) return fieldError("dispute-note", "Write what the person said.");
    for (const [name, id] of [["referral_id", "dispute-referral"], ["referrer_id", "dispute-referrer"]]) {
      if ($(id).value.trim()) body[name] = $(id).value.trim();
    }
    try {
      await session.api("POST", "/admin/disputes", body);
    } catch (error) {
      const ids = { subject: "dispute-subject", note: "dispute-note", referral_id: "dispute-referral", referrer_id: "dispute-referrer" };
      if (!fieldErrors(error, ids)) say(`Could not record it: ${error.message}`, { error: true });
      return;
    }
    form.reset();
    $("disputes-status").value = "open";
    await load();
    say("Dispute recorded.");
  });
  return { load };
}
