// The order page (#/orders/{id}): lines, totals, payment, shipments, returns, cases and the
// timeline (newest first), with every action an agent takes on a call. Each action re-renders the
// page from what the API answered (or shows the problem in the alert region) and says what it did
// in the status region; the backend records the signed-in agent on each timeline entry.

import { api, newKey, orderTag } from "../api.js";
import { h, field, dl, table, replace, uid } from "../dom.js";
import { money, when, whenShort, day, humanize, badge, address, toMinor, fractionDigits } from "../format.js";
import { pageTitle, section, panel, form, button, showStatus, showError } from "../ui.js";
import { customerLink, caseCard, caseId, timeline, orderEvents } from "./parts.js";
import { adjustPanel, offersPanel } from "./adjust.js";
import { visitsSection, visitPanels } from "./visits.js";

const OPEN = ["placed", "validated", "allocated", "payment_required", "payment_authorized", "ready_to_ship", "on_hold", "awaiting_confirmation"];
const RETURNABLE = ["delivered", "completed", "partially_shipped", "shipped", "partially_returned", "return_requested"];
const MAILS = [
  ["order.confirmed", "Order confirmation"],
  ["shipment.shipped", "Shipment sent"],
  ["order.delivered", "Delivered"],
  ["order.on_hold", "Order on hold"],
  ["order.payment_declined", "Payment declined"],
  ["order.cancelled", "Order cancelled"],
  ["return.issued", "Return label"],
];
const REASONS = ["damaged", "wrong_item", "not_as_described", "does_not_fit", "no_longer_needed", "other"];

export async function render({ view, params }) {
  const id = params[0];
  const st = { id, view, order: null, etag: null, cases: [], returns: [], invoices: [], products: null, customer: null };
  await load(st);
  draw(st);
}

/** Reads the order, its cases and returns (and the product list once, for edits and exchanges). */
async function load(st) {
  const path = encodeURIComponent(st.id);
  const [o, cases, returns, invoices, feedback, products, who] = await Promise.all([
    api("GET", `/v1/admin/orders/${path}`),
    api("GET", `/v1/admin/orders/${path}/cases`).catch(() => ({ data: { cases: [] } })),
    api("GET", `/v1/orders/${path}/returns`).catch(() => ({ data: { returns: [] } })),
    api("GET", `/v1/orders/${path}/invoices`).catch(() => ({ data: { invoices: [] } })),
    api("GET", `/v1/admin/orders/${path}/feedback`).catch(() => ({ data: null })),
    st.products ? Promise.resolve({ data: { products: st.products } }) : api("GET", "/v1/admin/products").catch(() => ({ data: { products: [] } })),
    // The agent's order has no customer id: search finds the customer by order id.
    st.customer ? Promise.resolve(null) : api("GET", `/v1/admin/customers?q=${path}`).catch(() => null),
  ]);
  if (who && who.data?.customers?.length === 1) st.customer = who.data.customers[0];
  st.order = o.data;
  st.etag = o.etag;
  st.cases = cases.data?.cases || [];
  st.returns = returns.data?.returns || [];
  st.invoices = invoices.data?.invoices || [];
  st.feedback = feedback.data || null;
  st.products = products.data?.products || [];
}

/** Takes an order the API answered, re-renders, says what happened, puts focus back. */
function applied(st, order, etag, message, focusId) {
  st.order = order;
  st.etag = etag || null;
  draw(st);
  showStatus(message);
  focusAfter(focusId);
}

async function reloaded(st, message, focusId) {
  await load(st);
  draw(st);
  showStatus(message);
  focusAfter(focusId);
}

function focusAfter(id) {
  const el = id && document.getElementById(id);
  if (el && el.getClientRects().length) el.focus();
  else document.getElementById("status").focus();
}

