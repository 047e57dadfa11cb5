// Applications to become a referrer (GET /admin/applications: verified ones still to decide, oldest first, with
// their flags). Staff approve (POST .../approve: the referrer is created and welcomed), decline with a reason or
// ask for more information (both emailed to the applicant). A minor's application waits for a guardian's
// consent: approving it is refused until then. docs/applications.md.

import { $, append, el, facts, say, when, words } from "./dom.js";

let formCount = 0;

const TYPES = { customer: "Customer", local_partner: "Local partner business", ambassador: "Ambassador", campus_helper: "Campus helper" };
const BANDS = { under_16: "under 16", "16_17": "16 or 17", "18_24": "18 to 24", "25_plus": "25 or over" };
const FLAGS = { existing_referrer: "already a referrer", existing_customer: "an existing customer" };

function flagText(flag) {
  const how = flag.look_alike ? "a look-alike of their" : "their";
  return `${how} ${flag.contact} matches ${FLAGS[flag.type] || words(flag.type)} (${flag.matches} record${flag.matches === 1 ? "" : "s"})`;
}

function field(labelText, attrs) {
  const id = `app-field-${(formCount += 1)}`;
  const input = el(attrs.tag || "input", null, { id, ...attrs, tag: undefined, "aria-describedby": `${id}-error` });
  return { id, input, nodes: [el("label", labelText, { for: id }), input, el("p", null, { id: `${id}-error`, class: "field-error" })] };
}

function showError(part, message) {
  $(`${part.id}-error`).textContent = message;
  part.input.setAttribute("aria-invalid", "true");
  part.input.focus();
}

export function wireApplications({ session }) {
  let cursor = null;
  let loads = 0;

  function decideForms(item, li) {
    const waiting = item.waiting_for_guardian;
    const note = field("Note (optional, kept in the audit trail)", { name: "note", maxlength: "2000", autocomplete: "off" });
    const approveButton = el("button", "Approve", { type: "submit", disabled: waiting || undefined });
    const approve = append(el("form", null, { class: "inline-form", novalidate: true, "aria-label": "Approve" }),
      ...note.nodes, approveButton,
      waiting ? el("p", "Waiting for a parent or guardian's consent: it cannot be approved yet.", { class: "meta hold" }) : null);
    const reason = field("Reason for declining (emailed to the applicant)", { tag: "textarea", name: "reason", rows: "2", maxlength: "2000" });
    const decline = append(el("form", null, { class: "inline-form", novalidate: true, "aria-label": "Decline" }),
      ...reason.nodes, el("button", "Decline", { type: "submit", class: "secondary" }));
    const message = field("Ask for more information (emailed to the applicant)", { tag: "textarea", name: "message", rows: "2", maxlength: "2000" });
    const ask = append(el("form", null, { class: "inline-form", novalidate: true, "aria-label": "Ask for more information" }),
      ...message.nodes, el("button", "Send the question", { type: "submit", class: "secondary" }));

    async function send(action, body, part) {
      let answer;
      try {
        answer = await session.api("POST", `/admin/applications/${encodeURIComponent(item.application_id)}/${action}`, body);
      } catch (error) {
        const fields = error.fields || {};
        const text = fields[part.input.name];
        if (text) showError(part, text);
        else say(`Could not save it: ${error.message}${fields.guardian_consent ? " (no guardian consent yet)" : ""}`, { error: true });
        return;
      }
      if (action === "request-info") {
        say(`Question emailed to ${item.name}. The application stays in the queue.`);
        part.input.value = "";
        return;
      }
      li.remove();
      if (action === "approve") {
        say(`Approved: ${item.name} is a referrer now, with code ${answer.code}. The welcome email with their link is on its way.`);
      } else {
        say(`Declined: ${item.name} is emailed the reason.`);
      }
      $("applications-title").focus();
    }
    approve.addEventListener("submit", (event) => {
      event.preventDefault();
      send("approve", note.input.value.trim() ? { note: note.input.value.trim() } : {}, note);
    });
    decline.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = reason.input.value.trim();
      if (!value) return showError(reason, "Say why: the applicant is told.");
      send("decline", { reason: value }, reason);
    });
    ask.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = message.input.value.trim();
      if (!value) return showError(message, "Write the question to send.");
      send("request-info", { message: value }, message);
    });
    return [approve, decline, ask];
  }

  function row(item) {
    const li = el("li", null, { "data-application-id": item.application_id });
    const age = item.date_of_birth ? `born ${item.date_of_birth}` : `age ${BANDS[item.age_band] || item.age_band || "not given"}`;
    const status = item.waiting_for_guardian ? "waiting for guardian consent"
      : item.status === "info_requested" ? `more information asked ${when(item.info_requested_at)}` : "verified";
    append(li,
      append(el("div", null, { class: "row-head" }), el("strong", item.name),
        el("span", `${TYPES[item.referrer_type] || item.referrer_type} · applied ${when(item.created_at)}`, { class: "meta" })),
      el("p", `${status}${item.minor ? " · under the minimum age" : ""}`, { class: item.waiting_for_guardian ? "meta hold" : "meta" }),
      facts([["Email", item.email], ["Phone", item.phone], ["Postcode", item.postcode], ["Age", age],
        ["How they know us", item.how_known], ["Terms", `version ${item.terms.version}, accepted ${when(item.terms.accepted_at)}`],
        ["Guardian consent", item.guardian_consent ? `${item.guardian_consent.guardian_name}, ${when(item.guardian_consent.given_at)}` : ""]]));
    for (const flag of item.flags) append(li, append(el("div", null, { class: "flag medium" }), el("p", `Flag: ${flagText(flag)}`)));
    if (session.can("staff")) append(li, ...decideForms(item, li));
    return li;
  }

  async function load({ more = false } = {}) {
    loads += 1;
    const mine = loads;
    if (!more) cursor = null;
    const params = new URLSearchParams({ limit: "25" });
    if (cursor) params.set("cursor", cursor);
    say("Loading the applications…");
    try {
      const page = await session.api("GET", `/admin/applications?${params}`);
      if (mine !== loads || $("view-applications").hidden) return;
      const list = $("applications-list");
      if (!more) list.replaceChildren();
      for (const item of page.items) list.appendChild(row(item));
      if (!list.childElementCount) list.appendChild(el("li", "No applications to decide.", { class: "empty" }));
      cursor = page.next_cursor;
      $("applications-more").hidden = !cursor;
      say(`${list.querySelectorAll("li[data-application-id]").length} application(s) shown.`);
    } catch (error) {
      say(`Could not load the applications: ${error.message}`, { error: true });
    }
  }

  $("applications-more").addEventListener("click", () => load({ more: true }));
  return { load };
}
