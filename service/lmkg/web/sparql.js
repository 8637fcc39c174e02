// The SPARQL editor: YASQE (editor) and YASR (results) from the YASGUI bundle, querying /sparql.
// The named queries of GET /queries load with their parameters bound by GET /ui/queries/{name}.
import { api, classNameOf, el, errorBox, heading, modelIdOf, readHeaders } from "./dom.js";

const STARTER = `SELECT DISTINCT ?model ?label ?parameterCount WHERE {
  ?model a lmkg:SmallLanguageModel ; rdfs:label ?label .
  OPTIONAL { ?model lmkg:parameterCount ?parameterCount }
}
ORDER BY DESC(?parameterCount)
LIMIT 20
`;

let prefixes = null;
let catalogue = null;

/** Links in the results go to this UI: models to their page, classes to the explorer. */
function linkIntoUi(root) {
  for (const a of root.querySelectorAll("a[href]")) {
    if (a.dataset.lmkg) continue;
    const href = a.getAttribute("href");
    const id = modelIdOf(href);
    const name = classNameOf(href);
    if (id || name) {
      a.setAttribute("href", id ? `#/models/${id}` : `#/ontology/${name}`);
      a.removeAttribute("target");
    }
    a.dataset.lmkg = "1";
  }
  // YASR's own controls: name the ones it leaves unnamed, for screen readers.
  for (const control of root.querySelectorAll("input, select")) {
    if (!control.labels?.length && !control.getAttribute("aria-label")) {
      control.setAttribute("aria-label", control.getAttribute("placeholder") || control.getAttribute("title") || "Results table option");
    }
  }
}

function parameterField(query, parameter) {
  const id = `param-${parameter.name}`;
  const attributes = { id, name: parameter.name };
  const control =
    parameter.enum || parameter.type === "boolean"
      ? el(
          "select",
          attributes,
          parameter.default ? null : el("option", { value: "" }, "(none)"),
          (parameter.enum ?? ["true", "false"]).map((v) => el("option", { value: v, selected: v === parameter.default }, v)),
        )
      : el("input", { ...attributes, value: parameter.default ?? "", type: ["integer", "decimal"].includes(parameter.type) ? "number" : "text" });
  return el(
    "div",
    { class: "field" },
    el("label", { for: id }, `${parameter.name} (${parameter.type})`),
    control,
    parameter.description ? el("p", { class: "help" }, parameter.description) : null,
  );
}

