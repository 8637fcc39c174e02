// The model browser: GET /models with its filters, sorting and paging; a page per model
// from GET /models/{id} and GET /models/{id}/explain.
import { api, classNameOf, el, errorBox, formatCount, heading, yesNo } from "./dom.js";

const FLAGS = [
  ["portable", "Portable"],
  ["cheapToFineTune", "Cheap to fine-tune"],
  ["fast", "Fast"],
  ["openWeights", "Open weights"],
];
// Verdicts have three values: what no evidence decides is "unknown", never "no".
const VERDICT_FLAGS = new Set(["portable", "cheapToFineTune", "fast"]);
const VERDICT_LABELS = { portable: "Portable", cheapToFineTune: "Cheap to fine-tune", fast: "Fast (real time)" };
const BASIS_LABELS = { observation: "observed", "size-rule": "size rule", none: "no evidence" };

function verdictText(value) {
  return value === true ? "yes" : value === false ? "no" : "unknown";
}
const SORTABLE = [
  ["label", "Model"],
  ["kind", "Kind"],
  ["parameterCount", "Parameters"],
  ["developer", "Developer"],
  ["releaseDate", "Released"],
  ["license", "Licence"],
  ["openWeights", "Open weights"],
  ["portable", "Portable"],
  ["cheapToFineTune", "Cheap to fine-tune"],
];
const SORT_KEYS = new Set(["label", "parameterCount", "releaseDate", "id"]);
const PAGE_SIZES = ["25", "50", "100"];
const BILLION = 1e9;

let capabilities = null;

function navigate(query) {
  for (const [key, value] of [...query]) if (value === "") query.delete(key);
  location.hash = `#/models${query.size ? "?" + query : ""}`;
}

function select(name, label, options, value) {
  const id = `filter-${name}`;
  return el(
    "div",
    { class: "field" },
    el("label", { for: id }, label),
    el("select", { id, name }, options.map(([v, text]) => el("option", { value: v, selected: v === value }, text))),
  );
}

function input(name, label, value, attributes = {}) {
  const id = `filter-${name}`;
  return el("div", { class: "field" }, el("label", { for: id }, label), el("input", { id, name, value: value ?? "", ...attributes }));
}

function billions(query, name) {
  const raw = query.get(name);
  return raw ? String(+(Number(raw) / BILLION).toPrecision(6)) : "";
}

function filterForm(query) {
  const any = ["", "any"];
  const form = el(
    "form",
    { class: "filters", role: "search", "aria-label": "Filter models" },
    input("search", "Search name or description", query.get("search"), { type: "search" }),
    select("kind", "Kind (as its source says)", [any, ["slm", "small (SLM)"], ["llm", "large (LLM)"]], query.get("kind") ?? ""),
    FLAGS.map(([name, label]) =>
      select(
        name,
        label,
        VERDICT_FLAGS.has(name) ? [any, ["true", "yes"], ["false", "no"], ["unknown", "unknown"]] : [any, ["true", "yes"], ["false", "no"]],
        query.get(name) ?? "",
      ),
    ),
    input("developer", "Developer", query.get("developer")),
    select(
      "capability",
      "Inferred class",
      [any, ...Object.entries(capabilities).map(([name, label]) => [name, label])],
      query.get("capability") ?? "",
    ),
    input("minBillions", "Minimum parameters (billions)", billions(query, "minParameters"), { type: "number", min: "0", step: "any", inputmode: "decimal" }),
    input("maxBillions", "Maximum parameters (billions)", billions(query, "maxParameters"), { type: "number", min: "0", step: "any", inputmode: "decimal" }),
    el("div", { class: "field actions" }, el("button", { type: "submit" }, "Apply filters"), el("button", { type: "reset" }, "Clear")),
  );
  const apply = () => {
    const data = new FormData(form);
    const next = new URLSearchParams();
    for (const name of ["search", "kind", ...FLAGS.map(([n]) => n), "developer", "capability"]) next.set(name, String(data.get(name) ?? "").trim());
    for (const [field, name] of [["minBillions", "minParameters"], ["maxBillions", "maxParameters"]]) {
      const value = String(data.get(field) ?? "").trim();
      next.set(name, value === "" ? "" : String(Math.round(Number(value) * BILLION)));
    }
    for (const name of ["sort", "direction", "limit"]) if (query.get(name)) next.set(name, query.get(name));
    navigate(next);
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    apply();
  });
  form.addEventListener("change", (event) => {
    if (event.target.tagName === "SELECT") apply();
  });
  form.addEventListener("reset", () => setTimeout(() => navigate(new URLSearchParams()), 0));
  return form;
}

