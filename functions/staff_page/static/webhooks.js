// Outbound webhooks: the subscriptions (GET /admin/webhooks), subscribing an address (admin), rotating its
// signing secret and disabling it (admin), and each subscription's deliveries with a replay of a failed or
// delivered one (staff). A secret is shown once, when it is made: the API never returns it again.

import { $, append, clearErrors, el, fieldError, fieldErrors, say, when, words } from "./dom.js";

const EVENTS = {
  "lead.received": "A lead is received",
  "referral.accepted": "Staff accept a referral",
  "referral.dismissed": "Staff dismiss a referral",
  "reward.available": "A reward becomes available",
  "withdrawal.paid": "A withdrawal is paid",
};
let serial = 0;

function showSecret(secret, intro) {
  const box = $("webhooks-secret");
  box.replaceChildren(el("h2", "Signing secret", { tabindex: "-1", id: "webhooks-secret-title" }),
    el("p", `${intro} Copy it into the receiving tool now: it is not shown again.`),
    el("code", secret));
  box.hidden = false;
  $("webhooks-secret-title").focus();
}

export function wireWebhooks({ session }) {
  let loads = 0;

  function deliveriesPanel(hook) {
    serial += 1;
    const statusId = `webhook-deliveries-status-${serial}`;
    const panel = el("div", null, { class: "deliveries", hidden: true });
    const status = el("select", null, { id: statusId });
    for (const [value, label] of [["", "All"], ["failed", "Failed"], ["retrying", "Retrying"], ["delivered", "Delivered"], ["pending", "Pending"]]) {
      status.appendChild(el("option", label, { value }));
    }
    const list = el("ul", null, { class: "queue", "aria-label": `Deliveries to ${hook.url}, newest first` });
    const more = el("button", "Show more", { type: "button", class: "secondary", hidden: true });
    let cursor = null;

    function row(delivery) {
      const li = el("li", null, { "data-delivery-id": delivery.delivery_id });
      const outcome = delivery.last_status_code ? `HTTP ${delivery.last_status_code}` : words(delivery.last_error || "");
      append(li,
        append(el("div", null, { class: "row-head" }), el("strong", delivery.event_type),
          el("span", words(delivery.status), { class: `chip ${delivery.status === "failed" ? "high" : delivery.status === "delivered" ? "ok" : ""}` })),
        el("p", `${when(delivery.created_at)} · ${delivery.attempts} attempt(s)${outcome ? ` · last: ${outcome}` : ""}${delivery.next_attempt_at ? ` · next ${when(delivery.next_attempt_at)}` : ""}`, { class: "meta" }),
        el("p", `webhook-id ${delivery.delivery_id}`, { class: "meta" }));
      if (["failed", "delivered"].includes(delivery.status) && session.can("staff")) {
        const replay = el("button", "Replay", { type: "button", class: "secondary", "aria-label": `Replay ${delivery.event_type} of ${when(delivery.created_at)}` });
        replay.addEventListener("click", async () => {
          try {
            const again = await session.api("POST", `/admin/webhooks/${encodeURIComponent(hook.webhook_id)}/deliveries/${encodeURIComponent(delivery.delivery_id)}/replay`);
            li.replaceWith(row(again));
            say("Queued again: it is sent within a minute, with the same webhook-id.");
          } catch (error) {
            say(`Could not replay it: ${error.message}`, { error: true });
          }
        });
        append(li, replay);
      }
      return li;
    }

    async function load({ next = false } = {}) {
      if (!next) cursor = null;
      const params = new URLSearchParams({ limit: "20" });
      if (status.value) params.set("status", status.value);
      if (cursor) params.set("cursor", cursor);
      try {
        const page = await session.api("GET", `/admin/webhooks/${encodeURIComponent(hook.webhook_id)}/deliveries?${params}`);
        if (!next) list.replaceChildren();
        for (const item of page.items) list.appendChild(row(item));
        if (!list.childElementCount) list.appendChild(el("li", "No deliveries here yet.", { class: "empty" }));
        cursor = page.next_cursor;
        more.hidden = !cursor;
        say(`${list.querySelectorAll("li[data-delivery-id]").length} delivery(ies) shown.`);
      } catch (error) {
        say(`Could not load the deliveries: ${error.message}`, { error: true });
      }
    }
    status.addEventListener("change", () => load());
    more.addEventListener("click", () => load({ next: true }));
    append(panel, el("label", "Deliveries", { for: statusId }), status, list, more);
    return { panel, load };
  }

  function row(hook) {
    const li = el("li", null, { "data-webhook-id": hook.webhook_id });
    const deliveries = deliveriesPanel(hook);
    const toggle = el("button", "Deliveries", { type: "button", class: "secondary", "aria-expanded": "false", "aria-label": `Deliveries to ${hook.url}` });
    toggle.addEventListener("click", async () => {
      const open = deliveries.panel.hidden;
      deliveries.panel.hidden = !open;
      toggle.setAttribute("aria-expanded", String(open));
      if (open) await deliveries.load();
    });
    append(li,
      append(el("div", null, { class: "row-head" }), el("strong", hook.url),
        el("span", words(hook.status), { class: `chip ${hook.status === "active" ? "ok" : "high"}` })),
      hook.description ? el("p", hook.description) : null,
      el("p", `Sends: ${hook.events.map((e) => EVENTS[e] || e).join(", ")}`, { class: "meta" }),
      el("p", `Added ${when(hook.created_at)} by ${hook.created_by}${hook.secret_rotated_at ? ` · secret rotated ${when(hook.secret_rotated_at)}` : ""}${hook.previous_secret_expires_at ? ` (the old one signs too until ${when(hook.previous_secret_expires_at)})` : ""}`, { class: "meta" }),
      toggle);
    if (hook.status === "active" && session.can("admin")) {
      const rotate = el("button", "Rotate secret", { type: "button", class: "secondary", "aria-label": `Rotate the secret of ${hook.url}` });
      rotate.addEventListener("click", async () => {
        try {
          const rotated = await session.api("POST", `/admin/webhooks/${encodeURIComponent(hook.webhook_id)}/rotate`);
          showSecret(rotated.secret, `The new secret of ${hook.url}. The old one keeps signing until ${when(rotated.previous_secret_expires_at)}.`);
        } catch (error) {
          say(`Could not rotate the secret: ${error.message}`, { error: true });
        }
      });
      const disable = el("button", "Disable", { type: "button", class: "secondary", "aria-label": `Disable ${hook.url}` });
      disable.addEventListener("click", async () => {
        try {
          await session.api("DELETE", `/admin/webhooks/${encodeURIComponent(hook.webhook_id)}`);
        } catch (error) {
          say(`Could not disable it: ${error.message}`, { error: true });
          return;
        }
        await load();
        say(`${hook.url} is disabled: nothing more is sent to it.`);
      });
      append(li, rotate, disable);
    }
    return append(li, deliveries.panel);
  }

  async function load() {
    loads += 1;
    const mine = loads;
    say("Loading the webhooks…");
    try {
      const answer = await session.api("GET", "/admin/webhooks");
      if (mine !== loads || $("view-webhooks").hidden) return;
      const list = $("webhooks-list");
      list.replaceChildren(...answer.items.map(row));
      if (!list.childElementCount) list.appendChild(el("li", "No webhooks yet.", { class: "empty" }));
      say(`${answer.items.length} webhook(s).`);
    } catch (error) {
      say(`Could not load the webhooks: ${error.message}`, { error: true });
    }
  }

  const boxes = $("webhook-events");
  for (const [value, label] of Object.entries(EVENTS)) {
    const id = `webhook-event-${value.replace(".", "-")}`;
    append(boxes, append(el("div", null, { class: "check" }),
      el("input", null, { type: "checkbox", id, name: "events", value }), el("label", `${label} (${value})`, { for: id })));
  }

  $("webhook-add").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    clearErrors(form);
    const url = $("webhook-url").value.trim();
    const events = [...form.querySelectorAll("input[name=events]:checked")].map((box) => box.value);
    if (!url) return fieldError("webhook-url", "Enter the address to send to (https://…).");
    if (!events.length) {
      $("webhook-events-error").textContent = "Choose at least one event.";
      return boxes.querySelector("input").focus();
    }
    let created;
    try {
      created = await session.api("POST", "/admin/webhooks", { url, events, description: $("webhook-description").value.trim() });
    } catch (error) {
      if (error.fields && error.fields.events) $("webhook-events-error").textContent = error.fields.events;
      if (!fieldErrors(error, { url: "webhook-url", description: "webhook-description" }) && !(error.fields && error.fields.events)) {
        say(`Could not add it: ${error.message}`, { error: true });
      }
      return;
    }
    form.reset();
    await load();
    showSecret(created.secret, `The secret that signs what is sent to ${created.url}.`);
  });
  return { load };
}
