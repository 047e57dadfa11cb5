// eslint (flat config) for the browser pages' ES modules: `make lint` runs it. No build step, no framework.
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["**/node_modules/**", ".venv*/**", ".aws-sam/**", ".local/**", "test-artifacts/**", ".bench/**"] },
  js.configs.recommended,
  {
    // The staff console's modules, and the scripts referral_core.pages inlines (by hash) into its pages.
    files: ["functions/**/static/**/*.js", "shared/referral_core/pages/static/**/*.js"],
    languageOptions: { ecmaVersion: 2023, sourceType: "module", globals: { ...globals.browser } },
    rules: {
      eqeqeq: ["error", "always"],
      "no-var": "error",
      "prefer-const": "error",
      "no-implied-eval": "error",
      "no-eval": "error",
      "no-restricted-properties": ["error",
        { property: "innerHTML", message: "Insert data with textContent (the CSP's Trusted Types forbid HTML sinks)." },
        { property: "outerHTML", message: "Insert data with textContent." },
        { property: "insertAdjacentHTML", message: "Insert data with textContent." }],
      "no-restricted-syntax": ["error",
        { selector: "CallExpression[callee.object.name='console']", message: "No console logging: tokens and personal data must never reach a log." }],
    },
  },
  {
    // The API docs page's starter: a classic script next to the vendored Swagger UI bundle it calls.
    files: ["functions/api_docs/**/*.js"],
    languageOptions: { ecmaVersion: 2023, sourceType: "script",
                       globals: { ...globals.browser, SwaggerUIBundle: "readonly" } },
  },
  {
    files: ["eslint.config.js", "bench/**/*.mjs"],
    languageOptions: { sourceType: "module", globals: { ...globals.node } },
  },
];