/** The form shows the filters of the URL, also after Back or a link. */
function syncForm(form, query) {
  for (const control of form.elements) {
    if (!control.name) continue;
    if (control.name === "minBillions") control.value = billions(query, "minParameters");
    else if (control.name === "maxBillions") control.value = billions(query, "maxParameters");
    else control.value = query.get(control.name) ?? "";
  }
}

function sortHeader(key, label, query) {
  if (!SORT_KEYS.has(key)) return el("th", { scope: "col" }, label);
  const active = (query.get("sort") ?? "label") === key;
  const direction = query.get("direction") ?? "asc";
  const next = new URLSearchParams(query);
  next.set("sort", key);
  next.set("direction", active && direction === "asc" ? "desc" : "asc");
  next.delete("page");
  next.delete("offset");
  return el(
    "th",
    { scope: "col", "aria-sort": active ? (direction === "asc" ? "ascending" : "descending") : "none" },
    el(
      "button",
      { type: "button", class: "sort", onclick: () => navigate(next) },
      label,
      el("span", { "aria-hidden": "true" }, active ? (direction === "asc" ? " ▲" : " ▼") : " ↕"),
      el("span", { class: "visually-hidden" }, active ? `, sorted ${direction === "asc" ? "ascending" : "descending"}` : ", sort"),
    ),
  );
}

function pager(total, limit, offset, query) {
  const go = (at) => {
    const next = new URLSearchParams(query);
    next.set("offset", String(at));
    navigate(next);
  };
  const sizeId = "page-size";
  return el(
    "nav",
    { class: "pager", "aria-label": "Pages of models" },
    el("button", { type: "button", disabled: offset === 0, onclick: () => go(Math.max(0, offset - limit)) }, "Previous"),
    el("span", { "aria-live": "polite" }, total ? `${offset + 1}–${Math.min(offset + limit, total)} of ${total}` : "no models"),
    el("button", { type: "button", disabled: offset + limit >= total, onclick: () => go(offset + limit) }, "Next"),
    el("label", { for: sizeId }, "Per page"),
    el(
      "select",
      {
        id: sizeId,
        onchange: (event) => {
          const next = new URLSearchParams(query);
          next.set("limit", event.target.value);
          next.delete("offset");
          navigate(next);
        },
      },
      PAGE_SIZES.map((size) => el("option", { value: size, selected: size === String(limit) }, size)),
    ),
  );
}

function row(model) {
  return el(
    "tr",
    {},
    el("th", { scope: "row" }, el("a", { href: `#/models/${model.id}` }, model.label)),
    el("td", {}, model.kind === "slm" ? "SLM" : model.kind === "llm" ? "LLM" : "—"),
    el("td", { class: "number", "data-value": model.parameterCount ?? "" }, formatCount(model.parameterCount)),
    el("td", {}, model.developer.join(", ")),
    el("td", {}, model.releaseDate ?? "—"),
    el("td", {}, model.license ?? "—"),
    el("td", {}, yesNo(model.openWeights)),
    el("td", {}, verdictText(model.portable)),
    el("td", {}, verdictText(model.cheapToFineTune)),
  );
}

async function results(container, query) {
  const request = new URLSearchParams(query);
  request.set("limit", query.get("limit") ?? "50");
  container.setAttribute("aria-busy", "true");
  try {
    const { body } = await api(`/models?${request}`);
    const table = el(
      "table",
      { class: "models" },
      el("caption", { class: "visually-hidden" }, "Models, by the filters above"),
      el("thead", {}, el("tr", {}, SORTABLE.map(([key, label]) => sortHeader(key, label, query)))),
      el("tbody", {}, body.models.map(row)),
    );
    container.replaceChildren(
      el("p", { class: "count", id: "model-count" }, `${body.total} model${body.total === 1 ? "" : "s"}`),
      el("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": "Model table" }, table),
      pager(body.total, body.limit, body.offset, query),
    );
  } catch (error) {
    container.replaceChildren(errorBox(error));
  } finally {
    container.removeAttribute("aria-busy");
  }
}

