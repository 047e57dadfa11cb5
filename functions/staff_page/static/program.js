// Programme rules (GET /admin/program; PUT it, admin only, with the version read: 409 if it changed).
// The form edits the everyday rules; "Review the changes" lists them in plain words before saving.

import { $, append, cents, clearErrors, el, fieldError, fieldErrors, money, say, when } from "./dom.js";

let tierSerial = 0;

function rewardText(reward) {
  if (!reward) return "";
  if (reward.flat_cents !== undefined && reward.flat_cents !== null) return money(reward.flat_cents);
  return `${reward.percent_bp / 100} % of the paid job${reward.cap_cents ? ` (at most ${money(reward.cap_cents)})` : ""}`;
}

// The yearly statements' defaults (docs/api.md "Yearly statements"), for rules saved before they existed.
const STATEMENTS = { year_start_month: 7, time_zone: "Australia/Sydney" };
// The bank file settings of payout batches (rules.payout_file): form id suffix -> field.
const PAYOUT_FILE = [["apca", "apca_user_id"], ["username", "user_name"], ["remitter", "remitter_name"],
  ["bank", "financial_institution"], ["bsb", "bsb"], ["account", "account_number"]];
const monthName = (month) => new Date(Date.UTC(2000, month - 1, 1)).toLocaleString(undefined, { month: "long", timeZone: "UTC" });

function rewardInput(reward) {
  if (!reward) return "";
  if (reward.flat_cents !== undefined && reward.flat_cents !== null) return (reward.flat_cents / 100).toFixed(2);
  return `${reward.percent_bp / 100}%`;
}

// Per-type overrides (rules.by_type): a type's tiers are the general tiers with their own reward amounts. A
// type whose saved tiers differ (set through the API) is shown as such and kept as it is.
const TYPES = [["customer", "Customer"], ["local_partner", "Local partner business"], ["ambassador", "Ambassador"],
  ["campus_helper", "Campus helper"]];
const sameSteps = (a, b) => a.length === b.length && a.every((t, i) => t.name === b[i].name && t.min_rewarded === b[i].min_rewarded);

function parseReward(text, cap) {
  if (text.endsWith("%")) {
    const pct = Number(text.slice(0, -1).trim());
    if (!(pct > 0 && pct <= 100)) return null;
    return { percent_bp: Math.round(pct * 100), ...(cap ? { cap_cents: Number(cap) } : {}) };
  }
  const amount = cents(text);
  return amount === null ? null : { flat_cents: amount };
}

function typeSummary(rules) {
  const byType = rules.by_type || {};
  return TYPES.filter(([type]) => byType[type])
    .map(([type, label]) => `${label}: ${byType[type].tiers.map((t) => `${t.name} ${rewardText(t.reward)}`).join(", ")}`).join("; ");
}

