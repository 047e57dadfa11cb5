// DOM helpers. Data only ever goes in as text (textContent) or attributes: the CSP's Trusted Types rule
// (`require-trusted-types-for 'script'` with no policy) makes any HTML sink throw.

export const $ = (id) => document.getElementById(id);

export function el(tag, text, attrs = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value === true ? "" : String(value));
  }
  return node;
}

export function append(parent, ...children) {
  for (const child of children) {
    if (child !== null && child !== undefined) parent.appendChild(child);
  }
  return parent;
}

export function say(text, { error = false } = {}) {
  const status = $("status");
  status.textContent = text || "";
  status.classList.toggle("error", error);
}

/** Shows one message under a field (the field's `aria-describedby` names the `<id>-error` paragraph). */
export function fieldError(fieldId, message) {
  const field = $(fieldId);
  const slot = $(`${fieldId}-error`);
  if (slot) slot.textContent = message || "";
  if (field) {
    if (message) field.setAttribute("aria-invalid", "true");
    else field.removeAttribute("aria-invalid");
  }
  if (message && field) field.focus();
}

export function clearErrors(form) {
  for (const field of form.querySelectorAll("[aria-invalid]")) field.removeAttribute("aria-invalid");
  for (const slot of form.querySelectorAll(".field-error")) slot.textContent = "";
}

/** A `<dl>` of label/value pairs, leaving out empty values. */
export function facts(pairs) {
  const list = el("dl", null, { class: "facts" });
  for (const [label, value] of pairs) {
    if (value === undefined || value === null || value === "") continue;
    append(list, el("dt", label), el("dd", value));
  }
  return list;
}

export function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return date.toLocaleString(undefined, { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" });
}

let defaultCurrency = "AUD";

/** The stack's currency (config.json), for amounts that do not carry their own. */
export function useCurrency(currency) {
  if (currency) defaultCurrency = currency;
}

export function money(cents, currency) {
  if (cents === undefined || cents === null) return "";
  return new Intl.NumberFormat(undefined, { style: "currency", currency: currency || defaultCurrency }).format(Number(cents) / 100);
}

/** Offers a Blob as a download through `link` (an <a> on the page): no token ever goes in a URL. */
export function offerDownload(link, blob, filename) {
  if (link.href) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(blob);
  link.download = filename;
  link.hidden = false;
  link.textContent = `Save ${filename}`;
  link.click();
}

/** "25.00" -> 2500 cents; null for an empty or unreadable amount. */
export function cents(text) {
  const value = String(text || "").trim().replace(/^[^\d.-]+/, "");
  if (!/^\d+(\.\d{1,2})?$/.test(value)) return null;
  return Math.round(Number(value) * 100);
}

/** Shows the API's `error.fields` next to their fields (`byField`: API field name -> input id). */
export function fieldErrors(error, byField) {
  let shown = false;
  for (const [name, message] of Object.entries(error.fields || {})) {
    const id = byField[name] || byField[name.split(".")[0]];
    if (id) {
      fieldError(id, message);
      shown = true;
    }
  }
  return shown;
}

export const words = (value) => (value ? String(value).replaceAll("_", " ") : "");