export async function renderModels(main, _match, query, { samePage }) {
  const existing = main.querySelector("#model-results");
  if (samePage && existing) {
    syncForm(main.querySelector("form.filters"), query);
    await results(existing, query);
    return;
  }
  if (capabilities === null) {
    const { body } = await api("/ui/capabilities");
    capabilities = Object.fromEntries(body.map((c) => [c.name, c.label]));
  }
  const container = el("section", { id: "model-results", "aria-live": "polite" });
  main.replaceChildren(heading("Models"), filterForm(query), container);
  await results(container, query);
}

// -- one model ---------------------------------------------------------------------------

const FACT_LABELS = {
  kind: "Kind (as its source says)",
  parameterCount: "Parameters",
  developer: "Developer",
  releaseDate: "Released",
  license: "Licence",
  openWeights: "Open weights",
  description: "Description",
  specialisesIn: "Specialises in",
  tasks: "Tasks",
  variantOf: "Variant of",
  fineTunedFrom: "Fine-tuned from",
  trainingTokens: "Training tokens",
  trainingCompute: "Training compute (FLOP)",
  kindBasis: "Kind based on",
};
const PROVENANCE = new Set(["sources", "derivedFrom", "recordedAt", "iri"]);
const SKIP = new Set(["id", "label", "inferred", "sourceClaims", "verdicts", "statements", "observations", "memoryFootprint"]);

function factValue(key, value) {
  if (key === "parameterCount") return `${formatCount(value)} (${Number(value).toLocaleString("en")})`;
  if (key === "variantOf" || key === "fineTunedFrom") {
    const ids = Array.isArray(value) ? value : [value];
    return ids.flatMap((id, i) => [i ? ", " : null, el("a", { href: `#/models/${id}` }, id)]);
  }
  if (key === "kind") return value === "slm" ? "small language model (SLM)" : value === "llm" ? "large language model (LLM)" : String(value);
  if (typeof value === "boolean") return yesNo(value);
  if (Array.isArray(value)) return value.join(", ");
  return String(value);
}

/** A class: a link into the ontology explorer for lmkg's own, the IRI for another vocabulary's. */
export function classChip(iri, classLabels = {}) {
  const name = classNameOf(iri);
  return name ? el("a", { href: `#/ontology/${name}` }, classLabels[name] ?? name) : el("code", {}, iri);
}

function link(url) {
  return /^https?:\/\//.test(url) ? el("a", { href: url, rel: "noopener" }, url) : url;
}

function reasonItem(reason, classLabels) {
  const name = reason.class ? classNameOf(reason.class) : null;
  return el(
    "li",
    {},
    name ? el("strong", {}, el("a", { href: `#/ontology/${name}` }, classLabels[name] ?? name), ": ") : null,
    reason.statement,
    reason.axiom ? el("div", { class: "axiom" }, el("span", { class: "tag" }, "axiom"), " ", el("code", {}, reason.axiom)) : null,
    reason.because?.length ? el("ul", {}, reason.because.map((r) => reasonItem(r, classLabels))) : null,
  );
}

/** Each verdict with its basis, and the source document's generalisation beside it. */
function verdictsSection(model, explanation) {
  const versus = Object.fromEntries((explanation.generalisationVersusEvidence ?? []).map((r) => [r.trait, r]));
  const rows = Object.entries(model.verdicts ?? {}).map(([trait, verdict]) => {
    const general = versus[trait];
    return el(
      "tr",
      { "data-trait": trait },
      el("th", { scope: "row" }, VERDICT_LABELS[trait] ?? trait),
      el("td", { class: `verdict verdict-${verdictText(verdict.value)}` }, verdictText(verdict.value)),
      el("td", {}, BASIS_LABELS[verdict.basis] ?? verdict.basis),
      el("td", {}, verdict.detail),
      el(
        "td",
        { class: general && general.agrees === false ? "differs" : "" },
        general
          ? [
              `${verdictText(general.sourceSays)}${general.hedge !== "none" ? ` (“${general.hedge}”)` : ""}`,
              general.agrees === false ? el("strong", {}, " — differs from the evidence") : null,
            ]
          : "—",
      ),
    );
  });
  return el(
    "section",
    { "aria-labelledby": "verdicts-h", id: "verdicts" },
    el("h2", { id: "verdicts-h" }, "Verdicts from its own evidence"),
    el(
      "div",
      { class: "table-scroll" },
      el(
      "table",
      {},
      el(
        "thead",
        {},
        el("tr", {}, ["Trait", "Verdict", "Basis", "Evidence", "The source's generalisation alone"].map((h) => el("th", { scope: "col" }, h))),
      ),
      el("tbody", {}, rows),
      ),
    ),
    (explanation.sourceView ?? []).length
      ? [
          el("h3", {}, "What the source document says of its category (its view, not a reason)"),
          el(
            "ul",
            { class: "claims" },
            explanation.sourceView.map((c) =>
              el("li", {}, el("blockquote", { class: "source" }, c.text), c.hedge !== "none" ? el("p", { class: "note" }, `Hedge: ${c.hedge}`) : null),
            ),
          ),
        ]
      : null,
  );
}

