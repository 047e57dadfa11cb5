// Privacy requests: export everything stored about a person (GET /admin/people/export, staff) and erase
// them (POST /admin/people/erase, admin) after a typed confirmation.

import { $, append, clearErrors, el, facts, fieldError, fieldErrors, offerDownload, say } from "./dom.js";

const IDS = { email: "privacy-email", phone: "privacy-phone", note: "privacy-note" };

export function wirePrivacy({ session }) {
  function who() {
    const email = $("privacy-email").value.trim();
    const phone = $("privacy-phone").value.trim();
    if (!email && !phone) {
      fieldError("privacy-email", "Give an email or a phone number.");
      return null;
    }
    return { ...(email ? { email } : {}), ...(phone ? { phone } : {}) };
  }

  $("privacy-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(event.currentTarget);
    const person = who();
    if (!person) return;
    try {
      const blob = await session.file(`/admin/people/export?${new URLSearchParams(person)}`);
      const data = JSON.parse(await blob.text());
      const link = el("a", null, { hidden: true });
      $("privacy-result").replaceChildren(append(el("section", null, { class: "card" }), el("h2", "What is stored"),
        facts([["Leads", String(data.leads.length)], ["Jobs", String(data.jobs.length)], ["Referrers", String(data.referrers.length)],
          ["Request id", data.request_id]]), append(el("p"), link)));
      offerDownload(link, blob, `person-${data.request_id}.json`);
      say("Export ready: give the file to the person.");
    } catch (error) {
      if (!fieldErrors(error, IDS)) say(`Could not export: ${error.message}`, { error: true });
    }
  });

  $("privacy-erase").addEventListener("click", () => {
    clearErrors($("privacy-form"));
    if (!who()) return;
    if (!$("privacy-note").value.trim()) return fieldError("privacy-note", "Give the request's reference: it is kept in the audit trail.");
    $("privacy-confirm").hidden = false;
    $("privacy-confirm-text").focus();
  });
  $("privacy-cancel").addEventListener("click", () => {
    $("privacy-confirm").hidden = true;
    $("privacy-erase").focus();
  });
  $("privacy-confirm").addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(event.currentTarget);
    if ($("privacy-confirm-text").value.trim() !== "ERASE") return fieldError("privacy-confirm-text", "Type ERASE in capitals to confirm.");
    const person = who();
    if (!person) return;
    try {
      const summary = await session.api("POST", "/admin/people/erase", { ...person, note: $("privacy-note").value.trim() });
      $("privacy-confirm").hidden = true;
      $("privacy-confirm-text").value = "";
      $("privacy-result").replaceChildren(append(el("section", null, { class: "card" }), el("h2", "Erased"),
        facts([["Leads", String(summary.leads)], ["Jobs", String(summary.jobs)], ["Referrers", String(summary.referrers)],
          ["Items changed", String(summary.items_changed)], ["Request id", summary.request_id]])));
      say("The person is erased.");
      $("privacy-title").focus();
    } catch (error) {
      $("privacy-confirm").hidden = true;
      if (!fieldErrors(error, IDS)) say(`Could not erase: ${error.message}`, { error: true });
    }
  });
  return { load: () => undefined };
}
