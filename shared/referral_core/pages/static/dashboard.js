// The referrer dashboard (GET /dashboard): one static page over the JSON API, inlined by
// referral_core.pages.portal with this file's hash in the CSP. Data goes in with textContent or as attributes only
// (the CSP's Trusted Types rule makes any HTML sink throw).
// A sign-in link's token, from the fragment (#token=: never sent to any server) or the query (?token=,
// older emails), is taken out of the address bar before anything else runs or loads.
const takeToken = () => {
  const token = new URLSearchParams(location.hash.slice(1)).get("token") ||
                new URLSearchParams(location.search).get("token");
  if (location.hash || location.search) history.replaceState(null, "", location.pathname);
  return token;
};
const linkToken = takeToken();
const KEY = "referralSession";
const $ = (id) => document.getElementById(id);
let me = null;
let olderCursor = null;
let pendingToken = null;

const say = (text) => { $("status").textContent = text; };
const money = (cents) => new Intl.NumberFormat(undefined, {style: "currency", currency: (me && me.currency) || "AUD"})
  .format((cents || 0) / 100);
const day = (iso) => iso ? new Date(iso).toLocaleDateString(undefined, {day: "numeric", month: "short", year: "numeric"}) : "";
const el = (tag, text, attrs) => {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
  return node;
};
const row = (cells) => {
  const tr = document.createElement("tr");
  cells.forEach((cell) => tr.appendChild(el("td", cell)));
  return tr;
};

function session() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(KEY) || "null");
    if (saved && Date.parse(saved.expires_at) > Date.now()) return saved.session_token;
  } catch { /* unreadable: sign in again */ }
  sessionStorage.removeItem(KEY);
  return null;
}

async function api(method, path, body) {
  const headers = {"Accept": "application/json"};
  const token = session();
  if (token) headers["Authorization"] = "Bearer " + token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
  if ((response.status === 401 || response.status === 403) && token) {
    const fresh = response.status === 403 && (await errorCode(response.clone())) === "fresh_sign_in_required";
    sessionStorage.removeItem(KEY);
    showSignIn(fresh ? "For your security, changing payout details needs a new sign-in link: ask for one below, then save them again."
      : response.status === 403 ? "This account is suspended. Please contact us." : "Your session has ended. Please sign in again.");
  }
  return response;
}

async function errorCode(response) {
  try { return (await response.json()).error.code; } catch { return null; }
}

async function problem(response) {
  try { return (await response.json()).error.message; } catch { return "Something went wrong (" + response.status + ")."; }
}

function showSignIn(message) {
  $("dashboard").hidden = true;
  $("confirm").hidden = true;
  $("signin").hidden = false;
  say(message || "");
}

const INVALID_LINK = "This sign-in link is invalid, used or expired. Ask for a new one below.";
const postToken = (path, token) => fetch(path, {method: "POST", headers: {"Content-Type": "application/json"},
                                                body: JSON.stringify({token})});

async function confirmLink(token) {
  const response = await postToken("/auth/session/preview", token);
  if (!response.ok) { showSignIn(INVALID_LINK); return; }
  pendingToken = token;
  $("confirm-name").textContent = (await response.json()).masked_name;
  $("signin").hidden = true;
  $("dashboard").hidden = true;
  $("confirm").hidden = false;
  say("");
  $("confirm-yes").focus();
}

async function exchange(token) {
  const response = await postToken("/auth/session", token);
  if (!response.ok) {
    showSignIn(INVALID_LINK);
    return false;
  }
  sessionStorage.setItem(KEY, JSON.stringify(await response.json()));
  return true;
}

async function qrBlob(url) {
  const response = await api("GET", new URL(url).pathname);
  return response.ok ? URL.createObjectURL(await response.blob()) : null;
}

// Share buttons: each sends the share message with the link marked with its channel (?src=sms, whatsapp, email,
// copy), so the funnel shows which channel brings visits and requests. iOS and macOS Messages read the body
// of "sms:&body=", Android of "sms:?body=": the form is picked by the user agent. The share sheet (Web Share
// API, where the browser has it) sends the "copy" link: where it goes is the user's choice, unknown here.
const APPLE = /iPhone|iPad|iPod|Macintosh/.test(navigator.userAgent);
const smsHref = (text) => "sms:" + (APPLE ? "&" : "?") + "body=" + encodeURIComponent(text);
const SHARE_HREFS = {
  sms: smsHref,
  whatsapp: (text) => "https://wa.me/?text=" + encodeURIComponent(text),
  email: (text) => "mailto:?subject=" + encodeURIComponent("Someone I recommend") + "&body=" + encodeURIComponent(text),
};
const SHARE_LABELS = {sms: "Text message", whatsapp: "WhatsApp", email: "Email"};