function draw(st) {
  const o = st.order;
  const cur = o.totals?.total?.currency || "USD";
  const customerId = o.customerId || st.customer?.customerId;
  const customer = customerId
    ? ["Customer ", customerLink(customerId, st.customer?.name ? `${st.customer.name} (${customerId})` : customerId)]
    : h("a", { href: `#/?q=${encodeURIComponent(o.email || "")}` }, "Find the customer");
  replace(st.view,
    pageTitle(`Order ${o.orderId}`, " ", badge(o.status)),
    h("p", { class: "lede" }, `Placed `, when(o.createdAt), ` · ${money(o.totals?.total)} · `, customer),
    o.status === "awaiting_confirmation" ? confirmBanner(st) : null,
    h("div", { class: "grid-2" },
      section("Summary", "summary",
        dl([
          ["Status", badge(o.status)],
          o.statusReason ? ["Reason", o.statusReason] : null,
          o.confirmBy ? ["Confirm by", when(o.confirmBy)] : null,
          ["Channel", humanize(o.channel)],
          ["E-mail", o.email],
          ["Phone", o.shippingAddress?.phone || ""],
          ["Ship to", address(o.shippingAddress)],
          ["Delivery", `${humanize(o.delivery?.serviceLevel)}${o.delivery?.pickupLocation ? ` at ${o.delivery.pickupLocation}` : ""}`],
          ["Promised by", day(o.delivery?.promisedBy)],
          ["Last change", when(o.updatedAt)],
        ].filter(Boolean))),
      section("Totals and payment", "totals",
        dl([
          ["Subtotal", money(o.totals?.subtotal)],
          o.totals?.discount ? ["Discount", h("span", { id: "order-discount" }, `−${money(o.totals.discount)}`)] : null,
          ...(o.discounts?.promotions || []).map((p) => [`  Promotion`, `${p.name}${p.code ? ` (${p.code})` : ""}: −${money(p.amount)}`]),
          ...(o.discounts?.adjustments || []).map((a) => [`  Adjustment`, `−${money(a.amount)}: ${a.reason} (by ${a.requestedBy}${a.approvedBy ? `, approved by ${a.approvedBy}` : ""})`]),
          ["Delivery", money(o.totals?.shipping)],
          ["Tax", money(o.totals?.tax)],
          o.credit ? ["Exchange credit", money(o.credit)] : null,
          ["Total", h("strong", { id: "order-total" }, money(o.totals?.total))],
          ...paymentRows(o.payment),
        ].filter(Boolean)))),
    section("Actions", "actions", h("div", { class: "panels" }, actions(st, cur))),
    section(`Lines (${(o.lines || []).length})`, "lines",
      table(null, ["SKU", "Product", "Kind", "Quantity", "Unit price", "Subtotal", "Tax"],
        (o.lines || []).map((l) => [l.sku, l.name, humanize(l.kind), String(l.quantity), money(l.unitPrice), money(l.subtotal), money(l.tax)]),
        { empty: "No lines.", numeric: [3, 4, 5, 6] })),
    visitsSection(o),
    section(`Shipments (${(o.shipments || []).length})`, "shipments",
      table(null, ["Shipment", "From", "Items", "Status", "Carrier", "Tracking", "Estimated delivery"],
        (o.shipments || []).map((s) => [s.id || s.shipmentId, s.locationId || "—", (s.lines || []).map((l) => `${l.sku} × ${l.quantity}`).join(", "),
          badge(s.status), s.carrier || "—", s.trackingNumber || "—", day(s.estimatedDelivery)]),
        { empty: "No shipments yet." })),
    section(`Returns (${st.returns.length})`, "returns",
      table(null, ["Return", "Status", "Resolution", "Items", "Return tracking", "Opened"],
        st.returns.map((r) => [r.id || r.rmaId, badge(r.status), humanize(r.resolution),
          (r.lines || []).map((l) => `${l.sku} × ${l.quantity} (${humanize(l.reason).toLowerCase()})`).join(", "),
          r.label?.trackingNumber || "—", whenShort(r.createdAt)]),
        { empty: "No returns." })),
    section(`Invoices and credit notes (${st.invoices.length})`, "invoices",
      table(null, ["Number", "Kind", "Total", "Issued", "For"],
        st.invoices.map((d) => [h("a", { href: d.url, target: "_blank", rel: "noopener" }, d.number), humanize(d.kind),
          money(d.total), whenShort(d.issuedAt), d.reference]),
        { empty: "No invoices yet: one is issued when payment is taken." })),
    section("Customer feedback", "feedback", feedbackPart(st.feedback)),
    section(`Cases (${st.cases.length})`, "cases",
      st.cases.length
        ? st.cases.map((c) => caseCard(c, { headingLevel: 3, onChange: (next, message) => reloaded(st, message, `case-${caseId(next)}-h`) }))
        : h("p", { class: "empty" }, "No cases on this order.")),
    section("Timeline", "timeline", h("p", { class: "hint" }, "Newest first."), timeline(orderEvents(o), { id: "order-timeline" })),
  );
}

