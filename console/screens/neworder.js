// Call-centre order entry (#/customers/{id}/new-order): an agent or supervisor places an order for
// the customer on the phone (channel call_center, or store). The order is the customer's: they
// read it and get its mails; the agent is recorded as who placed it. E-mail and address start
// from the customer's profile. The customer pays with a saved card token or from a payment link
// the OMS mails them. One Idempotency-Key per form: a double click or a retry after a
// lost answer places one order. Problems land in the alert region; the field a problem names is
// marked (aria-invalid, a message under it) and focused.

import { api, newKey, ApiError } from "../api.js";
import { session } from "../auth.js";
import { h, field, uid } from "../dom.js";
import { pageTitle, section, form, flashStatus } from "../ui.js";
import { customerLink } from "./parts.js";

const MAX_LINES = 150;
// [field, label, attributes]: the shipping address as POST /v1/admin/orders takes it.
const ADDRESS = [
  ["name", "Recipient name", { required: true }],
  ["line1", "Address line 1", { required: true }],
  ["line2", "Address line 2 (optional)", {}],
  ["city", "City", { required: true }],
  ["region", "Region or state (optional)", {}],
  ["postalCode", "Postal code", { required: true }],
  ["country", "Country", { required: true, maxlength: 2, hint: "Two-letter code, for example US" }],
  ["phone", "Phone (optional)", { type: "tel" }],
];

export async function render({ view, params, navigate }) {
  const [id] = params;
  const roles = session()?.roles || [];
  const [{ data }, products, locations] = await Promise.all([
    api("GET", `/v1/admin/customers/${encodeURIComponent(id)}`),
    api("GET", "/v1/admin/products").catch(() => null),
    api("GET", "/v1/admin/locations").catch(() => null),
  ]);
  const c = data.customer || {};
  const customerId = c.customerId || id;
  const name = c.name || customerId;
  view.append(
    pageTitle(`New order for ${name}`),
    h("p", { class: "lede" }, "For customer ", customerLink(customerId, c.name ? `${c.name} (${customerId})` : customerId),
      ". The order is the customer's: they see it and get its mails; you are recorded as who placed it."),
  );
  if (!roles.includes("agent") && !roles.includes("supervisor")) {
    view.append(h("p", { class: "empty", id: "new-order-forbidden" },
      "Orders for customers are placed by agents and supervisors: sign in with one of those roles."));
    return;
  }
  const catalog = (products?.data?.products || []).filter((p) => p.active !== false);
  const stores = (locations?.data?.locations || []).filter((l) => l.pickup && l.active !== false);
  view.append(orderForm({ customerId, name, profile: c, catalog, stores, navigate }));
}