async function copyText(text, done) {
  try { await navigator.clipboard.writeText(text); say(done); return true; }
  catch { return false; }
}

function shareButtons(code) {
  const actions = el("p", null, {"class": "share", "aria-label": "Share " + code.code});
  const links = Object.fromEntries((code.share_links || []).map((s) => [s.channel, s]));
  for (const channel of ["sms", "whatsapp", "email"]) {
    if (!links[channel]) continue;
    actions.appendChild(el("a", SHARE_LABELS[channel], {href: SHARE_HREFS[channel](links[channel].message),
      "class": "button", "data-channel": channel, ...(channel === "whatsapp" ? {target: "_blank", rel: "noopener"} : {})}));
  }
  const copied = links.copy;
  if (copied && navigator.share) {
    const share = el("button", "Share…", {type: "button", "data-channel": "share"});
    share.addEventListener("click", () => navigator.share({text: copied.message}).catch(() => {}));
    actions.appendChild(share);
  }
  if (copied) {
    const copy = el("button", "Copy link", {type: "button", "data-channel": "copy"});
    copy.addEventListener("click", async () => {
      if (!await copyText(copied.url, "Link copied: " + copied.url)) say("Copy this link: " + copied.url);
    });
    actions.appendChild(copy);
  }
  return actions;
}

// Printable flyers (PDF, drawn by the portal): fetched with the session like the QR images, then saved.
const FLYERS = [["a4", "A4 poster"], ["a5", "A5 flyer"], ["dl", "DL flyer"], ["card", "Business card"],
                ["decal", "Van / window decal"]];

// A link to a file the API serves with the session (a flyer, a statement): fetched on the first click, then saved.
function fileLink(label, path, filename, attrs) {
  const link = el("a", label, {href: "#", download: filename, "class": "button", ...(attrs || {})});
  link.addEventListener("click", async (event) => {
    if (link.getAttribute("href") !== "#") return;
    event.preventDefault();
    const response = await api("GET", path);
    if (!response.ok) { say(await problem(response)); return; }
    link.setAttribute("href", URL.createObjectURL(await response.blob()));
    link.click();
  });
  return link;
}

function flyerLinks(code) {
  const list = el("p", "Print: ", {"class": "flyers"});
  for (const [size, label] of FLYERS) {
    const path = "/me/share-codes/" + encodeURIComponent(code.code) + "/flyer.pdf?size=" + size;
    list.appendChild(fileLink(label, path, code.code + "-" + size + ".pdf", {"data-size": size}));
  }
  return list;
}

// Yearly statements (GET /me/statements): this financial year's and last year's, as CSV and PDF.
async function renderStatements() {
  const list = $("statements");
  list.replaceChildren();
  const response = await api("GET", "/me/statements");
  if (!response.ok) return;
  const years = (await response.json()).items.slice(0, 2);
  years.forEach((year, index) => {
    const item = el("li", (index === 0 ? "This year" : "Last year") + " (" + year.year + "): paid " +
                    money(year.paid_cents) + ", earned " + money(year.earned_cents) + " ", {"data-year": year.year});
    item.appendChild(fileLink("CSV", year.csv_path, "statement-" + year.year + ".csv"));
    item.appendChild(document.createTextNode(" "));
    item.appendChild(fileLink("PDF", year.pdf_path, "statement-" + year.year + ".pdf"));
    list.appendChild(item);
  });
}

