// The ontology explorer: the inferred class tree from GET /classes, and for the chosen class
// its definition, axioms in words and members (GET /classes/{name}) beside the source's claims.
import { api, el, heading } from "./dom.js";

function tree(classes, selected) {
  const byName = Object.fromEntries(classes.map((c) => [c.name, c]));
  const children = {};
  const roots = [];
  for (const c of classes) {
    const parents = c.directSuperclasses.filter((p) => byName[p]);
    if (!parents.length) roots.push(c.name);
    for (const p of parents) (children[p] ??= []).push(c.name);
  }
  const byLabel = (a, b) => byName[a].label.localeCompare(byName[b].label);
  const branch = (names, depth) =>
    el(
      "ul",
      depth ? {} : { class: "class-tree" },
      names.sort(byLabel).map((name) => {
        const c = byName[name];
        const kids = children[name] ?? [];
        const label = el(
          "a",
          { href: `#/ontology/${name}`, "aria-current": name === selected ? "true" : false, title: c.definition ?? "" },
          c.label,
        );
        const count = el("span", { class: "members" }, ` ${c.members} member${c.members === 1 ? "" : "s"}`);
        if (!kids.length) return el("li", {}, label, count);
        // <details> opens and closes from the keyboard as from the mouse.
        return el("li", {}, el("details", { open: depth < 2 || undefined }, el("summary", {}, label, count), branch(kids, depth + 1)));
      }),
    );
  return branch(roots, 0);
}

function detail(c) {
  const claims = c.sourceStatements ?? [];
  return el(
    "article",
    { class: "class-detail", "aria-labelledby": "class-h" },
    el("h2", { id: "class-h" }, c.label, " ", el("code", {}, `lmkg:${c.name}`)),
    c.definition ? el("p", { class: "definition" }, c.definition) : null,
    el(
      "div",
      { class: "side-by-side" },
      el(
        "section",
        { "aria-labelledby": "axioms-h" },
        el("h3", { id: "axioms-h" }, "What the ontology states"),
        c.axioms.length ? el("ul", { class: "axioms" }, c.axioms.map((a) => el("li", {}, el("code", {}, a)))) : el("p", {}, "No axioms of its own."),
        c.notes.length ? [el("h4", {}, "Notes"), el("ul", {}, c.notes.map((n) => el("li", {}, n)))] : null,
      ),
      el(
        "section",
        { "aria-labelledby": "claims-h", class: "claims" },
        el("h3", { id: "claims-h" }, "What the source document says"),
        claims.length
          ? claims.map((s) => el("blockquote", { class: "source" }, s))
          : el("p", {}, "The source document says nothing about this class directly."),
      ),
    ),
    el(
      "section",
      { "aria-labelledby": "related-h" },
      el("h3", { id: "related-h" }, "Related classes"),
      el(
        "dl",
        { class: "facts" },
        el("dt", {}, "Superclasses"),
        el("dd", {}, c.superclasses.length ? c.superclasses.map((s, i) => [i ? ", " : "", classLink(s)]) : "none"),
        el("dt", {}, "Subclasses"),
        el("dd", {}, c.subclasses.length ? c.subclasses.map((s, i) => [i ? ", " : "", classLink(s)]) : "none"),
      ),
    ),
    el(
      "section",
      { "aria-labelledby": "members-h" },
      el("h3", { id: "members-h" }, `Members (${c.memberList.length})`),
      c.memberList.length
        ? el("ul", { class: "member-list" }, c.memberList.map((m) => el("li", {}, el("a", { href: `#/models/${m.id}` }, m.label || m.id))))
        : el("p", {}, "No model is in this class."),
    ),
  );
}

function classLink(name) {
  return /^[A-Za-z][A-Za-z0-9]*$/.test(name) ? el("a", { href: `#/ontology/${name}` }, name) : el("code", {}, name);
}

export async function renderOntology(main, match) {
  const selected = match[1] ?? "LanguageModel";
  const [{ body: classes }, { body: chosen }] = await Promise.all([api("/classes"), api(`/classes/${selected}`)]);
  main.replaceChildren(
    heading("Ontology"),
    el(
      "p",
      {},
      `${classes.length} classes, as the reasoner arranges them. The whole ontology: `,
      el("a", { href: "/ontology" }, "documentation"),
      ", ",
      el("a", { href: "/ontology?format=turtle" }, "Turtle"),
      ".",
    ),
    el(
      "div",
      { class: "explorer" },
      el("nav", { "aria-label": "Class tree", class: "tree-pane" }, tree(classes, selected)),
      detail(chosen),
    ),
  );
}
