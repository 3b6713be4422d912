// Queues (#/queues): orders awaiting a confirmation call (confirm right here), orders on hold,
// returns awaiting receipt, open cases by age, disputes with due dates.

import { api } from "../api.js";
import { h, table, replace } from "../dom.js";
import { money, whenShort, humanize, badge } from "../format.js";
import { pageTitle, section, button, showStatus } from "../ui.js";
import { orderLink, caseLink, caseId, customerLink } from "./parts.js";

const QUEUES = [
  ["confirmation-calls", "Confirmation calls"],
  ["on-hold", "On hold"],
  ["returns-awaiting-receipt", "Returns awaiting receipt"],
  ["cases", "Open cases"],
  ["disputes", "Disputes"],
];

export async function render({ view }) {
  const results = await Promise.all(QUEUES.map(([q]) =>
    api("GET", `/v1/admin/queues/${q}`).then((r) => ({ items: r.data.items || [] }), (e) => ({ error: e }))));
  const counts = h("ul", { class: "counts", "aria-label": "Queue sizes" });
  view.append(pageTitle("Queues"), counts);
  const sections = [];
  QUEUES.forEach(([q, title], i) => {
    const s = section(title, `queue-${q}`);
    sections.push(s);
    view.append(s);
    drawQueue(s, q, title, results[i], counts, i);
  });
}

function drawQueue(s, q, title, result, counts, i) {
  const heading = s.querySelector("h2");
  replace(s, heading);
  const forbidden = result.error && result.error.status === 403;
  const n = forbidden ? "not for your role" : result.error ? "?" : String(result.items.length);
  heading.textContent = forbidden ? title : `${title} (${n})`;
  const li = counts.children[i] || counts.appendChild(h("li"));
  replace(li, h("a", { href: `#/queues`, "data-queue": q, onclick: (ev) => { ev.preventDefault(); heading.setAttribute("tabindex", "-1"); heading.focus(); } }, `${title}: ${n}`));
  if (forbidden) {
    s.append(h("p", { class: "empty" }, q === "disputes"
      ? "Disputes are handled by supervisors and finance: sign in with one of those roles to see this queue."
      : "Your role cannot see this queue."));
    return;
  }
  if (result.error) {
    s.append(h("p", { class: "error-inline" }, `Could not load this queue: ${result.error.message}`));
    return;
  }
  const items = result.items;
  const reload = async (message) => {
    const r = await api("GET", `/v1/admin/queues/${q}`).then((x) => ({ items: x.data.items || [] }), (e) => ({ error: e }));
    drawQueue(s, q, title, r, counts, i);
    showStatus(message);
    heading.setAttribute("tabindex", "-1");
    heading.focus();
  };
  if (q === "confirmation-calls" || q === "on-hold") {
    s.append(table(null, ["Order", "Customer", "Status", "Total", "Placed", q === "on-hold" ? "Reason" : "Confirm by", q === "confirmation-calls" ? "Action" : null].filter(Boolean),
      items.map((o) => [
        orderLink(o.orderId), o.customerId ? customerLink(o.customerId) : "—", badge(o.status), money(o.total), whenShort(o.createdAt),
        q === "on-hold" ? (o.reason || "—") : whenShort(o.confirmBy),
        q === "confirmation-calls"
          ? button(["Confirm", h("span", { class: "sr-only" }, ` order ${o.orderId}`)], async () => {
              const { data } = await api("POST", `/v1/admin/orders/${encodeURIComponent(o.orderId)}/confirm`, { body: {} });
              await reload(`Order ${o.orderId} confirmed: now ${humanize(data.status).toLowerCase()}.`);
            }, { class: "small primary", id: `confirm-${o.orderId}` })
          : null,
      ].filter((x) => x !== null)), { empty: "Nothing waiting.", numeric: [3] }));
  } else if (q === "returns-awaiting-receipt") {
    s.append(table(null, ["Return", "Order", "Status", "Opened"],
      items.map((r) => [r.rmaId || r.id, orderLink(r.orderId), badge(r.status), whenShort(r.createdAt)]), { empty: "Nothing waiting." }));
  } else if (q === "cases") {
    s.append(table(null, ["Subject", "Kind", "Status", "Order", "Opened", "Age"],
      items.map((c) => [caseLink(caseId(c), c.subject), humanize(c.kind), badge(c.status), orderLink(c.orderId), whenShort(c.createdAt), age(c.ageHours)]),
      { empty: "No open cases." }));
  } else {
    s.append(table(null, ["Subject", "Status", "Order", "Opened", "Evidence due"],
      items.map((c) => [caseLink(caseId(c), c.subject), badge(c.status), orderLink(c.orderId), whenShort(c.createdAt), whenShort(c.dueBy)]),
      { empty: "No open disputes." }));
  }
}

function age(hours) {
  if (typeof hours !== "number") return "—";
  if (hours < 1) return "< 1 h";
  if (hours < 48) return `${Math.floor(hours)} h`;
  return `${Math.floor(hours / 24)} days`;
}