/** Every source's value for each fact, and what sources saw the model do. */
function statementsSection(model) {
  const statements = model.statements ?? [];
  const observations = model.observations ?? [];
  if (!statements.length && !observations.length) return null;
  return el(
    "section",
    { "aria-labelledby": "statements-h", id: "statements" },
    el("h2", { id: "statements-h" }, "Statements and observations, with their sources"),
    statements.length
      ? el(
          "div",
          { class: "table-scroll" },
          el(
          "table",
          {},
          el("thead", {}, el("tr", {}, ["Fact", "Value", "Source", "Kind of source", "Confidence", "Rank"].map((h) => el("th", { scope: "col" }, h)))),
          el(
            "tbody",
            {},
            statements.map((s) =>
              el(
                "tr",
                {},
                el("td", {}, FACT_LABELS[s.field] ?? s.field),
                el("td", {}, s.field === "parameterCount" ? formatCount(s.value) : String(s.value)),
                el("td", {}, s.sources.map((u) => el("div", {}, link(u)))),
                el("td", {}, s.sourceKind),
                el("td", {}, s.confidence ?? "—"),
                el("td", {}, s.rank),
              ),
            ),
          ),
          ),
        )
      : null,
    observations.length
      ? el(
          "ul",
          {},
          observations.map((o) =>
            el(
              "li",
              {},
              `${o.kind === "runs-on" ? "Runs on" : `Fine-tuned${o.method ? " with " + o.method : ""} on`} ${o.device}${o.precision ? " at " + o.precision : ""}: `,
              o.sources.map((u) => link(u)),
            ),
          ),
        )
      : null,
  );
}

/** Lineage both ways (named queries descendants-of-model and base-chain-of-model) and the
 * datasets the model was trained on (datasets-of-model). */
function lineageSection(id, descendants, bases, datasets) {
  const modelLink = (iri, label) => {
    const target = String(iri).split("/model/")[1];
    return target ? el("a", { href: `#/models/${target}` }, label ?? target) : label ?? iri;
  };
  return el(
    "section",
    { "aria-labelledby": "lineage-h", id: "lineage" },
    el("h2", { id: "lineage-h" }, "Lineage and training data"),
    el("h3", {}, "Derived from"),
    bases.rows.length
      ? el("ol", { id: "lineage-bases" }, bases.rows.map((r) => el("li", {}, modelLink(r.ancestor, r.label))))
      : el("p", {}, "No base model is recorded."),
    el("h3", {}, `Derived from it (${descendants.total})`),
    descendants.rows.length
      ? el(
          "ul",
          { id: "lineage-descendants" },
          descendants.rows.map((r) =>
            el("li", {}, modelLink(r.descendant, r.label), r.derivation ? ` (${r.derivation}` : " (", "of ", modelLink(r.parent, r.parentLabel), ")"),
          ),
        )
      : el("p", {}, "No model derived from it is recorded."),
    descendants.total > descendants.rows.length
      ? el("p", {}, el("a", { href: `/queries/descendants-of-model?model=${encodeURIComponent(id)}&limit=1000` }, `All ${descendants.total} as JSON`))
      : null,
    el("h3", {}, "Trained on"),
    datasets.rows.length
      ? el("ul", { id: "lineage-datasets" }, datasets.rows.map((r) => el("li", {}, r.label ?? r.dataset)))
      : el("p", {}, "No training dataset is recorded."),
  );
}