function paymentRows(p) {
  if (!p) return [];
  return [
    ["Authorized", money(p.authorized)],
    ["Captured", money(p.captured)],
    ["Refunded", money(p.refunded)],
    ["Refundable", money(p.refundable)],
    // A replacement's returned goods refunded from its exchange credit, to the original payment.
    ...(p.creditRefunded ? [["Credit refunded to the original payment", money(p.creditRefunded)]] : []),
    // Paid on a marketplace (recorded here, settled there), or from a mailed link.
    ...(p.method?.marketplace ? [
      ["Paid on", `${p.method.marketplace.marketplace}, order ${p.method.marketplace.orderReference}`],
      ["Marketplace payment", p.method.marketplace.paymentReference],
      ["Marketplace fee", p.method.marketplace.fee ? money(p.method.marketplace.fee) : "none reported"],
    ] : []),
    ...(p.method === "link" ? [["Paid by", "payment link mailed to the customer"]] : []),
    // A declined payment: the customer has until the deadline to give another method.
    ...(p.recovery ? [
      ["Payment declined", `${p.recovery.reason} at ${when(p.recovery.declinedAt)}`],
      ["Waiting for payment until", when(p.recovery.dueBy)],
      ["New methods given", String(p.recovery.attempts)],
    ] : []),
  ];
}

/** The after-delivery survey: its answer, or where it stands. */
function feedbackPart(f) {
  if (!f) return h("p", { class: "empty" }, "No survey: one is sent a few days after delivery.");
  if (f.answeredAt) {
    return dl([
      ["Score", `${f.score} of 5`],
      ["Comment", f.comment || "—"],
      ["Answered", when(f.answeredAt)],
    ]);
  }
  if (f.requestedAt) return h("p", null, `Survey sent ${whenShort(f.requestedAt)}; no answer yet.`);
  return h("p", null, "Survey due ", whenShort(f.dueAt), ".");
}

function confirmBanner(st) {
  return h("div", { class: "banner", role: "region", "aria-label": "Confirmation call" },
    h("p", null, h("strong", null, "This order waits for a confirmation call."),
      st.order.confirmation && st.order.confirmation.confirmBy
        ? [" Confirm by ", when(st.order.confirmation.confirmBy), " (", st.order.confirmation.reason, ")."] : ""),
    button("Confirm order", async () => {
      const { data, etag } = await api("POST", `/v1/admin/orders/${encodeURIComponent(st.id)}/confirm`, { body: {} });
      applied(st, data, etag, `Order confirmed: now ${humanize(data.status).toLowerCase()}.`, "page-title");
    }, { class: "primary", id: "confirm-order" }));
}