async function renderCodes(codes) {
  const list = $("codes");
  list.replaceChildren();
  for (const code of codes) {
    const item = el("li", null, {"class": "card"});
    item.appendChild(el("h3", code.code + (code.personal ? " (personal)" : "")));
    item.appendChild(el("a", code.url, {href: code.url}));
    const stats = code.stats || {};
    item.appendChild(el("p", (stats.clicks || 0) + " visits · " + (stats.leads || 0) + " requests · " +
                              (stats.jobs || 0) + " jobs", {"class": "muted"}));
    if (code.status !== "active") item.appendChild(el("p", "This code is switched off.", {"class": "warn"}));
    if (code.visibility === "private") item.appendChild(el("p", "Private: works only as this link or QR code (typing the code in does not count).", {"class": "muted"}));
    if (code.zones.length) item.appendChild(el("p", (code.zone_mode === "lock" ? "Only earns for customers in: " : "Meant for customers in: ") + code.zones.join(", "), {"class": "muted"}));
    const img = el("img", null, {alt: "QR code for " + code.url, width: "160", height: "160"});
    item.appendChild(img);
    const actions = el("p");
    for (const [label, url, file] of [["Download QR (PNG)", code.qr.png, code.code + ".png"],
                                      ["Download QR (SVG)", code.qr.svg, code.code + ".svg"]]) {
      const link = el("a", label, {download: file, href: "#", "class": "button"});
      link.addEventListener("click", async (event) => {
        if (link.getAttribute("href") !== "#") return;
        event.preventDefault();
        const blob = await qrBlob(url);
        if (blob) { link.setAttribute("href", blob); link.click(); }
      });
      actions.appendChild(link);
    }
    item.appendChild(actions);
    item.appendChild(flyerLinks(code));
    item.appendChild(shareButtons(code));
    list.appendChild(item);
    qrBlob(code.qr.png).then((blob) => { if (blob) img.setAttribute("src", blob); });
  }
}

function addReferrals(page, replace) {
  const body = $("referrals");
  if (replace) body.replaceChildren();
  for (const r of page.items) {
    const stage = r.stage_label + (r.reason_label ? " (" + r.reason_label + ")" : "");
    const tr = row([r.masked_name, [r.suburb, r.postcode].filter(Boolean).join(" "), stage, day(r.updated_at)]);
    tr.dataset.stage = r.stage;
    tr.dataset.referralId = r.referral_id;
    body.appendChild(tr);
  }
  $("no-referrals").hidden = body.children.length > 0;
  olderCursor = page.next_cursor;
  $("more").hidden = !olderCursor;
}

const TYPE_LABELS = {customer: "customer", local_partner: "local partner business", ambassador: "ambassador",
  campus_helper: "campus helper"};

// The tiers that apply to this referrer: their type's (rules.by_type) or the general ones.
function rewardText(reward) {
  if (reward.flat_cents !== null && reward.flat_cents !== undefined) return money(reward.flat_cents);
  const percent = (reward.percent_bp / 100) + "% of the paid job";
  return reward.cap_cents !== null && reward.cap_cents !== undefined ? percent + ", up to " + money(reward.cap_cents) : percent;
}

function renderRules(rules) {
  if (!rules) return;
  $("rules-type").textContent = rules.referrer_type
    ? "As a " + (TYPE_LABELS[rules.referrer_type] || rules.referrer_type) + " referrer, these rewards apply to you:"
    : "These rewards apply to you:";
  const body = $("rules-tiers");
  body.replaceChildren();
  for (const t of rules.tiers) {
    const tr = row([t.name, String(t.min_rewarded), rewardText(t.reward)]);
    tr.dataset.tier = t.name;
    body.appendChild(tr);
  }
}

function renderMoney() {
  const b = me.balance;
  for (const name of ["pending_cents", "available_cents", "held_cents", "paid_cents"]) $(name).textContent = money(b[name]);
  const tier = me.tier;
  $("tier").textContent = tier.name;
  const progress = $("tier-progress");
  if (tier.next_tier) {
    progress.max = tier.rewarded_count + tier.rewards_to_next_tier;
    progress.value = tier.rewarded_count;
    $("tier-next").textContent = tier.rewards_to_next_tier + " more rewarded referral(s) to reach " + tier.next_tier + ".";
  } else {
    progress.max = 1;
    progress.value = 1;
    $("tier-next").textContent = "You are in the top tier.";
  }
  renderRules(me.rules);
  $("min-withdrawal").textContent = money(me.min_withdrawal_cents);
  const body = $("withdrawals");
  body.replaceChildren();
  const holds = {reward_clawed_back: "on hold: a job it was paid from was refunded; our team will be in touch"};
  const shown = (w) => w.status === "on_hold" ? (holds[w.hold_reason] || "on hold") : w.status;
  for (const w of me.withdrawals) body.appendChild(row([day(w.created_at), money(w.amount_cents), shown(w)]));
  $("no-withdrawals").hidden = me.withdrawals.length > 0;
}

// Payout details: only ever shown masked ("Bank account ending 876 (Jo S.)"); the form is cleared once saved.
const PAYOUT_TYPES = ["bank_account", "payid", "paypal"];
function showPayoutFields() {
  const type = $("payout-type").value;
  for (const name of PAYOUT_TYPES) $("payout-" + name).hidden = name !== type;
}

