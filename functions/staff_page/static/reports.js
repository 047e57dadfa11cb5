// Reports: the funnel (GET /admin/reports/funnel) drawn as an inline SVG bar chart (no library, no CDN),
// and the accountant's CSV exports (GET /admin/exports/{kind}.csv), downloaded with the token.

import { $, append, clearErrors, el, fieldErrors, offerDownload, say } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const STEPS = [["clicks", "Clicks"], ["leads", "Leads"], ["jobs", "Jobs"], ["paid", "Paid jobs"], ["rewarded", "Rewarded"]];

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

/** A horizontal bar per funnel step, labelled with its count; the numbers are in the table below too. */
export function funnelChart(totals) {
  const width = 320;
  const barHeight = 26;
  const gap = 10;
  const labelWidth = 80;
  const max = Math.max(1, ...STEPS.map(([key]) => Number(totals[key] || 0)));
  const height = STEPS.length * (barHeight + gap);
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img", "aria-labelledby": "funnel-chart-title funnel-chart-desc", class: "chart" });
  chart.appendChild(svg("title", { id: "funnel-chart-title" }, "Referral funnel"));
  chart.appendChild(svg("desc", { id: "funnel-chart-desc" }, STEPS.map(([key, label]) => `${label}: ${totals[key] || 0}`).join(", ")));
  STEPS.forEach(([key, label], index) => {
    const y = index * (barHeight + gap);
    const value = Number(totals[key] || 0);
    const length = Math.max(2, ((width - labelWidth - 50) * value) / max);
    chart.appendChild(svg("text", { x: 0, y: y + barHeight * 0.68, class: "chart-label" }, label));
    chart.appendChild(svg("rect", { x: labelWidth, y, width: length, height: barHeight, rx: 3, class: "chart-bar" }));
    chart.appendChild(svg("text", { x: labelWidth + length + 6, y: y + barHeight * 0.68, class: "chart-value" }, value));
  });
  return chart;
}

function percent(rate) {
  return rate === null || rate === undefined ? "—" : `${Math.round(rate * 1000) / 10} %`;
}

export function wireReports({ session }) {
  async function load() {
    const code = $("funnel-code").value.trim();
    const params = new URLSearchParams({ limit: "50" });
    if (code) params.set("code", code.toUpperCase());
    say("Loading the funnel…");
    let report;
    try {
      report = await session.api("GET", `/admin/reports/funnel?${params}`);
    } catch (error) {
      say(`Could not load the funnel: ${error.message}`, { error: true });
      return;
    }
    const head = el("tr");
    for (const title of ["Code", "Placement", "Clicks", "Leads", "Jobs", "Paid", "Rewarded", "Clicks → leads"]) head.appendChild(el("th", title, { scope: "col" }));
    const body = el("tbody");
    for (const row of report.rows) {
      const tr = el("tr");
      for (const cell of [row.code, row.placement && row.placement !== "-" ? row.placement : "—", row.clicks, row.leads, row.jobs, row.paid, row.rewarded,
        percent(row.conversion.clicks_to_leads)]) tr.appendChild(el("td", cell));
      body.appendChild(tr);
    }
    $("funnel-chart").replaceChildren(funnelChart(report.totals),
      report.rows.length ? append(el("div", null, { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Funnel by code and placement" }),
        append(el("table"), el("caption", "By code and placement", { class: "meta" }), append(el("thead"), head), body))
        : el("p", "Nothing counted yet.", { class: "empty" }));
    say("");
  }

  $("funnel-form").addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });

  const month = new Date().toISOString().slice(0, 7);
  $("exports-from").value = month;
  $("exports-to").value = month;
  $("exports-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(event.currentTarget);
    const kind = $("exports-kind").value;
    const params = new URLSearchParams({ from: $("exports-from").value, to: $("exports-to").value });
    try {
      const blob = await session.file(`/admin/exports/${kind}.csv?${params}`);
      offerDownload($("exports-link"), blob, `${kind}-${params.get("from")}-to-${params.get("to")}.csv`);
      say("The CSV is ready.");
    } catch (error) {
      if (!fieldErrors(error, { from: "exports-from", to: "exports-to" })) say(`Could not export: ${error.message}`, { error: true });
    }
  });
  return { load };
}