export function wireProgram({ session }) {
  let current = null; // { rules, version, ... }
  let proposed = null;

  function tierRow(tier) {
    tierSerial += 1;
    const n = tierSerial;
    const row = el("div", null, { class: "tier", "data-tier": String(n) });
    const input = (label, name, value, attrs = {}) => {
      const id = `tier-${n}-${name}`;
      return [el("label", label, { for: id }), el("input", null, { id, name, value, autocomplete: "off", "aria-describedby": `${id}-error`, ...attrs }),
        el("p", null, { id: `${id}-error`, class: "field-error" })];
    };
    append(row, ...input("Tier name", "name", tier.name),
      ...input("From this many rewarded referrals", "min_rewarded", String(tier.min_rewarded), { inputmode: "numeric" }),
      ...input("Reward (an amount like 25.00, or a percentage like 10%)", "reward", rewardInput(tier.reward)));
    row.dataset.cap = tier.reward && tier.reward.cap_cents ? String(tier.reward.cap_cents) : "";
    return row;
  }

  function byTypeTable(rules) {
    const byType = rules.by_type || {};
    const head = append(el("tr"), el("th", "Referrer type", { scope: "col" }),
      ...rules.tiers.map((t) => el("th", `${t.name} (${rewardText(t.reward)})`, { scope: "col" })));
    const rows = TYPES.map(([type, label]) => {
      const own = byType[type];
      const tr = append(el("tr", null, { "data-type": type }), el("th", label, { scope: "row" }));
      if (own && !sameSteps(own.tiers, rules.tiers)) {
        tr.dataset.custom = "true";
        return append(tr, el("td", `Own tiers (kept): ${own.tiers.map((t) => `${t.name} from ${t.min_rewarded}: ${rewardText(t.reward)}`).join(", ")}`,
          { colspan: String(rules.tiers.length) }));
      }
      rules.tiers.forEach((tier, i) => {
        const id = `bytype-${type}-${i}`;
        const mine = own ? own.tiers[i].reward : null;
        const input = el("input", null, { id, value: mine ? rewardInput(mine) : "", autocomplete: "off", "aria-label": `${label}, ${tier.name}`,
          "aria-describedby": "program-by-type-error", "data-cap": mine && mine.cap_cents ? String(mine.cap_cents) : "" });
        tr.appendChild(append(el("td"), input));
      });
      return tr;
    });
    $("program-by-type").replaceChildren(el("caption", "Reward per tier for each referrer type", { class: "meta" }),
      append(el("thead"), head), append(el("tbody"), ...rows));
  }

  /** rules.by_type from the table for ``tiers`` (the general ones just read), or null after an error. */
  function readByType(tiers) {
    const byType = {};
    const saved = current.rules.by_type || {};
    for (const [type] of TYPES) {
      const tr = $("program-by-type").querySelector(`tr[data-type="${type}"]`);
      if (tr && tr.dataset.custom) {
        byType[type] = saved[type];
        continue;
      }
      const inputs = current.rules.tiers.map((_, i) => $(`bytype-${type}-${i}`));
      if (inputs.every((input) => !input || !input.value.trim())) continue;
      if (inputs.length !== tiers.length) return invalid("program-by-type", "Save the tiers first, then the amounts per type.");
      const own = [];
      for (let i = 0; i < tiers.length; i += 1) {
        const text = inputs[i].value.trim();
        const reward = text ? parseReward(text, inputs[i].dataset.cap) : tiers[i].reward;
        if (!reward) return invalid("program-by-type", "An amount like 25.00, or a percentage like 10%.");
        own.push({ name: tiers[i].name, min_rewarded: tiers[i].min_rewarded, reward });
      }
      byType[type] = { tiers: own };
    }
    return byType;
  }

  function fill(program) {
    current = program;
    const rules = program.rules;
    $("program-version").textContent = program.version
      ? `Version ${program.version}, saved ${when(program.updated_at)} by ${program.updated_by || "staff"}.`
      : "The default rules (never saved yet).";
    $("program-tiers").replaceChildren(...rules.tiers.map(tierRow));
    byTypeTable(rules);
    $("program-form").hidden = false; // shown once filled: nothing moves under the reader
    $("program-history").hidden = false;
    $("program-holding").value = String(rules.holding_days);
    $("program-minjob").value = (rules.min_job_value_cents / 100).toFixed(2);
    $("program-minwd").value = (rules.min_withdrawal_cents / 100).toFixed(2);
    $("program-review").checked = Boolean(rules.require_review);
    $("program-zones").value = (rules.zones || []).join(", ");
    $("program-minage").value = String((rules.applications || {}).minimum_age ?? 18);
    const statements = { ...STATEMENTS, ...rules.statements };
    $("program-fy-start").value = String(statements.year_start_month);
    $("program-time-zone").value = statements.time_zone;
    const payoutFile = rules.payout_file || {};
    for (const [id, key] of PAYOUT_FILE) $(`program-pf-${id}`).value = payoutFile[key] || "";
    $("program-pf-balancing").checked = Boolean(payoutFile.balancing_record);
    const editable = session.can("admin");
    for (const field of $("program-form").querySelectorAll("input, select")) field.disabled = !editable;
    $("program-check").hidden = !editable;
    $("program-save").hidden = true;
    $("program-summary").hidden = true;
    $("program-conflict").hidden = true;
  }

  let versionsCursor = null;

  function summaryOf(rules) {
    const tiers = rules.tiers.map((t) => `${t.name} ${rewardText(t.reward)}`).join(", ");
    const types = typeSummary(rules);
    return `${tiers}${types ? ` (${types})` : ""}; holding ${rules.holding_days} days; withdrawals from ${money(rules.min_withdrawal_cents)}; `
      + `${rules.require_review ? "every reward reviewed" : "no review needed"}`;
  }

  async function versions({ more = false } = {}) {
    const params = new URLSearchParams({ limit: "10" });
    if (more && versionsCursor) params.set("cursor", versionsCursor);
    try {
      const page = await session.api("GET", `/admin/program/versions?${params}`);
      const list = $("program-versions");
      if (!more) list.replaceChildren();
      for (const item of page.items) {
        list.appendChild(append(el("li", null, { "data-version": String(item.version) }),
          el("strong", `Version ${item.version}`), el("span", ` — ${when(item.updated_at)} by ${item.updated_by || "staff"}`, { class: "meta" }),
          el("p", summaryOf(item.rules))));
      }
      if (!list.childElementCount) list.appendChild(el("li", "Never saved: the defaults are in force.", { class: "empty" }));
      versionsCursor = page.next_cursor;
      $("program-versions-more").hidden = !versionsCursor;
    } catch (error) {
      say(`Could not load the saved versions: ${error.message}`, { error: true });
    }
  }
  $("program-versions-more").addEventListener("click", () => versions({ more: true }));

  async function load() {
    versions();
    say("Loading the rules…");
    try {
      fill(await session.api("GET", "/admin/program"));
      say(session.can("admin") ? "" : "Only an admin can change the programme rules.");
    } catch (error) {
      say(`Could not load the rules: ${error.message}`, { error: true });
    }
  }

  const invalid = (id, message) => {
    fieldError(id, message);
    return null;
  };

  /** The rules the form describes, or null after showing what is wrong next to the field. */
  function read() {
    const rules = { ...current.rules };
    const tiers = [];
    for (const row of $("program-tiers").querySelectorAll(".tier")) {
      const n = row.dataset.tier;
      const name = $(`tier-${n}-name`).value.trim();
      const min = Number($(`tier-${n}-min_rewarded`).value);
      const text = $(`tier-${n}-reward`).value.trim();
      if (!name) return invalid(`tier-${n}-name`, "Give the tier a name.");
      if (!Number.isInteger(min) || min < 0) return invalid(`tier-${n}-min_rewarded`, "A whole number, 0 or more.");
      let reward;
      if (text.endsWith("%")) {
        const pct = Number(text.slice(0, -1).trim());
        if (!(pct > 0 && pct <= 100)) return invalid(`tier-${n}-reward`, "A percentage between 0 and 100.");
        reward = { percent_bp: Math.round(pct * 100), ...(row.dataset.cap ? { cap_cents: Number(row.dataset.cap) } : {}) };
      } else {
        const amount = cents(text);
        if (amount === null) return invalid(`tier-${n}-reward`, "An amount like 25.00, or a percentage like 10%.");
        reward = { flat_cents: amount };
      }
      tiers.push({ name, min_rewarded: min, reward });
    }
    rules.tiers = tiers;
    const byType = readByType(tiers);
    if (!byType) return null;
    rules.by_type = byType;
    const holding = Number($("program-holding").value);
    if (!Number.isInteger(holding) || holding < 0 || holding > 365) return invalid("program-holding", "Days from 0 to 365.");
    rules.holding_days = holding;
    for (const [id, key] of [["program-minjob", "min_job_value_cents"], ["program-minwd", "min_withdrawal_cents"]]) {
      const amount = cents($(id).value);
      if (amount === null) return invalid(id, "An amount like 20.00.");
      rules[key] = amount;
    }
    rules.require_review = $("program-review").checked;
    rules.zones = $("program-zones").value.split(",").map((z) => z.trim()).filter(Boolean);
    const age = Number($("program-minage").value);
    if (!Number.isInteger(age) || age < 13 || age > 25) return invalid("program-minage", "An age from 13 to 25.");
    rules.applications = { ...(rules.applications || {}), minimum_age: age };
    const zone = $("program-time-zone").value.trim();
    if (!zone) return invalid("program-time-zone", "A time zone name such as Australia/Sydney."); // the server checks the name
    rules.statements = { ...STATEMENTS, ...current.rules.statements, year_start_month: Number($("program-fy-start").value), time_zone: zone };
    const payoutFile = { balancing_record: $("program-pf-balancing").checked };
    for (const [id, key] of PAYOUT_FILE) payoutFile[key] = $(`program-pf-${id}`).value.trim() || null;
    rules.payout_file = payoutFile;
    return rules;
  }

  function changes(before, after) {
    const out = [];
    const compare = (label, a, b) => { if (a !== b) out.push(`${label}: ${a} → ${b}`); };
    compare("Holding period", `${before.holding_days} days`, `${after.holding_days} days`);
    compare("Smallest job that earns a reward", money(before.min_job_value_cents), money(after.min_job_value_cents));
    compare("Smallest withdrawal", money(before.min_withdrawal_cents), money(after.min_withdrawal_cents));
    compare("Staff review of every reward", before.require_review ? "yes" : "no", after.require_review ? "yes" : "no");
    compare("Postcodes served", (before.zones || []).join(", ") || "everywhere", after.zones.join(", ") || "everywhere");
    compare("Minimum age without a guardian's consent", String((before.applications || {}).minimum_age ?? 18),
      String(after.applications.minimum_age));
    const was = { ...STATEMENTS, ...before.statements };
    compare("The financial year starts in", monthName(was.year_start_month), monthName(after.statements.year_start_month));
    compare("Statements' time zone", was.time_zone, after.statements.time_zone);
    const fileBefore = before.payout_file || {};
    for (const [, key] of PAYOUT_FILE) {
      compare(`Bank file ${key.replaceAll("_", " ")}`, fileBefore[key] || "not set", after.payout_file[key] || "not set");
    }
    compare("Bank file balancing line", fileBefore.balancing_record ? "yes" : "no", after.payout_file.balancing_record ? "yes" : "no");
    compare("Rewards by referrer type", typeSummary(before) || "the general tiers", typeSummary(after) || "the general tiers");
    const count = Math.max(before.tiers.length, after.tiers.length);
    for (let i = 0; i < count; i += 1) {
      const a = before.tiers[i];
      const b = after.tiers[i];
      const describe = (t) => (t ? `${t.name} from ${t.min_rewarded} rewarded: ${rewardText(t.reward)}` : "none");
      compare(`Tier ${i + 1}`, describe(a), describe(b));
    }
    return out;
  }

  $("program-form").addEventListener("submit", (event) => {
    event.preventDefault();
    clearErrors(event.currentTarget);
    const rules = read();
    if (!rules) return;
    const list = changes(current.rules, rules);
    const summary = $("program-summary");
    summary.hidden = false;
    if (!list.length) {
      summary.replaceChildren(el("p", "Nothing changes."));
      $("program-save").hidden = true;
      return;
    }
    proposed = rules;
    summary.replaceChildren(el("p", "Saving changes these rules for new rewards (rewards already credited keep theirs):"),
      append(el("ul"), ...list.map((text) => el("li", text))));
    $("program-save").hidden = false;
    $("program-save").focus();
  });

  $("program-save").addEventListener("click", async () => {
    try {
      const saved = await session.api("PUT", "/admin/program", { ...proposed, expected_version: current.version });
      fill(saved);
      await versions();
      say(`Rules saved: version ${saved.version}.`);
    } catch (error) {
      if (error.status === 409) {
        $("program-conflict").hidden = false;
        $("program-reload").focus();
        return;
      }
      const ids = { holding_days: "program-holding", min_job_value_cents: "program-minjob", min_withdrawal_cents: "program-minwd", zones: "program-zones",
        by_type: "program-by-type", "statements.year_start_month": "program-fy-start", "statements.time_zone": "program-time-zone", statements: "program-time-zone",
        ...Object.fromEntries(PAYOUT_FILE.map(([id, key]) => [`payout_file.${key}`, `program-pf-${id}`])) };
      if (!fieldErrors(error, ids)) say(`Could not save: ${error.message}`, { error: true });
    }
  });
  $("program-reload").addEventListener("click", load);
  return { load };
}