function actions(st, cur) {
  const o = st.order;
  const base = `/v1/admin/orders/${encodeURIComponent(st.id)}`;
  const out = [];

  if (o.status === "on_hold") {
    out.push(h("div", { class: "panel solo" }, button("Release hold", async () => {
      const { data, etag } = await api("POST", `${base}/release-hold`);
      applied(st, data, etag, `Hold released: now ${humanize(data.status).toLowerCase()}.`, "act-note");
    }, { class: "primary", id: "release-hold" })));
  } else if (OPEN.includes(o.status) && o.status !== "awaiting_confirmation") {
    // An order waiting for its confirmation call is under an agent's review already.
    const reason = field("Reason for the hold", { kind: "textarea", name: "reason", id: "hold-reason", rows: 2 });
    out.push(panel("act-hold", "Put on hold",
      form({ class: "stack", "aria-label": "Put on hold" }, [reason.wrap, h("button", { type: "submit", class: "primary" }, "Put on hold")], async () => {
        const r = reason.input.value.trim();
        if (!r) throw new Error("Give a reason for the hold.");
        const { data, etag } = await api("POST", `${base}/hold`, { body: { reason: r } });
        applied(st, data, etag, `Order put on hold: ${r}`, "release-hold");
      })));
  }

  if (OPEN.includes(o.status)) out.push(editPanel(st, cur));
  if (RETURNABLE.includes(o.status) || (o.shipments || []).some((s) => s.status === "delivered")) out.push(returnPanel(st));
  if (o.status !== "cancelled") out.push(refundPanel(st, cur));
  const captured = (o.payment?.captured?.amount || 0) > 0;
  if (OPEN.includes(o.status) && !captured && o.channel !== "marketplace") {
    out.push(adjustPanel(st, cur, applied, async () => { await load(st); draw(st); }));
    out.push(offersPanel(st, applied));
  }

  out.push(...visitPanels(st, applied, (message, focusId) => reloaded(st, message, focusId)));

  const note = field("Note", { kind: "textarea", name: "text", id: "note-text", rows: 3, hint: "Internal: the customer does not see notes." });
  out.push(panel("act-note", "Add a note",
    form({ class: "stack", "aria-label": "Add a note" }, [note.wrap, h("button", { type: "submit", class: "primary" }, "Add note")], async () => {
      const text = note.input.value.trim();
      if (!text) throw new Error("Write the note first.");
      const { data, etag } = await api("POST", `${base}/notes`, { body: { text } });
      applied(st, data, etag, "Note added.", "act-note");
    })));

  const kind = field("Kind", { kind: "select", name: "kind", id: "case-kind", options: [
    { value: "complaint", label: "Complaint" }, { value: "inquiry", label: "Inquiry" }, { value: "dispute", label: "Dispute (supervisor)" }] });
  const subject = field("Subject", { name: "subject", id: "case-subject", maxlength: 200 });
  const desc = field("Description", { kind: "textarea", name: "description", id: "case-description", rows: 3 });
  out.push(panel("act-case", "Open a case",
    form({ class: "stack", "aria-label": "Open a case" }, [kind.wrap, subject.wrap, desc.wrap, h("button", { type: "submit", class: "primary" }, "Open case")], async () => {
      const s = subject.input.value.trim();
      if (!s) throw new Error("Give the case a subject.");
      const body = { orderId: st.id, kind: kind.input.value, subject: s };
      if (desc.input.value.trim()) body.description = desc.input.value.trim();
      const { data } = await api("POST", "/v1/admin/cases", { body });
      await reloaded(st, `Case opened: “${data.subject}”.`, `case-${caseId(data)}-h`);
    })));

  const mail = field("Mail to send again", { kind: "select", name: "type", id: "resend-type", options: MAILS.map(([value, label]) => ({ value, label })) });
  out.push(panel("act-resend", "Resend a mail",
    form({ class: "stack", "aria-label": "Resend a mail" }, [mail.wrap, h("button", { type: "submit", class: "primary" }, "Resend mail")], async () => {
      const type = mail.input.value;
      const { data, etag } = await api("POST", `${base}/notifications`, { body: { type } });
      const label = MAILS.find(([v]) => v === type)[1];
      if (data && data.orderId) applied(st, data, etag, `“${label}” mail sent again to ${st.order.email}.`, "act-resend");
      else await reloaded(st, `“${label}” mail sent again to ${st.order.email}.`, "act-resend");
    })));

  if (OPEN.includes(o.status)) {
    const reason = field("Reason (optional)", { kind: "textarea", name: "reason", id: "cancel-reason", rows: 2 });
    out.push(panel("act-cancel", "Cancel the order",
      form({ class: "stack", "aria-label": "Cancel the order" }, [
        h("p", null, "Releases the stock, voids the payment (or refunds what was captured) and mails the customer."),
        reason.wrap, h("button", { type: "submit", class: "danger" }, "Cancel order")], async () => {
        const body = reason.input.value.trim() ? { reason: reason.input.value.trim() } : {};
        const { data, etag } = await api("POST", `${base}/cancel`, { body, ifMatch: orderTag(st.order, st.etag) });
        applied(st, data, etag, "Order cancelled.", "page-title");
      })));
  }
  return out;
}

