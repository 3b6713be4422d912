// Page furniture shared by the screens: the alert region (problems), the status region (what an
// action did), sections, and the wrapper every action button goes through.

import { h, replace } from "./dom.js";

const alertEl = () => document.getElementById("alert");
const statusEl = () => document.getElementById("status");

/** Shows a problem (an ApiError's title and detail, or any error's message) in the alert region. */
export function showError(err) {
  const msg = err && err.message ? err.message : String(err);
  replace(statusEl());
  replace(alertEl(), h("p", null, msg));
}

/** Says what an action did, in the status region (announced politely). */
export function showStatus(msg) {
  replace(alertEl());
  replace(statusEl(), h("p", null, msg));
}

// What an action says once the app has moved to another screen: the route clears the regions,
// renders the new screen, then shows it.
let pendingStatus = null;

/** Says `msg` in the status region after the next screen is rendered. */
export function flashStatus(msg) {
  pendingStatus = msg;
}

/** The message flashStatus() left for this render (once). */
export function takeFlash() {
  const m = pendingStatus;
  pendingStatus = null;
  return m;
}

export function clearMessages() {
  replace(alertEl());
  replace(statusEl());
}

/** A section with a heading (level 2 unless told) that labels it. */
export function section(title, id, ...children) {
  const level = typeof children[0] === "number" ? children.shift() : 2;
  return h("section", { class: "card", "aria-labelledby": `${id}-h`, id },
    h(`h${level}`, { id: `${id}-h` }, title), ...children);
}

/** The screen's heading: focusable so navigation can move focus to it. */
export function pageTitle(text, ...extra) {
  document.title = `${text} · OMS console`;
  return h("h1", { tabindex: "-1", id: "page-title" }, text, ...extra);
}

/**
 * Runs an action from a button or form: ignores repeats while it runs, clears old messages,
 * shows the problem in the alert region when it fails. Returns the action's result (or undefined).
 */
export async function act(el, fn) {
  if (el.getAttribute("aria-busy") === "true") return undefined;
  el.setAttribute("aria-busy", "true");
  clearMessages();
  try {
    return await fn();
  } catch (e) {
    showError(e);
    return undefined;
  } finally {
    el.removeAttribute("aria-busy");
  }
}

/** After a re-render, puts focus back on the element with the same id, if it still exists. */
export function restoreFocus(id) {
  const el = id && document.getElementById(id);
  if (el) el.focus();
}

/** A button (type=button unless told) whose click runs `fn` through act(). */
export function button(label, fn, attrs = {}) {
  const b = h("button", { type: "button", ...attrs }, label);
  b.addEventListener("click", () => act(b, () => fn(b)));
  return b;
}

/** A form whose submit runs `fn(form)` through act(); the submit button is the last child. */
export function form(attrs, children, fn) {
  const f = h("form", { novalidate: true, ...attrs }, children);
  f.addEventListener("submit", (ev) => {
    ev.preventDefault();
    act(f, () => fn(f));
  });
  return f;
}

/** An expandable action panel (<details>): the summary is the button agents see. */
export function panel(id, summary, ...children) {
  return h("details", { class: "panel", id: `${id}-panel` }, h("summary", { id }, summary), h("div", { class: "panel-body" }, children));
}
