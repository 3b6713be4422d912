// Builds DOM nodes from data without innerHTML: every string lands in a text node, so names,
// notes and messages typed by customers can never become markup.

/**
 * h("a", {href: "#/x", class: "btn"}, "text", child, [more, children])
 * Attributes: `class`, `for`, `on<event>` (a listener), `dataset`, booleans (true sets, false omits),
 * anything else via setAttribute. Children: strings, numbers, nodes, arrays, null/undefined/false (skipped).
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "value") el.value = v;
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

/** Replaces an element's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let seq = 0;
/** A unique id for label/aria wiring. */
export function uid(prefix = "f") {
  seq += 1;
  return `${prefix}-${seq}`;
}

/** A labelled form field: returns {wrap, input}. `kind` is "input" (default), "select" or "textarea". */
export function field(label, { kind = "input", options = [], hint, ...attrs } = {}) {
  const id = attrs.id || uid("f");
  const hintId = hint ? `${id}-hint` : null;
  let input;
  if (kind === "select") {
    input = h("select", { ...attrs, id, "aria-describedby": hintId },
      options.map((o) => (typeof o === "string" ? h("option", { value: o }, o) : h("option", { value: o.value, selected: o.selected }, o.label))));
  } else if (kind === "textarea") {
    input = h("textarea", { rows: 3, ...attrs, id, "aria-describedby": hintId });
  } else {
    input = h("input", { type: "text", ...attrs, id, "aria-describedby": hintId });
  }
  const wrap = h("div", { class: "field" }, h("label", { for: id }, label), input, hint ? h("p", { class: "hint", id: hintId }, hint) : null);
  return { wrap, input };
}

/** A definition list from [term, value] pairs (values may be nodes); empty values show a dash. */
export function dl(pairs, cls = "facts") {
  return h("dl", { class: cls }, pairs.map(([t, v]) => [h("dt", null, t), h("dd", null, v === "" || v === null || v === undefined ? "—" : v)]));
}

/** A table with a caption and a header row; rows are arrays of cells (strings or nodes). */
export function table(caption, headers, rows, { empty = "None.", numeric = [] } = {}) {
  if (!rows.length) return h("p", { class: "empty" }, empty);
  const cls = (i) => (numeric.includes(i) ? "num" : null);
  return h("div", { class: "table-wrap" },
    h("table", null,
      caption ? h("caption", null, caption) : null,
      h("thead", null, h("tr", null, headers.map((x, i) => h("th", { scope: "col", class: cls(i) }, x)))),
      h("tbody", null, rows.map((r) => h("tr", null, r.map((c, i) => h("td", { class: cls(i) }, c)))))));
}