/** Edit lines by phone: change quantities or add a SKU, get a fresh quote, then confirm. */
function editPanel(st, cur) {
  const o = st.order;
  const draft = (o.lines || []).map((l) => ({ sku: l.sku, name: l.name, quantity: l.quantity }));
  const rows = h("div");
  const quoteOut = h("div", { class: "quote", id: "edit-quote" });
  let quoted = null;

  const invalidate = () => {
    quoted = null;
    replace(quoteOut);
  };
  const drawRows = (focusSku) => {
    replace(rows, table(null, ["SKU", "Product", "Quantity"], draft.map((d) => {
      const id = `edit-qty-${d.sku}`;
      const input = h("input", { type: "number", id, min: 0, max: 99, value: String(d.quantity), inputmode: "numeric", class: "qty" });
      input.addEventListener("input", () => {
        d.quantity = Number(input.value);
        invalidate();
      });
      return [d.sku, d.name || d.sku, h("span", null, h("label", { for: id, class: "sr-only" }, `Quantity of ${d.name || d.sku}`), input)];
    }), { numeric: [2] }), h("p", { class: "hint" }, "Set a quantity to 0 to remove the line."));
    if (focusSku) document.getElementById(`edit-qty-${focusSku}`)?.focus();
  };
  drawRows();

  const add = skuField(st, "edit-add-sku", "Add a product");
  const addQty = field("Quantity", { type: "number", id: "edit-add-qty", min: 1, max: 99, value: "1", class: "qty" });
  const addBtn = button("Add line", async () => {
    const sku = add.input.value.trim().toUpperCase();
    const q = Number(addQty.input.value);
    if (!sku) throw new Error("Choose a product to add.");
    if (!(q >= 1 && q <= 99)) throw new Error("The quantity must be between 1 and 99.");
    const known = draft.find((d) => d.sku === sku);
    if (known) known.quantity += q;
    else draft.push({ sku, name: productName(st, sku), quantity: q });
    invalidate();
    drawRows(sku);
  }, { id: "edit-add" });

  const quoteBtn = button("Get a fresh quote", async () => {
    const lines = draft.filter((d) => d.quantity > 0).map((d) => ({ sku: d.sku, quantity: d.quantity }));
    if (!lines.length) throw new Error("An order needs at least one line: cancel it instead.");
    if (lines.some((l) => !Number.isInteger(l.quantity) || l.quantity > 99)) throw new Error("Quantities are whole numbers up to 99.");
    // orderId: the units this order holds count as available to its edit.
    const { data } = await api("POST", "/v1/quotes", { body: { lines, shippingAddress: quoteAddress(o.shippingAddress), orderId: st.id } });
    quoted = { lines, quote: data };
    drawQuote();
  }, { id: "edit-quote-btn" });

  const drawQuote = () => {
    const q = quoted.quote;
    const opt = pickOption(q.options || [], o.delivery);
    const delivery = opt ? opt.cost : null;
    const total = delivery ? { amount: q.subtotal.amount + q.tax.amount + delivery.amount, currency: q.subtotal.currency } : null;
    replace(quoteOut,
      h("h3", { id: "edit-quote-h", tabindex: "-1" }, "Fresh quote"),
      table(null, ["Product", "Quantity", "Unit price", "Subtotal"],
        (q.lines || []).map((l) => [`${l.name} (${l.sku})`, String(l.quantity), money(l.unitPrice), money(l.subtotal)]), { numeric: [1, 2, 3] }),
      dl([
        ["Subtotal", money(q.subtotal)],
        ["Tax", money(q.tax)],
        ["Delivery", opt ? [`${money(delivery)} (${humanize(opt.serviceLevel)}, by `, day(opt.promisedBy), ")"] : "This delivery option is not available for the new lines"],
        ["New total", h("strong", { id: "quote-total" }, total ? money(total) : "—")],
        ["Current total", money(o.totals?.total)],
        total && o.totals?.total ? ["Difference", signed(total.amount - o.totals.total.amount, total.currency)] : null,
      ].filter(Boolean)),
      button("Confirm change", async () => {
        const { data, etag } = await api("PATCH", `/v1/orders/${encodeURIComponent(st.id)}`, {
          body: { lines: quoted.lines }, ifMatch: orderTag(st.order, st.etag),
        });
        applied(st, data, etag, `Order changed: new total ${money(data.totals?.total)}.`, "act-edit");
      }, { class: "primary", id: "edit-confirm" }));
    document.getElementById("edit-quote-h")?.focus();
  };

  return panel("act-edit", "Edit lines (by phone)",
    h("div", { class: "stack" },
      rows,
      h("div", { class: "inline-fields" }, add.wrap, addQty.wrap, addBtn),
      h("div", { class: "button-row" }, quoteBtn),
      quoteOut));
}

