// The staff console's entry module: reads config.json (Cognito endpoint, client id, idle time-out), shows the
// sign-in screens or the console, and routes between the console's screens by the URL's #fragment
// (#queue, #referral/<id>). No token is ever put in the URL.

import { wireApplications } from "./applications.js";
import { Cognito } from "./cognito.js";
import { $, say, useCurrency } from "./dom.js";
import { wireEvidence } from "./evidence.js";
import { wireQueue } from "./queue.js";
import { wireReferrers } from "./referrers.js";
import { Session, savedIdentity } from "./session.js";
import { wireSignIn } from "./signin.js";
import { wireWithdrawals } from "./withdrawals.js";
import { wireDisputes } from "./disputes.js";
import { wireProgram } from "./program.js";
import { wireReports } from "./reports.js";
import { wirePrivacy } from "./privacy.js";
import { wireStaff } from "./staff.js";
import { wireWebhooks } from "./webhooks.js";
import { wireBranding } from "./branding.js";

// Lists with a `load()`, by the #fragment that opens them.
const LISTS = ["queue", "referrers", "applications", "withdrawals", "disputes", "program", "reports", "privacy", "webhooks", "staff",
  "branding"];
const VIEWS = ["signin", "newpassword", "mfa", "forgot", "mfasetup", "referral", "referrer", ...LISTS];
const CONSOLE_VIEWS = new Set(["referral", "referrer", ...LISTS]);
// A screen's tab: the detail screens belong to their list's.
const TAB_OF = { referral: "queue", referrer: "referrers" };

function show(name) {
  for (const view of VIEWS) $(`view-${view}`).hidden = view !== name;
  const inConsole = CONSOLE_VIEWS.has(name) || name === "mfasetup";
  $("tabs").hidden = !inConsole;
  $("account").hidden = !inConsole;
  for (const link of $("tabs").querySelectorAll("a")) {
    if (link.dataset.view === (TAB_OF[name] || name)) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

async function main() {
  // Signed in already (a reload): show the screen's frame now, before config.json and the data arrive,
  // so nothing shifts when they do.
  const saved = savedIdentity();
  if (saved) {
    const name = location.hash.replace(/^#/, "").split("/")[0];
    $("who").textContent = `${saved.email} · ${saved.role || "no role"}`;
    for (const node of document.querySelectorAll("[data-role]")) {
      node.hidden = !(saved.role === "admin" || (saved.role === "staff" && node.dataset.role !== "admin"));
    }
    show(CONSOLE_VIEWS.has(name) ? name : "queue");
    document.body.classList.remove("booting");
  }
  const config = await (await fetch("/admin/assets/config.json", { cache: "no-cache" })).json();
  useCurrency(config.currency);
  const cognito = new Cognito(config.auth_endpoint, config.client_id);
  const session = new Session(cognito, {
    idleMinutes: config.idle_minutes,
    onEnd: (message) => {
      show("signin");
      say(message);
    },
  });

  const evidence = wireEvidence({ session, backToQueue: () => { location.hash = "#queue"; } });
  let after = ""; // a message for once the next screen has loaded (loading it clears the status line)
  const go = (hash, message = "") => {
    after = message;
    location.hash = hash;
  };
  const openReferral = (id) => go(`#referral/${encodeURIComponent(id)}`);
  const openReferrer = (id, message) => go(`#referrer/${encodeURIComponent(id)}`, message);
  const screens = {
    queue: wireQueue({ session, openReferral }),
    referrers: wireReferrers({ session, openReferrer, openReferral }),
    applications: wireApplications({ session }),
    withdrawals: wireWithdrawals({ session, openReferrer }),
    disputes: wireDisputes({ session }),
    program: wireProgram({ session }),
    reports: wireReports({ session }),
    privacy: wirePrivacy({ session }),
    webhooks: wireWebhooks({ session }),
    staff: wireStaff({ session }),
    branding: wireBranding({ session }),
  };

  let moved = false; // the screen changed by a link or the back button (not the first load)

  async function route() {
    if (!session.signedIn) {
      show("signin");
      return;
    }
    const [name, id] = location.hash.replace(/^#/, "").split("/");
    if (name === "referral" && id) {
      show("referral");
      await evidence.open(decodeURIComponent(id));
      return;
    }
    if (name === "referrer" && id) {
      show("referrer");
      await screens.referrers.open(decodeURIComponent(id));
      return;
    }
    const list = LISTS.includes(name) ? name : "queue";
    show(list);
    if (moved) $(`${list}-title`).focus(); // a screen reader or keyboard user starts at the new screen's title
    await screens[list].load();
  }

  /** After signing in (or setting up two-step sign-in): the queue, then `message` if there is one. */
  async function signedIn(message) {
    $("who").textContent = `${session.email} · ${session.role || "no role"}`;
    roleControls();
    if (location.hash !== "" && location.hash !== "#queue") history.replaceState(null, "", "#queue");
    await route();
    if (message) say(message);
  }

  /** Hides what the caller's role may not do (the API refuses it anyway: roles are enforced there). */
  function roleControls() {
    for (const node of document.querySelectorAll("[data-role]")) node.hidden = !session.can(node.dataset.role);
  }

  wireSignIn({ cognito, session, show, signedIn });
  $("signout").addEventListener("click", () => session.signOut());
  for (const kind of ["keydown", "pointerdown"]) document.addEventListener(kind, () => { if (session.signedIn) session.touch(); }, { passive: true });
  window.addEventListener("hashchange", async () => {
    moved = true;
    await route();
    if (after) say(after);
    after = "";
  });

  if (session.signedIn) {
    session.start();
    session.checkIdle();
    if (session.signedIn) {
      $("who").textContent = `${session.email} · ${session.role || "no role"}`;
      roleControls();
    }
  }
  const first = route();
  document.body.classList.remove("booting");
  await first;
}

main().catch(() => {
  document.body.classList.remove("booting");
  say("The console could not start. Reload the page.", { error: true });
});
