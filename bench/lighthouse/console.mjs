// Lighthouse (performance, accessibility) over the staff console on a running stack, as a user flow:
// the sign-in screen as a cold navigation, then each signed-in screen as a navigation that keeps the
// tab's sessionStorage (the tokens). Usage: node console.mjs <base-url> <email> <password> <out.json>
// Chromium: $CHROME_PATH (default /usr/bin/chromium). Prints nothing but errors; writes the scores.
import { writeFileSync } from "node:fs";
import puppeteer from "puppeteer-core";
import { startFlow } from "lighthouse";

const [base, email, password, out] = process.argv.slice(2);
const SCREENS = ["queue", "referrers", "withdrawals", "disputes", "program", "reports", "privacy"];
const browser = await puppeteer.launch({
  executablePath: process.env.CHROME_PATH || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run"],
});
try {
  const page = await browser.newPage();
  const config = { extends: "lighthouse:default", settings: { onlyCategories: ["performance", "accessibility"] } };
  const flow = await startFlow(page, { config, name: "Staff console" });
  await flow.navigate(`${base}/admin`, { name: "sign-in" });
  await page.type("#signin-email", email);
  await page.type("#signin-password", password);
  await page.click("#signin-form button[type=submit]");
  await page.waitForSelector("#view-queue:not([hidden])");
  for (const screen of SCREENS) {
    await flow.navigate(`${base}/admin?screen=${screen}#${screen}`,
      { name: screen, flags: { disableStorageReset: true } });
    await page.waitForSelector(`#view-${screen}:not([hidden])`, { timeout: 10000 });
  }
  const result = await flow.createFlowResult();
  const scores = result.steps.map((step) => ({
    screen: step.name,
    performance: step.lhr.categories.performance ? step.lhr.categories.performance.score : null,
    accessibility: step.lhr.categories.accessibility ? step.lhr.categories.accessibility.score : null,
    ...Object.fromEntries(["first-contentful-paint", "largest-contentful-paint", "total-blocking-time",
      "cumulative-layout-shift", "speed-index"].map((id) => [id, step.lhr.audits[id] ? step.lhr.audits[id].numericValue : null])),
  }));
  writeFileSync(out, JSON.stringify(scores, null, 1));
} finally {
  await browser.close();
}