/** +$12.50 / −$3.00: what the customer pays more or gets back. */
function signed(minor, currency) {
  const m = money({ amount: Math.abs(minor), currency });
  return minor > 0 ? `+${m} (the customer pays more)` : minor < 0 ? `−${m} (refunded to the customer)` : "No change";
}

/** A SKU picker: a select of the catalog when the product list is there, else a text box. */
function skuField(st, id, label) {
  if (st.products && st.products.length) {
    return field(label, { kind: "select", id, name: "sku", options: [
      { value: "", label: "Choose a product" },
      ...st.products.filter((p) => p.active !== false).map((p) => ({ value: p.sku, label: `${p.name} (${p.sku}) ${money(p.price)}` })),
    ] });
  }
  return field(label, { id, name: "sku", hint: "SKU, for example DESK-LAMP", autocomplete: "off" });
}

function productName(st, sku) {
  return (st.products || []).find((p) => p.sku === sku)?.name || sku;
}

/** The order's address as a quote request takes it (declared fields only, no nulls). */
function quoteAddress(a) {
  const out = {};
  for (const k of ["name", "line1", "line2", "city", "region", "postalCode", "country", "phone"]) {
    if (a && a[k] !== null && a[k] !== undefined && a[k] !== "") out[k] = a[k];
  }
  return out;
}

function pickOption(options, delivery) {
  if (!delivery) return options[0];
  if (delivery.pickupLocation) return options.find((x) => x.id === `pickup-${delivery.pickupLocation}`);
  return options.find((x) => x.serviceLevel === delivery.serviceLevel && x.fulfillment !== "pickup");
}

/** A return or an exchange for delivered lines (POST /v1/orders/{id}/returns). */
function returnPanel(st) {
  const o = st.order;
  const lines = (o.lines || []).filter((l) => l.kind !== "service" && l.returnable !== false);
  const inputs = lines.map((l) => {
    const qid = `ret-qty-${l.lineId}`;
    const rid = `ret-reason-${l.lineId}`;
    const qty = h("input", { type: "number", id: qid, min: 0, max: l.quantity, value: "0", class: "qty", inputmode: "numeric" });
    const reason = h("select", { id: rid }, REASONS.map((r) => h("option", { value: r }, humanize(r))));
    return { line: l, qty, reason, row: [l.sku, l.name, String(l.quantity),
      h("span", null, h("label", { for: qid, class: "sr-only" }, `Units of ${l.name} to return`), qty),
      h("span", null, h("label", { for: rid, class: "sr-only" }, `Reason for returning ${l.name}`), reason)] };
  });
  const resId = uid("res");
  const refundRadio = h("input", { type: "radio", name: resId, id: `${resId}-refund`, value: "refund", checked: true });
  const exchangeRadio = h("input", { type: "radio", name: resId, id: `${resId}-exchange`, value: "exchange" });
  const exSku = skuField(st, "ret-ex-sku", "Replacement product");
  const exQty = field("Replacement quantity", { type: "number", id: "ret-ex-qty", min: 1, max: 99, value: "1", class: "qty" });
  const exchange = h("div", { class: "inline-fields", hidden: true, id: "ret-exchange" }, exSku.wrap, exQty.wrap);
  const sync = () => { exchange.hidden = !exchangeRadio.checked; };
  refundRadio.addEventListener("change", sync);
  exchangeRadio.addEventListener("change", sync);

  return panel("act-return", "Return or exchange",
    form({ class: "stack", "aria-label": "Return or exchange" }, [
      lines.length
        ? table(null, ["SKU", "Product", "Ordered", "Return", "Reason"], inputs.map((x) => x.row), { numeric: [2, 3] })
        : h("p", { class: "empty" }, "Nothing on this order can be returned."),
      h("fieldset", null, h("legend", null, "Resolution"),
        h("div", { class: "radio" }, refundRadio, h("label", { for: refundRadio.id }, "Refund")),
        h("div", { class: "radio" }, exchangeRadio, h("label", { for: exchangeRadio.id }, "Exchange for another product"))),
      exchange,
      h("button", { type: "submit", class: "primary" }, "Create return"),
    ], async () => {
      const chosen = inputs.filter((x) => Number(x.qty.value) > 0)
        .map((x) => ({ lineId: x.line.lineId, quantity: Number(x.qty.value), reason: x.reason.value }));
      if (!chosen.length) throw new Error("Choose how many units come back.");
      const body = { lines: chosen, resolution: exchangeRadio.checked ? "exchange" : "refund" };
      if (exchangeRadio.checked) {
        const sku = exSku.input.value.trim().toUpperCase();
        if (!sku) throw new Error("Choose the replacement product.");
        body.exchangeLines = [{ sku, quantity: Number(exQty.input.value) || 1 }];
      }
      const { data } = await api("POST", `/v1/orders/${encodeURIComponent(st.id)}/returns`, { body });
      const tracking = data.label?.trackingNumber ? `; return label ${data.label.trackingNumber} mailed to the customer` : "";
      await reloaded(st, `${body.resolution === "exchange" ? "Exchange" : "Return"} ${data.id || data.rmaId} created${tracking}.`, "act-return");
    }));
}

