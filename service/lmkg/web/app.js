// The lmkg browser UI: a hash router over five pages, each a client of the HTTP API.
import { ApiError, el, errorBox } from "./dom.js";
import { renderCharts } from "./charts.js";
import { renderModel, renderModels } from "./models.js";
import { renderOntology } from "./ontology.js";
import { renderSparql } from "./sparql.js";
import { renderValidate } from "./validate.js";

const main = document.getElementById("main");

// route pattern -> [nav entry, page title, render(main, match, query)]
const routes = [
  [/^\/models\/([a-z0-9._-]+)$/, "models", "Model", renderModel],
  [/^\/models$/, "models", "Models", renderModels],
  [/^\/sparql$/, "sparql", "SPARQL editor", renderSparql],
  [/^\/ontology(?:\/([A-Za-z][A-Za-z0-9]*))?$/, "ontology", "Ontology", renderOntology],
  [/^\/charts$/, "charts", "Charts", renderCharts],
  [/^\/validate$/, "validate", "Validate an entry", renderValidate],
];

let current = null;
// Each navigation's number: the answer of one that a later navigation superseded (a token
// replaced while its request was in flight, a second click) must not overwrite the page.
let navigations = 0;

async function route() {
  const turn = ++navigations;
  const hash = location.hash.replace(/^#/, "") || "/models";
  const [rawPath, search = ""] = hash.split("?");
  const path = decodeURIComponent(rawPath);
  const found = routes.map(([pattern, ...rest]) => [pattern.exec(path), ...rest]).find(([m]) => m);
  if (!found) {
    main.replaceChildren(el("h1", {}, "Not found"), el("p", {}, `There is no page ${path}. `, el("a", { href: "#/models" }, "See the models.")));
    return;
  }
  const [match, page, title, render] = found;
  for (const link of document.querySelectorAll("nav a[data-page]")) {
    if (link.dataset.page === page) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const samePage = current && current.page === page && current.path === path;
  current = { page, path };
  document.title = `${title} · lmkg`;
  try {
    await render(main, match, new URLSearchParams(search), { samePage });
  } catch (error) {
    if (turn !== navigations) return; // superseded: the later navigation shows its own answer
    // The API's answers are shown on the page; anything else is a fault of the page itself.
    if (!(error instanceof ApiError)) console.error(error);
    main.replaceChildren(el("h1", {}, title), errorBox(error));
  }
  if (turn !== navigations) return;
  if (!samePage) main.querySelector("h1")?.focus();
}

// The skip link moves focus without touching the hash, which holds the route.
document.querySelector("a.skip").addEventListener("click", (event) => {
  event.preventDefault();
  main.focus();
});
window.addEventListener("hashchange", route);
route();
