// The customer window (#/customers/{id}): everything about one customer on one page: profile,
// conversation tips, orders with payment ledgers, open carts, returns, cases and disputes, notes
// and one timeline across all of them, newest first.

import { api } from "../api.js";
import { session } from "../auth.js";
import { h, dl, table } from "../dom.js";
import { money, when, whenShort, humanize, badge, address, actor } from "../format.js";
import { pageTitle, section } from "../ui.js";
import { orderLink, caseLink, caseId, timeline } from "./parts.js";

export async function render({ view, params }) {
  const [id] = params;
  const { data } = await api("GET", `/v1/admin/customers/${encodeURIComponent(id)}`);
  const c = data.customer || {};
  const orders = data.orders || [];
  const cases = data.cases || [];
  const disputes = data.disputes || [];
  const returns = data.returns || [];
  const notes = data.notes || [];
  const carts = data.carts || [];
  const tips = data.tips || [];
  const names = Array.from(new Set([c.name, ...(c.names || [])].filter(Boolean)));
  const onHold = orders.filter((o) => o.status === "on_hold").length;
  const open = [...cases, ...disputes].filter((x) => x.status !== "resolved").length;

  view.append(
    pageTitle(c.name || c.customerId || id),
    h("p", { class: "lede" },
      `Customer ${c.customerId || id} · ${orders.length} order${orders.length === 1 ? "" : "s"}`,
      onHold ? ` · ${onHold} on hold` : "",
      open ? ` · ${open} open case${open === 1 ? "" : "s"}` : "",
      ` · lifetime value ${money(data.lifetimeValue)}`),
    // Call-centre order entry: agents and supervisors place orders for the customer.
    ...((session()?.roles || []).some((r) => r === "agent" || r === "supervisor")
      ? [h("p", { class: "page-actions" },
          h("a", { href: `#/customers/${encodeURIComponent(c.customerId || id)}/new-order`, class: "button-link", id: "new-order-link" },
            "New order for this customer"))]
      : []),
    h("div", { class: "grid-2" },
      section("Profile", "profile",
        dl([
          ["Names", names.join(", ")],
          ["E-mails", (c.emails || []).join(", ")],
          ["Phones", (c.phones || []).join(", ")],
          ["Addresses", (c.addresses || []).length ? h("ul", { class: "plain" }, c.addresses.map((a) => h("li", null, address(a)))) : ""],
          ["Marketing e-mails", c.preferences ? (c.preferences.marketingEmails ? "Opted in" : "Opted out") : ""],
          ["Loyalty tier", c.loyaltyTier ? humanize(c.loyaltyTier) : ""],
          ["Lifetime value", money(data.lifetimeValue)],
          ["Customer since", when(c.createdAt)],
        ])),
      section("Conversation tips", "tips",
        tips.length
          ? h("ul", { class: "tips" }, tips.map((t) => h("li", null,
              h("strong", null, t.name || t.sku), ` (${t.sku})`,
              h("br"),
              h("span", { class: "muted" }, tipReason(t)))))
          : h("p", { class: "empty" }, "No tips for this customer yet."))),
    section(`Orders (${orders.length})`, "orders",
      table(null, ["Order, placed", "Status", "Lines", "Total", "Authorized", "Captured", "Refunded", "Refundable"],
        orders.map((o) => [
          [orderLink(o.orderId), h("br"), h("span", { class: "muted" }, whenShort(o.createdAt))], badge(o.status), String(o.lineCount ?? "—"), money(o.total),
          money(o.payment?.authorized), money(o.payment?.captured), money(o.payment?.refunded), money(o.payment?.refundable),
        ]), { empty: "No orders.", numeric: [2, 3, 4, 5, 6, 7] })),
    section(`Cases and disputes (${cases.length + disputes.length})`, "cases",
      table(null, ["Subject", "Kind", "Status", "Order", "Opened", "Messages"],
        [...cases, ...disputes].map((x) => [
          caseLink(caseId(x), x.subject), humanize(x.kind), badge(x.status), orderLink(x.orderId), whenShort(x.createdAt),
          String((x.messages || []).length),
        ]), { empty: "No cases or disputes." })),
    h("div", { class: "grid-2" },
      section(`Returns (${returns.length})`, "returns",
        table(null, ["Return", "Order", "Status", "Opened"],
          returns.map((r) => [r.rmaId || r.id, orderLink(r.orderId), badge(r.status), whenShort(r.createdAt)]), { empty: "No returns." })),
      section(`Open carts (${carts.length})`, "carts",
        table(null, ["Cart", "Items", "Last change"],
          carts.map((x) => [x.cartId, String(x.itemCount), whenShort(x.updatedAt)]), { empty: "No open carts.", numeric: [1] }))),
    section(`Notes (${notes.length})`, "notes",
      timeline(notes.map((n) => ({ at: n.at, title: "Note", by: actor(n.actor), detail: n.note, link: orderLink(n.orderId) })),
        { id: "notes-list", empty: "No notes." })),
    section("Timeline", "timeline", h("p", { class: "hint" }, "Newest first."),
      timeline(customerTimeline(data), { id: "customer-timeline" })),
  );
}

function tipReason(t) {
  if (t.kind === "frequently_bought_together") return `Often bought with ${t.because}, which this customer ordered.`;
  return humanize(t.kind);
}

/** One timeline from every part of the window (the API's own timeline when it sends one). */
function customerTimeline(d) {
  if (Array.isArray(d.timeline)) {
    return d.timeline.map((e) => ({
      at: e.at, title: humanize(e.kind), by: e.actor ? actor(e.actor) : "", detail: e.note || e.message || "",
      link: e.orderId ? orderLink(e.orderId) : null,
    }));
  }
  const out = [];
  for (const o of d.orders || []) out.push({ at: o.createdAt, title: `Order placed (${money(o.total)})`, detail: `Now ${humanize(o.status).toLowerCase()}`, link: orderLink(o.orderId) });
  for (const r of d.returns || []) out.push({ at: r.createdAt, title: `Return opened (${humanize(r.status).toLowerCase()})`, link: orderLink(r.orderId) });
  for (const x of [...(d.cases || []), ...(d.disputes || [])]) {
    out.push({ at: x.createdAt, title: `${humanize(x.kind)} opened: ${x.subject}`, by: x.openedBy, link: caseLink(caseId(x), "case") });
    for (const m of x.messages || []) {
      out.push({ at: m.at, title: m.from === "agent" ? "Reply to the customer" : "Message from the customer", by: m.by, detail: m.body, link: caseLink(caseId(x), "case") });
    }
  }
  for (const n of d.notes || []) out.push({ at: n.at, title: "Note", by: actor(n.actor), detail: n.note, link: orderLink(n.orderId) });
  for (const c of d.carts || []) out.push({ at: c.updatedAt, title: `Cart updated (${c.itemCount} items)` });
  return out;
}