async function loadPayout() {
  const response = await api("GET", "/me/payout-method");
  $("payout-current").textContent = response.ok ? (await response.json()).display : "none yet";
}

async function load() {
  const response = await api("GET", "/me");
  if (!response.ok) {
    if (response.status !== 401) say(await problem(response));
    return;
  }
  me = await response.json();
  $("signin").hidden = true;
  $("confirm").hidden = true;
  $("dashboard").hidden = false;
  $("name").textContent = me.referrer.name;
  const link = $("link");
  link.textContent = me.referrer.link;
  link.setAttribute("href", me.referrer.link);
  const personal = me.share_codes.find((c) => c.personal) || me.share_codes[0];
  const copied = personal && (personal.share_links || []).find((s) => s.channel === "copy");
  $("message").value = copied ? copied.message : (personal ? personal.share_message : me.referrer.link);
  $("opted-out").hidden = !me.referrer.notifications_opt_out;
  $("show-name").checked = Boolean(me.referrer.show_name_on_landing);
  await renderCodes(me.share_codes);
  addReferrals(me.referrals, true);
  renderMoney();
  await renderStatements();
  await loadPayout();
}

$("signin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const response = await fetch("/auth/magic-link", {method: "POST", headers: {"Content-Type": "application/json"},
                                                    body: JSON.stringify({email: $("email").value})});
  say(response.ok ? "If this email belongs to a referrer, a sign-in link is on its way. It works once, for 15 minutes."
                  : await problem(response));
});

$("copy").addEventListener("click", async () => {
  if (!await copyText($("message").value, "Share message copied.")) { $("message").select(); say("Select the message and copy it."); }
});

$("show-name").addEventListener("change", async (event) => {
  const show = event.target.checked;
  const response = await api("PUT", "/me/preferences", {show_name_on_landing: show});
  if (response.ok) say(show ? "Your links' page now says who recommended it (first name and initial)."
                            : "Your links' page no longer shows your name.");
  else { event.target.checked = !show; say(await problem(response)); }
});

$("more").addEventListener("click", async () => {
  const response = await api("GET", "/me/referrals?cursor=" + encodeURIComponent(olderCursor));
  if (response.ok) addReferrals(await response.json(), false); else say(await problem(response));
});

$("payout-type").addEventListener("change", showPayoutFields);

$("payout-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const type = $("payout-type").value;
  const body = {type};
  for (const input of $("payout-" + type).querySelectorAll("input, select")) body[input.name] = input.value.trim();
  const response = await api("PUT", "/me/payout-method", body);
  if (response.ok) {
    form.reset();
    showPayoutFields();
    $("payout-current").textContent = (await response.json()).display;
    say("Payout details saved. We have emailed you to confirm the change.");
  } else if (response.status !== 403) say(await problem(response));  // a 403: api() asked for a new sign-in
});

$("withdraw-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const cents = Math.round(parseFloat($("amount").value) * 100);
  const response = await api("POST", "/me/withdrawals", {amount_cents: cents});
  if (response.ok) { $("amount").value = ""; await load(); say("Withdrawal requested: our team will record the payout."); }
  else say(await problem(response));
});

$("refer-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const value = (name) => form.elements[name].value.trim() || null;
  const response = await api("POST", "/me/referrals", {
    friend_name: value("friend_name"), friend_email: value("friend_email"), friend_phone: value("friend_phone"),
    postcode: value("postcode"), issue: value("issue"), friend_agreed: form.elements["friend_agreed"].checked});
  if (response.ok) { form.reset(); say("Thanks! Your friend's request was passed on to our team."); await load(); }
  else say(await problem(response));
});

$("signout").addEventListener("click", () => { sessionStorage.removeItem(KEY); showSignIn("You are signed out."); });

$("confirm-yes").addEventListener("click", async () => {
  const token = pendingToken;
  pendingToken = null;
  if (token && await exchange(token)) await load();
});

$("confirm-no").addEventListener("click", async () => {
  pendingToken = null;
  $("confirm").hidden = true;
  if (session()) await load(); else showSignIn("Not signed in: the link was not used.");
});

// A link opened in a tab already showing this page changes only the fragment: no reload.
window.addEventListener("hashchange", () => { const token = takeToken(); if (token) confirmLink(token); });

(async () => {
  if (linkToken) { await confirmLink(linkToken); return; }
  if (session()) await load(); else showSignIn("");
})();