export async function renderModel(main, match) {
  const id = match[1];
  const lineage = (name) => api(`/queries/${name}?model=${encodeURIComponent(id)}&limit=100`);
  const [{ body: model }, { body: explanation }, { body: classes }, { body: descendants }, { body: bases }, { body: datasets }] = await Promise.all([
    api(`/models/${id}`),
    api(`/models/${id}/explain`),
    api("/classes"),
    lineage("descendants-of-model"),
    lineage("base-chain-of-model"),
    lineage("datasets-of-model"),
  ]);
  const classLabels = Object.fromEntries(classes.map((c) => [c.name, c.label]));
  const facts = Object.entries(model).filter(([key]) => !SKIP.has(key) && !PROVENANCE.has(key) && model[key] !== null);
  main.replaceChildren(
    el("p", { class: "breadcrumb" }, el("a", { href: "#/models" }, "Models"), " / ", model.id),
    heading(model.label ?? model.id),
    el(
      "section",
      { "aria-labelledby": "facts-h" },
      el("h2", { id: "facts-h" }, "Facts"),
      el("dl", { class: "facts" }, facts.map(([key, value]) => [el("dt", {}, FACT_LABELS[key] ?? key), el("dd", {}, factValue(key, value))])),
    ),
    el(
      "section",
      { "aria-labelledby": "prov-h" },
      el("h2", { id: "prov-h" }, "Provenance"),
      el(
        "dl",
        { class: "facts" },
        el("dt", {}, "IRI"),
        el("dd", {}, el("code", {}, model.iri)),
        el("dt", {}, "Sources"),
        el("dd", {}, model.sources?.length ? el("ul", {}, model.sources.map((s) => el("li", {}, link(s)))) : "none given"),
        model.derivedFrom?.length ? [el("dt", {}, "Derived from"), el("dd", {}, el("ul", {}, model.derivedFrom.map((s) => el("li", {}, el("code", {}, s)))))] : null,
        model.recordedAt ? [el("dt", {}, "Recorded"), el("dd", {}, model.recordedAt)] : null,
      ),
      el("p", {}, "As data: ", el("a", { href: `/models/${model.id}` }, "JSON"), ", or RDF from ", el("code", {}, `/model/${model.id}`), " by Accept."),
    ),
    verdictsSection(model, explanation),
    statementsSection(model),
    lineageSection(id, descendants, bases, datasets),
    el(
      "section",
      { "aria-labelledby": "inferred-h" },
      el("h2", { id: "inferred-h" }, "Inferred classes"),
      el(
        "p",
        {},
        `Portable: ${verdictText(model.inferred.portable)} · Cheap to fine-tune: ${verdictText(model.inferred.cheapToFineTune)} · Size: `,
        model.inferred.sizeClass ? model.inferred.sizeClass.replace("-", " ") : "undisclosed",
      ),
      el("ul", { class: "chips" }, model.inferred.classes.map((iri) => el("li", {}, classChip(iri, classLabels)))),
    ),
    el(
      "section",
      { "aria-labelledby": "explain-h", id: "explanation" },
      el("h2", { id: "explain-h" }, "Why: the explanation"),
      explanation.conclusions.length
        ? el("ul", { class: "reasons" }, explanation.conclusions.map((r) => reasonItem(r, classLabels)))
        : el("p", {}, "Nothing was inferred beyond what the entry states."),
    ),
    el(
      "section",
      { "aria-labelledby": "disagree-h", id: "disagreements" },
      el("h2", { id: "disagree-h" }, "Where the source and the data disagree"),
      explanation.disagreements.length
        ? el("ul", {}, explanation.disagreements.map((d) => el("li", {}, d)))
        : el("p", {}, "The source, the data and the threshold agree on this model."),
      model.sourceClaims.length
        ? [
            el("h3", {}, "What the source document claims"),
            el(
              "ul",
              { class: "claims" },
              model.sourceClaims.map((c) =>
                el(
                  "li",
                  {},
                  el("blockquote", { class: "source" }, c.text),
                  c.claimedKind ? el("p", {}, "Claimed kind: ", classLabels[classNameOf(c.claimedKind)] ?? c.claimedKind) : null,
                  c.curatorNote ? el("p", { class: "note" }, "Curator's note: ", c.curatorNote) : null,
                ),
              ),
            ),
          ]
        : null,
    ),
  );
}
