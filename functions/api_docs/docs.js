// Starts Swagger UI on /docs (a file, not an inline script: the page's CSP allows scripts from 'self' only).
"use strict";
window.ui = SwaggerUIBundle({
  url: "openapi.json",
  dom_id: "#swagger-ui",
  validatorUrl: null, // no badge from an outside validator: the page loads nothing from another host
});
