// Stock (#/stock, #/stock/{sku}): the product list; a SKU's stock per location.

import { api } from "../api.js";
import { session } from "../auth.js";
import { h, field, table } from "../dom.js";
import { money, humanize, when } from "../format.js";
import { pageTitle, section, form, flashStatus } from "../ui.js";

const REASONS = ["damaged", "found", "received", "theft", "cycle_count", "other"];
const countsStock = () => ["warehouse", "integration", "admin"].some((r) => (session()?.roles || []).includes(r));

export async function render({ view, params, navigate }) {
  const sku = params[0];
  const [products, stock, locations] = await Promise.all([
    api("GET", "/v1/admin/products"),
    sku ? api("GET", `/v1/admin/stock?sku=${encodeURIComponent(sku)}`) : Promise.resolve(null),
    sku ? api("GET", "/v1/admin/locations").catch(() => null) : Promise.resolve(null),
  ]);
  const list = products.data.products || [];
  const name = sku ? (list.find((p) => p.sku === sku)?.name || sku) : null;
  view.append(pageTitle(sku ? `Stock: ${name}` : "Stock"));
  if (stock) {
    const s = stock.data;
    const t = s.total || {};
    view.append(section(`${name} (${s.sku}) by location`, "by-location",
      table(null, ["Location", "Kind", "On hand", "Available", "Held", "Allocated", "Safety stock", "Last count"],
        [
          ...(s.locations || []).map((l) => [`${l.name || l.locationId} (${l.locationId})`, humanize(l.kind), String(l.onHand), String(l.available), String(l.held), String(l.allocated),
            String(l.safetyStock || 0), l.lastCount ? h("span", null, `${humanize(l.lastCount.reason)}, `, when(l.lastCount.at),
              l.lastCount.drift ? `, drift ${l.lastCount.drift > 0 ? "+" : ""}${l.lastCount.drift}` : "") : "—"]),
          [h("strong", null, "Total"), "", h("strong", null, String(t.onHand ?? "—")), h("strong", null, String(t.available ?? "—")), h("strong", null, String(t.held ?? "—")), h("strong", null, String(t.allocated ?? "—")), "", ""],
        ], { numeric: [2, 3, 4, 5, 6] }),
      notStocked(s, locations),
      h("p", null, h("a", { href: "#/stock" }, "All products"))));
    if (countsStock()) view.append(adjustForm(sku, s.locations || [], navigate));
    const bo = await api("GET", `/v1/admin/backorders/${encodeURIComponent(sku)}`).catch(() => null);
    if (bo && (bo.data.limit || (bo.data.items || []).length)) view.append(backorders(bo.data, navigate));
  } else {
    const low = await api("GET", "/v1/admin/inventory/low").catch(() => null);
    if (low) {
      const items = low.data.items || [];
      view.append(section(`Low stock (${items.length})`, "low-stock",
        h("p", { class: "hint" }, "Below the reorder point: what each location can still promise and what to order."),
        table(null, ["SKU", "Location", "Can promise", "Reorder point", "Suggested order", "Low since"],
          items.map((d) => [h("a", { href: `#/stock/${encodeURIComponent(d.sku)}` }, d.sku), d.locationId,
            String(d.promisable), String(d.reorderPoint), h("strong", null, String(d.suggestedQuantity)), d.lowSince ? when(d.lowSince) : "—"]),
          { empty: "Nothing is below its reorder point.", numeric: [2, 3, 4] })));
    }
    const cover = await api("GET", "/v1/admin/inventory/replenishment").catch(() => null);
    if (cover) {
      const items = (cover.data.items || []).filter((c) => c.low);
      view.append(section(`Days of cover (${items.length} low)`, "cover",
        h("p", { class: "hint" }, "Fewer days of forecast sales than the rules' cover (weekly seasonality): what to order for the lead time and the cover."),
        table(null, ["SKU", "Can promise", "Per week", "Days of cover", "Suggested order", "Low since"],
          items.map((c) => [h("a", { href: `#/stock/${encodeURIComponent(c.sku)}` }, c.sku), String(c.promisable),
            String(c.weeklyForecast), String(c.daysOfCover ?? "—"), h("strong", null, String(c.suggestedQuantity)), c.lowSince ? when(c.lowSince) : "—"]),
          { empty: "Every SKU covers the rules' days of sales.", numeric: [1, 2, 3, 4] })));
    }
    const drift = await api("GET", "/v1/admin/inventory/drift").catch(() => null);
    if (drift) {
      const items = drift.data.items || [];
      view.append(section(`Inventory drift (${items.length})`, "drift",
        h("p", { class: "hint" }, "Where the warehouse system's last count differed from what the OMS had on hand."),
        table(null, ["SKU", "Location", "Counted", "Drift", "When"],
          items.map((d) => [h("a", { href: `#/stock/${encodeURIComponent(d.sku)}` }, d.sku), d.locationId,
            String(d.lastCount.onHandAfter), `${d.lastCount.drift > 0 ? "+" : ""}${d.lastCount.drift}`, when(d.lastCount.at)]),
          { empty: "No drift: every last count matched.", numeric: [2, 3] })));
    }
  }
  view.append(section(`Products (${list.length})`, "products",
    h("p", { class: "hint" }, "Pick a SKU to see its stock per location."),
    table(null, ["SKU", "Product", "Kind", "Price", "Returnable", "Active"],
      list.map((p) => [
        h("a", { href: `#/stock/${encodeURIComponent(p.sku)}`, "aria-current": p.sku === sku ? "page" : null }, p.sku),
        p.name, humanize(p.kind), money(p.price), p.returnable ? `Yes (${p.returnWindowDays} days)` : "No", p.active === false ? "No" : "Yes",
      ]), { empty: "No products.", numeric: [3] })));
}

