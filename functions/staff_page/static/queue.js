// The review queue: GET /admin/reviews by status, flag type and severity, newest change first, paged.

import { $, append, clearErrors, el, fieldError, fieldErrors, say, when, words } from "./dom.js";
import { FLAG_TEXT } from "./evidence.js";

export function wireQueue({ session, openReferral }) {
  let cursor = null;
  let loads = 0; // only the latest load of the list renders (an older one may answer after it)

  for (const type of Object.keys(FLAG_TEXT)) {
    $("queue-flag").appendChild(el("option", FLAG_TEXT[type].title, { value: type }));
  }

  function query() {
    const params = new URLSearchParams({ status: $("queue-status").value, limit: "20" });
    if ($("queue-flag").value) params.set("flag_type", $("queue-flag").value);
    if ($("queue-severity").value) params.set("severity", $("queue-severity").value);
    for (const [name, id] of [["source", "queue-source"], ["from", "queue-from"], ["to", "queue-to"]]) {
      if ($(id).value) params.set(name, $(id).value);
    }
    if (cursor) params.set("cursor", cursor);
    return params;
  }

  function row(item) {
    const li = el("li", null, { "data-referral-id": item.lead_id });
    const name = item.masked_name || "Customer";
    const head = append(el("div", null, { class: "row-head" }),
      el("strong", name), el("span", when(item.updated_at), { class: "meta" }));
    const flags = el("ul", null, { class: "chips", "aria-label": "Flags" });
    for (const flag of item.flag_types || []) flags.appendChild(el("li", (FLAG_TEXT[flag] || { title: words(flag) }).title, { class: "chip" }));
    const open = el("button", "Open evidence", { type: "button", class: "secondary", "aria-label": `Open the evidence for ${name}` });
    open.addEventListener("click", () => openReferral(item.lead_id));
    return append(li, head,
      el("p", `Stage: ${words(item.stage) || "—"}${item.postcode ? ` · postcode ${item.postcode}` : ""}`, { class: "meta" }),
      flags.childElementCount ? flags : null, open);
  }

  const STATUS_TEXT = { open: "Open", questioned: "Questioned", deferred: "Deferred", accepted: "Accepted", dismissed: "Dismissed" };

  async function counts() {
    const list = $("queue-counts");
    try {
      const answer = await session.api("GET", "/admin/reviews/counts");
      list.replaceChildren(...answer.counts.map((entry) => {
        const button = el("button", STATUS_TEXT[entry.status] || entry.status, {
          type: "button", "data-status": entry.status, "aria-pressed": String(entry.status === $("queue-status").value),
        });
        button.appendChild(el("span", `${entry.count}${entry.capped ? "+" : ""}`, { class: "n" }));
        button.addEventListener("click", () => {
          $("queue-status").value = entry.status;
          load();
        });
        return append(el("li"), button);
      }));
    } catch {
      list.replaceChildren();
    }
  }

  async function load({ more = false } = {}) {
    loads += 1;
    const mine = loads;
    if (!more) {
      cursor = null;
      counts();
    }
    say("Loading the queue…");
    try {
      const page = await session.api("GET", `/admin/reviews?${query()}`);
      if (mine !== loads || $("view-queue").hidden) return; // a newer load renders, or another screen is open
      const list = $("queue-list");
      if (!more) list.replaceChildren();
      for (const item of page.items) list.appendChild(row(item));
      if (!list.childElementCount) list.appendChild(el("li", "Nothing in this queue.", { class: "empty" }));
      cursor = page.next_cursor;
      $("queue-more").hidden = !cursor;
      say(`${list.querySelectorAll("li[data-referral-id]").length} referral(s) shown${cursor ? "; more below" : ""}.`);
    } catch (error) {
      if (!fieldErrors(error, { from: "queue-from", to: "queue-to" })) say(`Could not load the queue: ${error.message}`, { error: true });
    }
  }

  $("queue-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    clearErrors(event.currentTarget);
    load();
  });
  $("queue-find").addEventListener("submit", (event) => {
    event.preventDefault();
    clearErrors(event.currentTarget);
    const id = $("queue-id").value.trim();
    if (!id) return fieldError("queue-id", "Enter a referral id (it is on every referral's page).");
    openReferral(id);
  });
  $("queue-more").addEventListener("click", () => load({ more: true }));
  return { load };
}
