// "Become a referrer" (GET /become-a-referrer): the application form, and the landing of the emailed links
// (#verify=…&application=… for the applicant, #guardian=…&application=… for a parent or guardian). Inlined by
// referral_core.pages.applications with this file's hash in the CSP; values go in with textContent only.
// A link's token is taken out of the address bar before anything else runs or loads.
const takeLink = () => {
  const params = new URLSearchParams(location.hash.slice(1));
  if (location.hash) history.replaceState(null, "", location.pathname);
  const application = params.get("application");
  for (const kind of ["verify", "guardian"]) {
    if (params.get(kind) && application) return { kind, token: params.get(kind), application };
  }
  return null;
};
let link = takeLink();
const $ = (id) => document.getElementById(id);
let terms = null;

const say = (text) => { $("status").textContent = text || ""; };

function show(id) {
  for (const section of ["apply", "sent", "verify", "guardian"]) $(section).hidden = section !== id;
  if (id !== "apply") $(id).focus();
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST", headers: { "Accept": "application/json", "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  let data = null;
  try { data = await response.json(); } catch { /* not JSON */ }
  return { status: response.status, data, headers: response.headers };
}

function clearErrors(form) {
  for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  for (const node of form.querySelectorAll(".error")) node.textContent = "";
}

/** Shows each problem under its field; focuses the first. Returns whether any field was named. */
function showErrors(fields, names) {
  let first = null;
  for (const [name, message] of Object.entries(fields || {})) {
    const target = names[name] || name;
    const slot = $(`${target}-error`);
    const input = $(target);
    if (!slot) continue;
    slot.textContent = message;
    if (input) {
      input.setAttribute("aria-invalid", "true");
      first = first || input;
    }
  }
  if (first) first.focus();
  return first !== null;
}

function paragraphs(container, items) {
  container.replaceChildren(...items.map((text) => {
    const p = document.createElement("p");
    p.textContent = text;
    return p;
  }));
}

async function loadTerms() {
  const response = await fetch("/applications/terms", { headers: { "Accept": "application/json" } });
  if (!response.ok) throw new Error("terms");
  terms = await response.json();
  $("terms-version").textContent = terms.version;
  paragraphs($("terms-text"), terms.paragraphs);
  paragraphs($("guardian-terms"), terms.paragraphs);
}

function problem(result) {
  if (result.status === 429) return `Too many attempts. Please try again in ${Math.ceil(Number(result.headers.get("Retry-After") || 60) / 60)} minute(s).`;
  return (result.data && result.data.error && result.data.error.message) || `Something went wrong (${result.status}). Please try again.`;
}

async function apply(event) {
  event.preventDefault();
  const form = $("apply-form");
  clearErrors(form);
  const value = (id) => $(id).value.trim();
  const missing = {};
  for (const id of ["name", "email", "phone", "postcode", "how_known"]) if (!value(id)) missing[id] = "Please fill this in.";
  if (!value("date_of_birth") && !value("age_band")) missing.date_of_birth = "Give your date of birth or choose an age band.";
  if (!$("accept_terms").checked) missing.accept_terms = "Please read and accept the programme terms.";
  if (showErrors(missing, {})) {
    say("Please check the highlighted fields.");
    return;
  }
  const body = {
    name: value("name"), email: value("email"), phone: value("phone"), postcode: value("postcode"),
    how_known: value("how_known"), referrer_type: value("referrer_type"), accept_terms: true,
    terms_version: terms ? terms.version : "", website: $("website").value,
  };
  if (value("date_of_birth")) body.date_of_birth = value("date_of_birth");
  else body.age_band = value("age_band");
  if (value("guardian_email")) body.guardian_email = value("guardian_email");
  say("Sending your application…");
  const result = await post("/applications", body);
  if (result.status === 202) {
    say("");
    show("sent");
    return;
  }
  const fields = (result.data && result.data.error && result.data.error.fields) || {};
  if (fields.terms_version) await loadTerms();
  showErrors(fields, { terms_version: "accept_terms", age_band: "date_of_birth" });
  say(problem(result));
}

async function verify() {
  show("verify");
  const result = await post(`/applications/${encodeURIComponent(link.application)}/verification`, { token: link.token });
  if (result.status === 200) {
    $("verify-title").textContent = "Email confirmed";
    $("verify-message").textContent = result.data.message;
  } else {
    $("verify-title").textContent = "This link doesn't work";
    $("verify-message").textContent = result.status === 401
      ? "It was used already or has expired. If you already confirmed your email, there is nothing more to do."
      : problem(result);
  }
}

async function consent(event) {
  event.preventDefault();
  const form = $("guardian-form");
  clearErrors(form);
  const name = $("guardian_name").value.trim();
  const missing = {};
  if (!name) missing.guardian_name = "Please give your name.";
  if (!$("guardian_consent").checked) missing.consent = "Tick the box to give your consent.";
  if (showErrors(missing, { consent: "guardian_consent" })) return;
  say("Recording your consent…");
  const result = await post(`/applications/${encodeURIComponent(link.application)}/guardian-consent`, {
    token: link.token, guardian_name: name, consent: true, terms_version: terms ? terms.version : "",
  });
  if (result.status === 200) {
    form.hidden = true;
    say("Thank you: your consent is recorded. Our team will now review the application.");
    return;
  }
  if (result.status === 401) {
    say("This link was used already or has expired.");
    return;
  }
  const fields = (result.data && result.data.error && result.data.error.fields) || {};
  if (fields.terms_version) await loadTerms();
  showErrors(fields, { consent: "guardian_consent" });
  say(problem(result));
}

async function route() {
  if (link && link.kind === "verify") {
    await verify();
    return;
  }
  if (!terms) await loadTerms();
  if (link && link.kind === "guardian") show("guardian");
  else show("apply");
}

async function main() {
  $("apply-form").addEventListener("submit", apply);
  $("guardian-form").addEventListener("submit", consent);
  // A link opened in a tab that already shows this page changes only the fragment: read it the same way.
  window.addEventListener("hashchange", () => {
    const opened = takeLink();
    if (!opened) return;
    link = opened;
    route().catch(() => say("The page could not load. Please reload it."));
  });
  await route();
}

main().catch(() => say("The page could not load. Please reload it."));