function orderForm({ customerId, name, profile, catalog, stores, navigate }) {
  // Once per form instance: every submit of this form is the same order attempt.
  const key = newKey();
  const first = (profile.addresses || [])[0] || {};

  const channel = field("Channel", { kind: "select", name: "channel", id: "no-channel", options: [
    { value: "call_center", label: "Call centre", selected: true }, { value: "store", label: "Store" }] });

  // Order lines: {row, sku, qty, skuLabel, qtyLabel, remove}, in the order they are sent.
  const lines = [];
  const list = h("ol", { class: "order-lines", id: "no-lines" });
  const skus = catalog.length
    ? h("datalist", { id: "no-skus" }, catalog.map((p) => h("option", { value: p.sku }, p.name || p.sku)))
    : null;
  const addBtn = h("button", { type: "button", id: "no-add-line" }, "Add line");
  const renumber = () => {
    lines.forEach((l, i) => {
      l.skuLabel.textContent = `SKU (line ${i + 1})`;
      l.qtyLabel.textContent = `Quantity (line ${i + 1})`;
      l.remove.textContent = `Remove line ${i + 1}`;
      l.remove.hidden = lines.length === 1;
    });
    addBtn.disabled = lines.length >= MAX_LINES;
  };
  const addLine = (focus) => {
    if (lines.length >= MAX_LINES) return;
    const n = uid("no-line");
    const sku = h("input", { type: "text", id: `${n}-sku`, name: "sku", class: "sku", autocomplete: "off", spellcheck: "false",
      list: skus ? "no-skus" : null, maxlength: 64, required: true });
    const qty = h("input", { type: "number", id: `${n}-qty`, name: "quantity", class: "qty", min: 1, max: 99, step: 1,
      value: "1", inputmode: "numeric", required: true });
    const line = {
      sku, qty,
      skuLabel: h("label", { for: sku.id }),
      qtyLabel: h("label", { for: qty.id }),
      remove: h("button", { type: "button", class: "small" }),
    };
    line.row = h("li", { class: "inline-fields line-row" },
      h("div", { class: "field" }, line.skuLabel, sku),
      h("div", { class: "field" }, line.qtyLabel, qty),
      line.remove);
    line.remove.addEventListener("click", () => {
      if (lines.length === 1) return;
      const i = lines.indexOf(line);
      lines.splice(i, 1);
      line.row.remove();
      renumber();
      (lines[i] || lines[i - 1]).sku.focus();
    });
    lines.push(line);
    list.append(line.row);
    renumber();
    if (focus) sku.focus();
  };
  addBtn.addEventListener("click", () => addLine(true));
  addLine(false);

  const email = field("E-mail", { type: "email", name: "email", id: "no-email", autocomplete: "off", spellcheck: "false",
    value: (profile.emails || [])[0] || "", hint: "Where the order's mails go." });
  const addr = {};
  const addrFields = ADDRESS.map(([k, label, attrs]) => {
    const f = field(label, { name: k, id: `no-addr-${k}`, autocomplete: "off", ...attrs,
      value: k === "phone" ? first.phone || (profile.phones || [])[0] || "" : first[k] || "" });
    addr[k] = f.input;
    return f.wrap;
  });
  // A store order paid at the till and taken away now: no shipment, the store's stock.
  const takeAway = field("Taken away now from store (paid at the till)", { kind: "select", name: "takeAway", id: "no-take-away",
    options: [{ value: "", label: "No: deliver it", selected: true },
      ...stores.map((l) => ({ value: l.id || l.locationId, label: `${l.name} (${l.id || l.locationId})` }))],
    hint: "Store orders only: the customer leaves with the goods." });
  takeAway.wrap.hidden = true;
  channel.input.addEventListener("change", () => {
    takeAway.wrap.hidden = channel.input.value !== "store";
    if (takeAway.wrap.hidden) takeAway.input.value = "";
  });
  const level = field("Service level", { kind: "select", name: "serviceLevel", id: "no-service-level", options: [
    { value: "standard", label: "Standard", selected: true }, { value: "express", label: "Express" }, { value: "overnight", label: "Overnight" }] });
  const how = field("How the customer pays", { kind: "select", name: "paymentMethod", id: "no-payment-method", options: [
    { value: "token", label: "Saved card (payment token)", selected: true },
    { value: "link", label: "Payment link by e-mail" }] });
  const payment = field("Saved payment token", { name: "paymentToken", id: "no-payment-token", autocomplete: "off", spellcheck: "false",
    maxlength: 255, required: true, hint: "The token of the customer's saved card, for example tok_visa: never a card number." });
  const linkNote = h("p", { class: "hint", id: "no-payment-link-note", hidden: true },
    "The customer gets a mail with a link to pay. The items are kept for them until the payment deadline; "
    + "an order not paid by then is cancelled.");
  const byLink = () => how.input.value === "link";
  how.input.addEventListener("change", () => {
    payment.wrap.hidden = byLink();
    payment.input.required = !byLink();
    linkNote.hidden = !byLink();
  });
  const submit = h("button", { type: "submit", class: "primary", id: "no-submit" }, "Place order");

  /** The input a problem's `field` names: "lines[0].sku", "shippingAddress.postalCode", "email"… */
  const inputFor = (path) => {
    const p = String(path || "");
    let m = p.match(/^lines(?:\[(\d+)\])?(?:\.(sku|quantity))?/);
    if (m) {
      const l = lines[Number(m[1] || 0)] || lines[0];
      return m[2] === "quantity" ? l.qty : l.sku;
    }
    m = p.match(/^shippingAddress(?:\.(\w+))?/);
    if (m) return addr[m[1]] || addr.name;
    const top = p.split(/[.[]/)[0];
    return { email: email.input, paymentToken: payment.input, paymentLink: how.input, takeAway: takeAway.input, serviceLevel: level.input, deliveryOptionId: level.input,
      channel: channel.input }[top] || null;
  };

  /** The body, checked for what the page can tell; throws after marking the fields. */
  const build = () => {
    const wrong = [];
    const need = (input, ok, text) => { if (!ok) wrong.push([input, text]); };
    const body = { customerId, channel: channel.input.value || "call_center" };
    body.lines = lines.map((l, i) => {
      const sku = l.sku.value.trim().toUpperCase();
      l.sku.value = sku;
      const q = Number(l.qty.value);
      need(l.sku, sku !== "", `Enter the SKU of line ${i + 1}.`);
      need(l.qty, Number.isInteger(q) && q >= 1 && q <= 99, `The quantity of line ${i + 1} is a whole number from 1 to 99.`);
      return { sku, quantity: q };
    });
    body.email = email.input.value.trim();
    need(email.input, body.email !== "", "Enter the e-mail address the order's mails go to.");
    body.shippingAddress = {};
    for (const [k, label, attrs] of ADDRESS) {
      const v = addr[k].value.trim();
      if (v) body.shippingAddress[k] = k === "country" ? v.toUpperCase() : v;
      else if (attrs.required) wrong.push([addr[k], `Enter the ${label.toLowerCase()}.`]);
    }
    if (takeAway.input.value) {
      body.takeAway = true;
      body.deliveryOptionId = `pickup-${takeAway.input.value}`;
    } else {
      body.serviceLevel = level.input.value || "standard";
    }
    if (byLink()) {
      body.paymentLink = true;
    } else {
      body.paymentToken = payment.input.value.trim();
      need(payment.input, body.paymentToken !== "", "Enter the customer's saved payment token.");
    }
    if (wrong.length) {
      wrong.forEach(([input, text]) => mark(input, text));
      wrong[0][0].focus();
      throw new Error(wrong.length === 1 ? wrong[0][1] : `${wrong.length} fields need attention: ${wrong.map(([, t]) => t).join(" ")}`);
    }
    return body;
  };

  /** An API problem as the agent should read it, with the fields it names marked and focused. */
  const explain = (e) => {
    if (!(e instanceof ApiError)) return e;
    const p = e.problem || {};
    const type = String(p.type || "");
    const marked = [];
    const markLines = (skuList, pick, text) => {
      for (const l of lines) {
        if (skuList.includes(l.sku.value.trim().toUpperCase())) {
          mark(pick(l), text(l.sku.value.trim()));
          marked.push(pick(l));
        }
      }
    };
    const listed = (detail) => String(detail || "").split(":").pop().split(",").map((x) => x.trim().toUpperCase()).filter(Boolean);
    let out = e;
    if (e.status === 409 && type.endsWith("out-of-stock")) {
      const short = Array.isArray(p.shortages) && p.shortages.length ? p.shortages : listed(p.detail).map((sku) => ({ sku }));
      const says = (s) => (typeof s.available === "number" ? `${s.sku} (${s.requested} asked, ${Math.max(0, s.available)} available)` : s.sku);
      const bySku = new Map(short.map((s) => [String(s.sku).toUpperCase(), s]));
      markLines([...bySku.keys()], (l) => l.qty, (sku) => `Not enough stock: ${says(bySku.get(sku.toUpperCase()))}.`);
      out = new Error(`Not enough stock for ${short.map(says).join(", ")}. Lower the quantities or remove those lines.`);
    } else if (type.endsWith("unknown-sku")) {
      markLines(listed(p.detail), (l) => l.sku, (sku) => `${sku} is not in the catalog or not on sale.`);
    } else if (type.endsWith("idempotency-key-reused")) {
      out = new Error("This form already placed an order with other details (its answer may have been lost): "
        + "check the customer's orders before placing another.");
    }
    if (e.field && !marked.length) {
      const input = inputFor(e.field);
      if (input) {
        const detail = String(p.detail || e.message).replace(/^invalid JSON body: /, "");
        mark(input, detail.startsWith(`${e.field}: `) ? detail.slice(e.field.length + 2) : detail);
        marked.push(input);
      }
    }
    if (marked.length) marked[0].focus();
    return out;
  };

  const f = form({ class: "stack", id: "new-order-form", "aria-label": `New order for ${name}` }, [
    section("Order", "no-order", channel.wrap),
    section("Lines", "no-lines-card",
      h("p", { class: "hint" }, "At least one line. Prices, tax and delivery cost come from the catalog."),
      list, skus, h("div", { class: "button-row" }, addBtn)),
    section("Contact and delivery", "no-delivery",
      email.wrap,
      h("fieldset", null, h("legend", null, "Shipping address"), h("div", { class: "address-grid" }, addrFields)),
      level.wrap, takeAway.wrap),
    section("Payment", "no-payment", how.wrap, payment.wrap, linkNote),
    h("div", { class: "button-row" }, submit),
  ], async () => {
    clearMarks(f);
    const body = build();
    submit.disabled = true;
    let placed = false;
    try {
      const { data } = await api("POST", "/v1/admin/orders", { body, idempotencyKey: key });
      placed = true;
      flashStatus(`Order ${data.orderId} placed for ${name}.`);
      navigate(`#/orders/${encodeURIComponent(data.orderId)}`);
    } catch (e) {
      throw explain(e);
    } finally {
      submit.disabled = false;
      // Disabling the focused button dropped focus: give it back when the form stays.
      if (!placed && (!document.activeElement || document.activeElement === document.body)) submit.focus();
    }
  });
  // A marked field is cleared as soon as the agent changes it.
  f.addEventListener("input", (ev) => unmark(ev.target));
  return f;
}

/** Marks a field: aria-invalid and a message under it (named by aria-describedby). */
function mark(input, text) {
  const id = `${input.id}-error`;
  document.getElementById(id)?.remove();
  input.setAttribute("aria-invalid", "true");
  (input.closest(".field") || input.parentElement).append(h("p", { class: "error-inline field-error", id }, text));
  const ids = (input.getAttribute("aria-describedby") || "").split(" ").filter((x) => x && x !== id);
  input.setAttribute("aria-describedby", [...ids, id].join(" "));
}

function unmark(input) {
  if (!input || !input.getAttribute || input.getAttribute("aria-invalid") !== "true") return;
  const id = `${input.id}-error`;
  document.getElementById(id)?.remove();
  input.removeAttribute("aria-invalid");
  const rest = (input.getAttribute("aria-describedby") || "").split(" ").filter((x) => x && x !== id);
  if (rest.length) input.setAttribute("aria-describedby", rest.join(" "));
  else input.removeAttribute("aria-describedby");
}

function clearMarks(root) {
  root.querySelectorAll('[aria-invalid="true"]').forEach(unmark);
}