/** A goodwill refund: preview (amount, new refundable total), then submit with an Idempotency-Key. */
function refundPanel(st, cur) {
  const base = `/v1/admin/orders/${encodeURIComponent(st.id)}`;
  const amount = field(`Amount (${cur})`, { name: "amount", id: "refund-amount", inputmode: "decimal", autocomplete: "off",
    hint: `For example ${(5).toFixed(fractionDigits(cur))}` });
  const reason = field("Reason", { kind: "textarea", name: "reason", id: "refund-reason", rows: 2 });
  const out = h("div", { class: "preview", id: "refund-preview" });
  let pending = null;
  const invalidate = () => { pending = null; replace(out); };
  amount.input.addEventListener("input", invalidate);
  reason.input.addEventListener("input", invalidate);

  const f = form({ class: "stack", "aria-label": "Goodwill refund" }, [amount.wrap, reason.wrap,
    h("button", { type: "submit" }, "Preview refund"), out], async () => {
    const minor = toMinor(amount.input.value, cur);
    if (minor === null) throw new Error(`Enter an amount in ${cur}, for example ${(5).toFixed(fractionDigits(cur))}.`);
    const r = reason.input.value.trim();
    if (!r) throw new Error("Give a reason for the refund.");
    const body = { amount: { amount: minor, currency: cur }, reason: r };
    const { data } = await api("POST", `${base}/refunds/preview`, { body });
    const allowed = data.allowed !== false;
    pending = allowed ? { body, key: newKey() } : null;
    replace(out,
      h("h3", { id: "refund-preview-h", tabindex: "-1" }, "Refund preview"),
      dl([
        ["Refund", h("strong", null, money(data.amount))],
        ["Captured", money(data.captured)],
        ["Refunded so far", money(data.refunded)],
        ["Refundable now", money(data.refundableBefore)],
        ["Refundable after", h("strong", { id: "refundable-after" }, money(data.refundableAfter))],
        ["Within the agent limit", data.withinAgentLimit === false ? "No: only a supervisor or finance may issue it" : "Yes"],
      ]),
      !allowed ? h("p", { class: "error-inline" }, `This refund cannot be issued: ${data.problem || "the OMS refuses it"}.`) : null,
      !allowed ? null : button(`Issue refund of ${money(data.amount)}`, async () => {
        if (!pending) throw new Error("Preview the refund again.");
        const { data: order, etag } = await api("POST", `${base}/refunds`, { body: pending.body, idempotencyKey: pending.key });
        applied(st, order, etag, `Refunded ${money(pending.body.amount)} as goodwill: ${pending.body.reason}.`, "act-refund");
      }, { class: "primary", id: "refund-submit" }));
    if (!allowed) showError(new Error(`This refund cannot be issued: ${data.problem || "the OMS refuses it"}.`));
    else document.getElementById("refund-preview-h")?.focus();
  });
  return panel("act-refund", "Goodwill refund", f);
}

