// Staff accounts (admin): GET /admin/staff, invite (POST /admin/staff), change the role, disable or enable.

import { $, append, clearErrors, el, fieldError, fieldErrors, say, when, words } from "./dom.js";

const ROLES = { admin: "Admin", staff: "Staff", viewer: "Viewer" };
let serial = 0;

export function wireStaff({ session }) {
  let loads = 0;

  function row(member) {
    serial += 1;
    const me = member.email.toLowerCase() === session.email.toLowerCase();
    const li = el("li", null, { "data-username": member.username });
    const roleId = `staff-role-${serial}`;
    const role = el("select", null, { id: roleId, disabled: me });
    for (const [value, label] of Object.entries(ROLES)) role.appendChild(el("option", label, { value, selected: value === member.role }));
    role.addEventListener("change", async () => {
      try {
        await session.api("POST", `/admin/staff/${encodeURIComponent(member.username)}/role`, { role: role.value });
        say(`${member.email} is now ${ROLES[role.value].toLowerCase()}.`);
      } catch (error) {
        role.value = member.role || "";
        say(`Could not change the role: ${error.message}`, { error: true });
      }
    });
    const toggle = el("button", member.enabled ? "Disable" : "Enable",
      { type: "button", class: "secondary", disabled: me, "aria-label": `${member.enabled ? "Disable" : "Enable"} ${member.email}` });
    toggle.addEventListener("click", async () => {
      try {
        await session.api("POST", `/admin/staff/${encodeURIComponent(member.username)}/${member.enabled ? "disable" : "enable"}`);
      } catch (error) {
        say(`Could not change the account: ${error.message}`, { error: true });
        return;
      }
      await load();
      say(`${member.email} is ${member.enabled ? "disabled and signed out everywhere" : "enabled again"}.`);
    });
    return append(li,
      append(el("div", null, { class: "row-head" }), el("strong", member.email),
        el("span", member.enabled ? words(member.status === "FORCE_CHANGE_PASSWORD" ? "invited" : "active") : "disabled",
          { class: `chip ${member.enabled ? "ok" : "high"}` })),
      el("p", `${me ? "You · " : ""}added ${when(member.created_at)}`, { class: "meta" }),
      el("label", "Role", { for: roleId }), role, toggle);
  }

  async function load() {
    loads += 1;
    const mine = loads;
    say("Loading the staff accounts…");
    try {
      const answer = await session.api("GET", "/admin/staff");
      if (mine !== loads || $("view-staff").hidden) return;
      $("staff-list").replaceChildren(...answer.items.map(row));
      say(`${answer.items.length} account(s).`);
    } catch (error) {
      say(`Could not load the staff accounts: ${error.message}`, { error: true });
    }
  }

  $("staff-invite").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    clearErrors(form);
    const email = $("invite-email").value.trim();
    if (!email) return fieldError("invite-email", "Enter their email address.");
    try {
      await session.api("POST", "/admin/staff", { email, role: $("invite-role").value });
    } catch (error) {
      if (!fieldErrors(error, { email: "invite-email", role: "invite-role" })) say(`Could not invite them: ${error.message}`, { error: true });
      return;
    }
    form.reset();
    await load();
    say(`${email} is invited: Cognito has emailed them a temporary password.`);
  });
  return { load };
}