export async function renderSparql(main) {
  if (prefixes === null) {
    [{ body: prefixes }, { body: catalogue }] = await Promise.all([api("/ui/prefixes"), api("/queries")]);
  }
  const prologue = Object.entries(prefixes)
    .map(([prefix, iri]) => `PREFIX ${prefix}: <${iri}>`)
    .join("\n");
  const editor = el("div", { id: "editor" });
  const results = el("div", { id: "results" });
  const status = el("p", { id: "query-status", role: "status" });
  const params = el("section", { id: "query-params", "aria-label": "Parameters of the named query", hidden: true });
  const runButton = el("button", { type: "button", id: "run-query" }, "Run query");
  const csv = el("a", { href: "#", download: "results.csv", class: "button", id: "download-csv" }, "Download CSV");
  const json = el("a", { href: "#", download: "results.json", class: "button", id: "download-json" }, "Download JSON");

  const list = el(
    "ul",
    { class: "named-queries" },
    catalogue.map((q) =>
      el(
        "li",
        {},
        el("button", { type: "button", class: "link", "data-query": q.name, title: q.description, onclick: () => choose(q) }, q.summary),
        " ",
        el("code", {}, q.name),
      ),
    ),
  );

  main.replaceChildren(
    heading("SPARQL editor"),
    el(
      "div",
      { class: "sparql" },
      el(
        "aside",
        { class: "catalogue", "aria-labelledby": "named-h" },
        el("h2", { id: "named-h" }, "Named queries"),
        el("p", { class: "help" }, "One click loads a query with its parameters bound and runs it."),
        list,
      ),
      el(
        "section",
        { class: "workspace", "aria-labelledby": "editor-h" },
        el("h2", { id: "editor-h" }, "Query"),
        params,
        el("p", { class: "help", id: "editor-help" }, "Ctrl+Enter runs the query; Esc leaves the editor for the Run button."),
        editor,
        el("div", { class: "toolbar" }, runButton, csv, json),
        status,
        el("h2", {}, "Results"),
        results,
      ),
    ),
  );

  const yasqe = new Yasgui.Yasqe(editor, {
    value: `${prologue}\n\n${STARTER}`,
    persistenceId: null,
    // The URL's hash is this UI's route: YASQE must neither read queries from it nor write them to it.
    consumeShareLink: null,
    createShareableLink: null,
    prefixCcApi: null,
    autocompleters: ["prefixes", "variables"],
    resizeable: false,
    editorHeight: "440px",
    requestConfig: {
      endpoint: `${location.origin}/sparql`,
      method: "POST",
      acceptHeaderSelect: "application/sparql-results+json",
      acceptHeaderGraph: "text/turtle",
      headers: () => readHeaders(),
    },
  });
  const yasr = new Yasgui.Yasr(results, {
    persistenceId: null,
    prefixes,
    pluginOrder: ["table", "response"],
    defaultPlugin: "table",
    // Values as people read them: 2024, not "2024"^^xsd:integer (the "Simple view" switch).
    plugins: { table: { dynamicConfig: { compact: true } } },
  });
  const input = yasqe.getInputField();
  input.setAttribute("aria-label", "SPARQL query");
  input.setAttribute("aria-describedby", "editor-help");
  yasqe.addKeyMap({ Esc: () => runButton.focus() });

  const downloads = () => {
    const query = encodeURIComponent(yasqe.getValue());
    csv.href = `/sparql?format=csv&query=${query}`;
    json.href = `/sparql?format=json&query=${query}`;
  };
  downloads();
  yasqe.on("change", downloads);
  // With a read token, a plain link would be refused: fetch with the header, save what came.
  for (const link of [csv, json]) {
    link.addEventListener("click", async (event) => {
      if (!Object.keys(readHeaders()).length) return;
      event.preventDefault();
      const response = await fetch(link.href, { headers: readHeaders() });
      if (!response.ok) {
        status.textContent = `The download failed (${response.status}).`;
        return;
      }
      const saved = el("a", { href: URL.createObjectURL(await response.blob()), download: link.getAttribute("download") });
      saved.click();
      URL.revokeObjectURL(saved.href);
    });
  }
  yasqe.on("queryResponse", (_instance, response, duration) => {
    yasr.setResponse(response, duration);
    const rows = yasr.results?.getBindings()?.length;
    const failed = yasr.results?.getError();
    status.textContent = failed ? "The query failed: see the message below." : `Done in ${duration} ms${rows === undefined ? "" : `: ${rows} row${rows === 1 ? "" : "s"}`}.`;
  });
  new MutationObserver(() => linkIntoUi(results)).observe(results, { childList: true, subtree: true });
  runButton.addEventListener("click", () => {
    status.textContent = "Running…";
    yasqe.query();
  });

  async function run(q, values) {
    try {
      const { body } = await api(`/ui/queries/${q.name}?${values}`);
      yasqe.setValue(body.text);
      status.textContent = `Running “${q.summary}”…`;
      await yasqe.query();
    } catch (error) {
      status.replaceChildren(errorBox(error));
    }
  }

  function choose(q) {
    params.hidden = !q.parameters.length;
    const form = el(
      "form",
      {
        onsubmit: (event) => {
          event.preventDefault();
          const values = new URLSearchParams();
          for (const [key, value] of new FormData(form)) if (value !== "") values.set(key, value);
          run(q, values);
        },
      },
      el("h3", {}, q.summary),
      el("p", {}, q.description),
      q.parameters.map((p) => parameterField(q, p)),
      el("button", { type: "submit" }, "Run with these values"),
    );
    params.replaceChildren(form);
    return run(q, new URLSearchParams());
  }
}
