// The staff console's entry module: reads config.json (Cognito endpoint, client id, idle time-out), shows the
// sign-in screens or the console, and routes between the console's screens by the URL's #fragment
// (#queue, #referral/<id>). No token is ever put in the URL.

import { Cognito } from "./cognito.js";
import { $, say } from "./dom.js";
import { wireEvidence } from "./evidence.js";
import { wireQueue } from "./queue.js";
import { wireReferrers } from "./referrers.js";
import { Session } from "./session.js";
import { wireSignIn } from "./signin.js";
import { wireWithdrawals } from "./withdrawals.js";

const VIEWS = ["signin", "newpassword", "mfa", "forgot", "mfasetup", "queue", "referral", "referrers", "referrer",
  "withdrawals"];
const CONSOLE_VIEWS = new Set(["queue", "referral", "referrers", "referrer", "withdrawals"]);
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
  const config = await (await fetch("/admin/assets/config.json", { cache: "no-cache" })).json();
  const cognito = new Cognito(config.auth_endpoint, config.client_id);
  const session = new Session(cognito, {
    idleMinutes: config.idle_minutes,
    onEnd: (message) => {
      show("signin");
      say(message);
    },
  });

  const evidence = wireEvidence({ session, backToQueue: () => { location.hash = "#queue"; } });
  const go = (hash) => { location.hash = hash; };
  const openReferral = (id) => go(`#referral/${encodeURIComponent(id)}`);
  const openReferrer = (id) => go(`#referrer/${encodeURIComponent(id)}`);
  const queue = wireQueue({ session, openReferral });
  const referrers = wireReferrers({ session, openReferrer, openReferral });
  const withdrawals = wireWithdrawals({ session, openReferrer });

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
      await referrers.open(decodeURIComponent(id));
      return;
    }
    if (name === "referrers") {
      show("referrers");
      await referrers.load();
      return;
    }
    if (name === "withdrawals") {
      show("withdrawals");
      await withdrawals.load();
      return;
    }
    show("queue");
    await queue.load();
  }

  /** After signing in (or setting up two-step sign-in): the queue, then `message` if there is one. */
  async function signedIn(message) {
    $("who").textContent = `${session.email} · ${session.role || "no role"}`;
    if (location.hash !== "" && location.hash !== "#queue") history.replaceState(null, "", "#queue");
    await route();
    if (message) say(message);
  }

  wireSignIn({ cognito, session, show, signedIn });
  $("signout").addEventListener("click", () => session.signOut());
  for (const kind of ["keydown", "pointerdown"]) document.addEventListener(kind, () => { if (session.signedIn) session.touch(); }, { passive: true });
  window.addEventListener("hashchange", route);

  if (session.signedIn) {
    session.start();
    session.checkIdle();
    if (session.signedIn) $("who").textContent = `${session.email} · ${session.role || "no role"}`;
  }
  await route();
}

main().catch(() => say("The console could not start. Reload the page.", { error: true }));
