// Branding (GET /admin/branding; saving is admin only): the business's name, short line, colour, contact
// line and logo, used by Quick Help and its link previews, the referrer emails and the printable flyers.
// The logo is read in the browser and sent as base64; the API checks its type and size again.

import { $, clearErrors, fieldError, fieldErrors, say, when } from "./dom.js";

const MAX_LOGO_BYTES = 40 * 1024;
const TYPES = ["image/png", "image/jpeg", "image/svg+xml"];

function base64(buffer) {
  const bytes = new Uint8Array(buffer);
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

export function wireBranding({ session }) {
  let version = 0;
  let loads = 0;

  function fill(branding) {
    version = branding.version;
    $("branding-name").value = branding.business_name;
    $("branding-tagline").value = branding.tagline;
    $("branding-colour").value = branding.colour;
    $("branding-contact").value = branding.contact_line;
    $("branding-logo").value = "";
    $("branding-remove-logo").checked = false;
    $("branding-remove-logo-row").hidden = !branding.logo_type;
    // A new URL each time: the browser keeps the old picture for a while otherwise
    $("branding-logo-preview").setAttribute("src", `${branding.logo_url}?v=${branding.version}`);
    $("branding-version").textContent = branding.version
      ? `Version ${branding.version}, saved ${when(branding.updated_at)} by ${branding.updated_by}.`
      : "Not saved yet: these are the defaults.";
  }

  async function load() {
    loads += 1;
    const mine = loads;
    say("Loading the branding…");
    try {
      const branding = await session.api("GET", "/admin/branding");
      if (mine !== loads || $("view-branding").hidden) return;
      fill(branding);
      say("");
    } catch (error) {
      say(`Could not load the branding: ${error.message}`, { error: true });
    }
  }

  $("branding-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    clearErrors(form);
    const name = $("branding-name").value.trim();
    if (!name) return fieldError("branding-name", "Enter the business's name.");
    const body = {
      business_name: name, tagline: $("branding-tagline").value.trim(), colour: $("branding-colour").value,
      contact_line: $("branding-contact").value.trim(), keep_logo: !$("branding-remove-logo").checked,
      expected_version: version,
    };
    const file = $("branding-logo").files[0];
    if (file) {
      if (!TYPES.includes(file.type)) return fieldError("branding-logo", "Choose a PNG, JPEG or SVG file.");
      if (file.size > MAX_LOGO_BYTES) return fieldError("branding-logo", "The logo must be at most 40 KB.");
      body.logo = { content_type: file.type, data_base64: base64(await file.arrayBuffer()) };
    }
    try {
      fill(await session.api("PUT", "/admin/branding", body));
      say("Branding saved: pages, emails and flyers use it within a minute.");
    } catch (error) {
      const shown = fieldErrors(error, {
        business_name: "branding-name", tagline: "branding-tagline", colour: "branding-colour",
        contact_line: "branding-contact", logo: "branding-logo", "logo.data_base64": "branding-logo",
      });
      if (!shown) say(`Could not save the branding: ${error.message}`, { error: true });
    }
  });
  return { load };
}
