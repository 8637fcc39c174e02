// The validation form: an entry (JSON, JSON-LD or Turtle) checked by POST /validate, its SHACL
// report as a list and what it would be classified as; then POST /models with the write token.
import { ApiError, api, el, errorBox, fill, heading, yesNo } from "./dom.js";
import { classChip } from "./models.js";

const FORMATS = [
  ["auto", "Detect from the text", null],
  ["json", "JSON entry", "application/json"],
  ["jsonld", "JSON-LD", "application/ld+json"],
  ["turtle", "Turtle", "text/turtle"],
];
const BY_EXTENSION = { json: "json", jsonld: "jsonld", ttl: "turtle" };

function mediaType(format, text) {
  if (format === "auto") {
    const start = text.trimStart()[0];
    if (start !== "{" && start !== "[") return "text/turtle";
    return /"@context"/.test(text) ? "application/ld+json" : "application/json";
  }
  return FORMATS.find(([name]) => name === format)[2];
}

function shortName(iri) {
  return iri ? iri.replace(/^.*[#/]/, "") : null;
}

function reportList(report) {
  return el(
    "ol",
    { class: "report" },
    report.results.map((r) =>
      el(
        "li",
        { class: `severity-${r.severity.toLowerCase()}` },
        el("strong", {}, shortName(r.path) ?? shortName(r.focusNode)),
        ": ",
        r.message,
        r.value !== null && r.value !== undefined ? el("span", { class: "value" }, " (value: ", el("code", {}, r.value), ")") : null,
        el(
          "div",
          { class: "meta" },
          `${r.severity} · ${shortName(r.constraint)} · `,
          el("a", { href: r.spec, rel: "noopener" }, "SHACL specification"),
        ),
      ),
    ),
  );
}

function classification(inferred, classLabels) {
  return el(
    "section",
    { "aria-labelledby": "class-result-h" },
    el("h3", { id: "class-result-h" }, "It would be classified as"),
    inferred.classes.length
      ? el("ul", { class: "chips" }, inferred.classes.map((iri) => el("li", {}, classChip(iri, classLabels))))
      : el("p", {}, "Nothing beyond what the entry states."),
    el(
      "p",
      {},
      `Portable: ${inferred.portable === null ? "unknown" : yesNo(inferred.portable)} · Cheap to fine-tune: ${inferred.cheapToFineTune === null ? "unknown" : yesNo(inferred.cheapToFineTune)} · Size: `,
      inferred.sizeClass ? inferred.sizeClass.replace("-", " ") : "undisclosed",
    ),
  );
}

export async function renderValidate(main) {
  const { body: classes } = await api("/classes");
  const classLabels = Object.fromEntries(classes.map((c) => [c.name, c.label]));
  const output = el("section", { id: "validation-result", "aria-live": "polite", "aria-labelledby": "result-h" });
  const text = el("textarea", {
    id: "entry-text",
    name: "entry",
    rows: "14",
    spellcheck: "false",
    "aria-describedby": "entry-help",
    placeholder: '{"id": "tinyllama-1.1b", "label": "TinyLlama 1.1B", "kind": "slm", "developer": "TinyLlama", "sources": ["https://arxiv.org/abs/2401.02385"]}',
  });
  const format = el("select", { id: "entry-format", name: "format" }, FORMATS.map(([value, label]) => el("option", { value }, label)));
  const file = el("input", { id: "entry-file", type: "file", accept: ".json,.jsonld,.ttl,application/json,text/turtle" });
  const token = el("input", { id: "write-token", type: "password", autocomplete: "off", "aria-describedby": "token-help" });

  file.addEventListener("change", async () => {
    const chosen = file.files[0];
    if (!chosen) return;
    text.value = await chosen.text();
    const known = BY_EXTENSION[chosen.name.split(".").pop().toLowerCase()];
    if (known) format.value = known;
  });

  const send = async (path, headers) => {
    const body = text.value;
    if (!body.trim()) {
      fill(output, el("h2", { id: "result-h" }, "Result"), el("p", { class: "error", role: "alert" }, "Paste or upload an entry first."));
      return null;
    }
    return api(path, { method: "POST", body, headers: { Accept: "application/json", "Content-Type": mediaType(format.value, body), ...headers } });
  };

  const showFailure = (error, title) => {
    const report = error.body?.report;
    fill(output, 
      el("h2", { id: "result-h" }, title),
      errorBox(error),
      report ? [el("h3", {}, "The SHACL report"), reportList(report)] : null,
    );
  };

  const validate = async () => {
    try {
      const answer = await send("/validate", {});
      if (!answer) return;
      const { body } = answer;
      fill(output, 
        el("h2", { id: "result-h" }, body.conforms ? `${body.id} conforms` : `${body.id} does not conform`),
        body.conforms
          ? el("p", { class: "ok" }, "The entry passes every SHACL shape: it can be stored.")
          : [el("p", { class: "error", role: "alert" }, `${body.report.results.length} problem${body.report.results.length === 1 ? "" : "s"} to fix:`), reportList(body.report)],
        classification(body.inferred, classLabels),
      );
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      showFailure(error, "The entry cannot be read");
    }
  };

  const submit = async () => {
    try {
      const answer = await send("/models", { Authorization: `Bearer ${token.value}` });
      if (!answer) return;
      const { body } = answer;
      fill(output, 
        el("h2", { id: "result-h" }, "Stored"),
        el("p", { class: "ok", role: "status" }, "The entry was validated, classified and stored: ", el("a", { href: `#/models/${body.id}` }, body.label ?? body.id), "."),
        classification(body.inferred, classLabels),
      );
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      showFailure(error, error.status === 422 ? "Not stored: the entry does not conform" : "Not stored");
    }
  };

  const form = el(
    "form",
    {
      class: "validate",
      onsubmit: (event) => {
        event.preventDefault();
        validate();
      },
    },
    el(
      "div",
      { class: "field wide" },
      el("label", { for: "entry-text" }, "Entry"),
      text,
      el("p", { id: "entry-help", class: "help" }, "A model entry as JSON (the fields of POST /models), JSON-LD or Turtle. Nothing is stored until you submit it with a token."),
    ),
    el("div", { class: "field" }, el("label", { for: "entry-file" }, "Or upload a file"), file),
    el("div", { class: "field" }, el("label", { for: "entry-format" }, "Format"), format),
    el("div", { class: "field actions" }, el("button", { type: "submit", id: "validate-button" }, "Validate")),
    el(
      "fieldset",
      { class: "submit" },
      el("legend", {}, "Store it"),
      el("div", { class: "field" }, el("label", { for: "write-token" }, "Write token"), token),
      el("p", { id: "token-help", class: "help" }, "The server's LMKG_TOKEN; it is sent as a bearer token and kept nowhere."),
      el("button", { type: "button", id: "submit-button", onclick: submit }, "Validate and store"),
    ),
  );
  main.replaceChildren(heading("Validate an entry"), form, output);
}
