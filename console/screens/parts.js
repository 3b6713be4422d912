// Pieces more than one screen shows: links, the timeline, and a case with its messages,
// reply form and status actions.

import { api } from "../api.js";
import { h, field, replace, dl } from "../dom.js";
import { when, humanize, badge, actor, newestFirst } from "../format.js";
import { form, button, showStatus } from "../ui.js";

export const orderLink = (id, text) => h("a", { href: `#/orders/${encodeURIComponent(id)}` }, text || id);
export const customerLink = (id, text) => h("a", { href: `#/customers/${encodeURIComponent(id)}` }, text || id);
/** A case's id (staff projections call it `id`, the customer's `caseId`). */
export const caseId = (c) => c.id || c.caseId;
export const caseLink = (id, text) => h("a", { href: `#/cases/${encodeURIComponent(id)}` }, text || id);

/**
 * A timeline, newest first. Entries: {at, title, by?, detail?, link?}. Each is an <li> with the
 * time, what happened, who did it (the agent's name for agents' actions) and the note.
 */
export function timeline(entries, { id = "timeline-list", empty = "Nothing yet." } = {}) {
  if (!entries.length) return h("p", { class: "empty" }, empty);
  return h("ol", { class: "timeline", id },
    newestFirst(entries).map((e) => h("li", { class: "tl-entry" },
      h("div", { class: "tl-head" }, when(e.at), " ", h("strong", null, e.title), e.link ? [" · ", e.link] : null),
      e.by ? h("div", { class: "tl-by" }, "by ", e.by) : null,
      e.detail ? h("div", { class: "tl-note" }, e.detail) : null)));
}

/** An order's timeline events as timeline entries. */
export function orderEvents(order) {
  const flat = (x) => String(x || "").replace(/[^a-z]/gi, "").toLowerCase();
  return (order.timeline || []).map((ev) => ({
    at: ev.at,
    // "Labels created → Ready to ship", but not "Payment authorized → Payment authorized".
    title: humanize(ev.kind) + (ev.status && !flat(ev.kind).endsWith(flat(ev.status)) ? ` → ${humanize(ev.status)}` : ""),
    by: actor(ev.actor),
    detail: ev.note || ev.message || "",
  }));
}

/**
 * A case card: facts, messages, reply form and status buttons. `onChange(case)` runs after an
 * action with the case the API answered; the card re-renders itself from it.
 */
export function caseCard(c, { headingLevel = 3, onChange } = {}) {
  const id = caseId(c);
  const root = h("article", { class: "case", id: `case-${id}`, "aria-labelledby": `case-${id}-h` });
  // With onChange the owner re-renders (and says what happened) once it has what it needs;
  // without, the card redraws itself from the case the API answered.
  const draw = (cs) => {
    replace(root, ...caseBody(cs, headingLevel, async (next, message) => {
      if (onChange) {
        await onChange(next, message);
        return;
      }
      draw(next);
      showStatus(message);
      document.getElementById(`case-${caseId(next)}-h`)?.focus();
    }));
  };
  draw(c);
  return root;
}

function caseBody(c, level, changed) {
  const id = caseId(c);
  const hid = `case-${id}-h`;
  const messages = c.messages || [];
  const reply = field("Reply to the customer", { kind: "textarea", name: "message", id: `reply-${id}`, rows: 3, hint: "Sent by e-mail and kept on the case." });
  const resolution = field("Resolution", { kind: "textarea", name: "resolution", id: `resolution-${id}`, rows: 2, value: c.resolution || "" });
  const patch = async (status) => {
    const body = { status };
    const r = resolution.input.value.trim();
    if (status === "resolved") {
      if (!r) throw new Error("Write the resolution before resolving the case.");
      body.resolution = r;
    }
    const { data } = await api("PATCH", `/v1/admin/cases/${encodeURIComponent(id)}`, { body });
    changed(data, `Case “${data.subject}” is now ${humanize(data.status).toLowerCase()}.`);
  };
  return [
    h(`h${level}`, { id: hid, tabindex: "-1" }, c.subject, " ", badge(c.status)),
    dl([
      ["Case", id],
      ["Kind", humanize(c.kind)],
      ["Order", orderLink(c.orderId)],
      ["Opened", [when(c.createdAt), ` by ${c.openedBy || "—"}`]],
      ["Description", c.description],
      c.dueBy ? ["Evidence due", when(c.dueBy)] : null,
      c.externalRef ? ["Provider reference", c.externalRef] : null,
      ["Resolution", c.resolution],
    ].filter(Boolean)),
    h(`h${level + 1}`, null, `Messages (${messages.length})`),
    messages.length
      ? h("ol", { class: "messages" }, messages.map((m) => h("li", { class: `msg msg-${m.from === "agent" ? "agent" : "customer"}` },
          h("div", { class: "msg-head" }, h("strong", null, m.from === "agent" ? `Agent ${m.by || ""}`.trim() : `Customer${m.by ? ` ${m.by}` : ""}`), " · ", when(m.at), m.via ? ` · via ${m.via}` : ""),
          h("p", { class: "msg-body" }, m.body))))
      : h("p", { class: "empty" }, "No messages."),
    c.status !== "resolved"
      ? form({ class: "stack", "aria-label": `Reply on case ${c.subject}` }, [reply.wrap, h("button", { type: "submit", class: "primary" }, "Send reply")], async () => {
          const message = reply.input.value.trim();
          if (!message) throw new Error("Write a reply first.");
          const { data } = await api("POST", `/v1/admin/cases/${encodeURIComponent(id)}/replies`, { body: { message } });
          changed(data, `Reply sent to the customer on “${data.subject}”.`);
        })
      : null,
    c.status !== "resolved"
      ? h("div", { class: "stack case-status" }, resolution.wrap,
          h("div", { class: "button-row" },
            button("Resolve case", () => patch("resolved"), { class: "primary", id: `resolve-${id}` }),
            c.status === "open" ? button("Escalate case", () => patch("escalated"), { id: `escalate-${id}` }) : null))
      : null,
  ];
}