/** The active locations that keep none of this SKU. */
/** The SKU's backorder line: requests in arrival order, the units waiting against the limit. */
function backorders(q, navigate) {
  const items = q.items || [];
  const move = countsStock() ? form({ class: "inline", "aria-label": "Place backorders" }, [h("button", { type: "submit" }, "Place waiting backorders now")], async () => {
    const { data } = await api("POST", `/v1/admin/backorders/${encodeURIComponent(q.sku)}/allocate`);
    flashStatus(`${data.placed.length} backorder(s) placed; ${data.waiting} still waiting.`);
    navigate(`#/stock/${encodeURIComponent(q.sku)}`);
  }) : null;
  return section(`Backorders: ${q.waitingUnits} of ${q.limit ?? "—"} units waiting`, "backorders",
    table(null, ["Request", "Customer", "Units", "Status", "Order", "Since"],
      items.map((b) => [b.backorderId, b.customer, String(b.quantity), humanize(b.status),
        b.orderId ? h("a", { href: `#/orders/${b.orderId}` }, b.orderId) : (b.reason || "—"), when(b.createdAt)]),
      { empty: "No backorders.", numeric: [2] }),
    move);
}

function notStocked(s, locations) {
  const have = new Set((s.locations || []).map((l) => l.locationId));
  const rest = (locations?.data?.locations || []).filter((l) => l.active !== false && !have.has(l.id || l.locationId));
  if (!rest.length) return null;
  return h("p", { class: "hint" }, "Not stocked at: ", rest.map((l) => `${l.name} (${l.id || l.locationId})`).join(", "), ".");
}

/** Units found, received, damaged or stolen at a location, with a reason code. */
function adjustForm(sku, locations, navigate) {
  const opts = (pairs) => pairs.map(([value, label]) => ({ value, label }));
  const loc = field("Location", { kind: "select", name: "location", id: "stock-adj-location",
    options: opts(locations.map((l) => [l.locationId, `${l.name || l.locationId} (${l.locationId})`])) });
  const delta = field("Units (negative to take off)", { type: "number", name: "delta", id: "stock-adj-delta", step: 1, required: true });
  const reason = field("Reason", { kind: "select", name: "reason", id: "stock-adj-reason", options: opts(REASONS.map((r) => [r, humanize(r)])) });
  return section("Adjust stock", "stock-adjust", form({ class: "stack", "aria-label": "Adjust stock" },
    [loc.wrap, delta.wrap, reason.wrap, h("button", { type: "submit", class: "primary" }, "Adjust")], async () => {
      const d = Number(delta.input.value);
      if (!Number.isInteger(d) || d === 0) {
        delta.input.setAttribute("aria-invalid", "true");
        delta.input.focus();
        throw new Error("Units: a whole number, not 0.");
      }
      const path = `/v1/admin/stock/${encodeURIComponent(sku)}/${encodeURIComponent(loc.input.value)}/adjustments`;
      const { data } = await api("POST", path, { body: { delta: d, reason: reason.input.value } });
      flashStatus(`Stock adjusted: ${data.onHand} on hand at ${data.locationId} (${humanize(reason.input.value)}).`);
      navigate(`#/stock/${encodeURIComponent(sku)}?adjusted=${Date.now()}`);
    }));
}
