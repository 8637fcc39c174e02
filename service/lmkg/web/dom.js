// Small helpers shared by the pages: building elements, calling the API, showing its errors.

/** An element with attributes (on* as listeners, boolean false omitted) and children (text is text). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else if (name === "dataset") {
      Object.assign(node.dataset, value);
    } else {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** An error the API answered with: its status and the `detail` a person can act on. */
export class ApiError extends Error {
  constructor(status, detail, body) {
    super(typeof detail === "string" ? detail : JSON.stringify(detail));
    this.status = status;
    this.body = body;
  }
}

const TOKEN_KEY = "lmkg-read-token";

/** The token this tab sends on reads, for a server started with LMKG_READ_TOKEN (kept for the tab only). */
export function readToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** The Authorization header for reads, or none. */
export function readHeaders() {
  const token = readToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/** Fetch a JSON answer from the service; a 4xx or 5xx becomes an ApiError with its detail. */
export async function api(path, options = {}) {
  const headers = { Accept: "application/json", ...readHeaders(), ...options.headers };
  const response = await fetch(path, { ...options, headers });
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = { detail: text };
  }
  if (!response.ok) {
    throw new ApiError(response.status, body?.detail ?? response.statusText, body);
  }
  return { body, response };
}

/** The message box for a failed request, announced to screen readers; a 401 asks for the read token. */
export function errorBox(error) {
  const problems = error.body?.problems ?? [];
  return el(
    "div",
    { class: "error", role: "alert" },
    el("p", {}, error.status ? `Error ${error.status}: ` : "Error: ", error.message),
    problems.length ? el("ul", {}, problems.map((p) => el("li", {}, p.where ? `${p.where}: ` : "", p.message))) : null,
    error.status === 401 ? tokenForm() : null,
  );
}

function tokenForm() {
  const input = el("input", { id: "read-token", type: "password", autocomplete: "off", required: true });
  return el(
    "form",
    {
      class: "token",
      onsubmit: (event) => {
        event.preventDefault();
        sessionStorage.setItem(TOKEN_KEY, input.value.trim());
        window.dispatchEvent(new HashChangeEvent("hashchange"));
      },
    },
    el("label", { for: "read-token" }, "Access token"),
    input,
    el("button", { type: "submit" }, "Use this token"),
    el("p", { class: "help" }, "Sent as a bearer token on every request from this tab, until the tab is closed."),
  );
}

/** A model's id from its IRI (https://w3id.org/lmkg/model/{id}), or null. */
export function modelIdOf(iri) {
  const match = /^https:\/\/w3id\.org\/lmkg\/model\/([a-z0-9._-]+)$/.exec(iri ?? "");
  return match ? match[1] : null;
}

/** A class name from its IRI in the lmkg namespace, or null. */
export function classNameOf(iri) {
  const prefix = "https://w3id.org/lmkg/ontology#";
  return iri?.startsWith(prefix) ? iri.slice(prefix.length) : null;
}

/** A parameter count as people say it: 1.1B, 350M. */
export function formatCount(value) {
  if (value === null || value === undefined) return "undisclosed";
  if (value >= 1e12) return `${+(value / 1e12).toPrecision(3)}T`;
  if (value >= 1e9) return `${+(value / 1e9).toPrecision(3)}B`;
  if (value >= 1e6) return `${+(value / 1e6).toPrecision(3)}M`;
  return value.toLocaleString("en");
}

export function yesNo(value) {
  return value === true ? "yes" : value === false ? "no" : "—";
}

/** The page's heading; it takes focus after navigation so keyboard users start there. */
export function heading(text) {
  return el("h1", { tabindex: "-1" }, text);
}

/** Replace a node's children; arrays are flattened, and null, undefined and false left out. */
export function fill(node, ...children) {
  node.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}
