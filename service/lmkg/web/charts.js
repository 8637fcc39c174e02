// Charts from GET /ui/charts: parameter count against release date (log scale, SLM and LLM in
// two colours, the size threshold as a line) and the number of models per kind and year.
import { api, el, formatCount, heading } from "./dom.js";

const COLOURS = { slm: "#1b7f6b", llm: "#c24f00", threshold: "#555" };
const KIND_LABELS = { slm: "Small (SLM)", llm: "Large (LLM)" };

/** A date as a fractional year (2024-07-02 is about 2024.5), so that the axis ticks fall on years. */
function yearOf(date) {
  const day = new Date(`${date}T00:00:00Z`);
  const start = Date.UTC(day.getUTCFullYear(), 0, 1);
  return day.getUTCFullYear() + (day - start) / (Date.UTC(day.getUTCFullYear() + 1, 0, 1) - start);
}

function scatter(canvas, data) {
  const times = data.points.map((p) => yearOf(p.releaseDate));
  const span = [Math.min(...times), Math.max(...times)];
  const dataset = (kind) => ({
    type: "scatter",
    label: KIND_LABELS[kind],
    data: data.points.filter((p) => p.kind === kind).map((p) => ({ x: yearOf(p.releaseDate), y: p.parameterCount, model: p })),
    backgroundColor: COLOURS[kind] + "b0",
    borderColor: COLOURS[kind],
    pointStyle: kind === "slm" ? "circle" : "triangle",
    pointRadius: 4,
    pointHoverRadius: 7,
  });
  return new Chart(canvas, {
    data: {
      datasets: [
        dataset("slm"),
        dataset("llm"),
        {
          type: "line",
          label: `Size threshold (${formatCount(data.threshold)} parameters)`,
          data: span.map((x) => ({ x, y: data.threshold })),
          borderColor: COLOURS.threshold,
          borderDash: [6, 4],
          borderWidth: 2,
          pointRadius: 0,
          pointHoverRadius: 0,
        },
      ],
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: {
        x: {
          type: "linear",
          title: { display: true, text: "Release date" },
          ticks: { precision: 0, callback: (value) => (Number.isInteger(value) ? String(value) : null) },
        },
        y: {
          type: "logarithmic",
          title: { display: true, text: "Parameters (log scale)" },
          ticks: { callback: (value) => (/^1(0*)$/.test(String(value)) ? formatCount(value) : null) },
        },
      },
      plugins: {
        tooltip: {
          callbacks: {
            label: (item) =>
              item.raw.model ? `${item.raw.model.label}: ${formatCount(item.raw.model.parameterCount)}, ${item.raw.model.releaseDate}` : item.dataset.label,
          },
        },
      },
      onClick: (_event, elements, chart) => {
        const point = elements.map((e) => chart.data.datasets[e.datasetIndex].data[e.index]).find((p) => p.model);
        if (point) location.hash = `#/models/${point.model.id}`;
      },
    },
  });
}

function perYear(canvas, data) {
  const years = [...new Set(data.perYear.map((r) => r.year))].sort((a, b) => a - b);
  const counts = (kind) => years.map((year) => data.perYear.find((r) => r.year === year && r.kind === kind)?.models ?? 0);
  return new Chart(canvas, {
    type: "bar",
    data: {
      labels: years.map(String),
      datasets: ["slm", "llm"].map((kind) => ({ label: KIND_LABELS[kind], data: counts(kind), backgroundColor: COLOURS[kind] })),
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: { x: { stacked: true, title: { display: true, text: "Year of release" } }, y: { stacked: true, title: { display: true, text: "Models" } } },
    },
  });
}

function yearTable(data) {
  const years = [...new Set(data.perYear.map((r) => r.year))].sort((a, b) => a - b);
  const count = (year, kind) => data.perYear.find((r) => r.year === year && r.kind === kind)?.models ?? 0;
  return el(
    "details",
    {},
    el("summary", {}, "The counts as a table"),
    el(
      "table",
      {},
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Year"), el("th", { scope: "col" }, "SLM"), el("th", { scope: "col" }, "LLM"))),
      el("tbody", {}, years.map((y) => el("tr", {}, el("th", { scope: "row" }, String(y)), el("td", {}, count(y, "slm")), el("td", {}, count(y, "llm"))))),
    ),
  );
}

export async function renderCharts(main) {
  const { body: data } = await api("/ui/charts");
  const sizeCanvas = el("canvas", { id: "size-chart", role: "img", "aria-label": "Parameter count against release date, small and large models, with the size threshold" });
  const yearCanvas = el("canvas", { id: "year-chart", role: "img", "aria-label": "Models released per year, small and large" });
  main.replaceChildren(
    heading("Charts"),
    el(
      "section",
      { "aria-labelledby": "size-h" },
      el("h2", { id: "size-h" }, "Size against release date"),
      el(
        "p",
        { id: "size-summary" },
        `${data.points.length} models with a parameter count and a release date; `,
        `${data.points.filter((p) => p.kind === "slm").length} small, ${data.points.filter((p) => p.kind === "llm").length} large, `,
        `as their entries classify them. The dashed line is the ontology's size threshold, ${formatCount(data.threshold)} parameters. Select a point to open its model.`,
      ),
      el("div", { class: "chart" }, sizeCanvas),
    ),
    el(
      "section",
      { "aria-labelledby": "year-h" },
      el("h2", { id: "year-h" }, "Models per kind and year"),
      el("div", { class: "chart short" }, yearCanvas),
      yearTable(data),
    ),
  );
  scatter(sizeCanvas, data);
  perYear(yearCanvas, data);
}
