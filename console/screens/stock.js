// Stock (#/stock, #/stock/{sku}): the product list; a SKU's stock per location.

import { api } from "../api.js";
import { h, table } from "../dom.js";
import { money, humanize } from "../format.js";
import { pageTitle, section } from "../ui.js";

export async function render({ view, params }) {
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
      table(null, ["Location", "Kind", "On hand", "Available", "Held", "Allocated"],
        [
          ...(s.locations || []).map((l) => [`${l.name || l.locationId} (${l.locationId})`, humanize(l.kind), String(l.onHand), String(l.available), String(l.held), String(l.allocated)]),
          [h("strong", null, "Total"), "", h("strong", null, String(t.onHand ?? "—")), h("strong", null, String(t.available ?? "—")), h("strong", null, String(t.held ?? "—")), h("strong", null, String(t.allocated ?? "—"))],
        ], { numeric: [2, 3, 4, 5] }),
      notStocked(s, locations),
      h("p", null, h("a", { href: "#/stock" }, "All products"))));
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
function notStocked(s, locations) {
  const have = new Set((s.locations || []).map((l) => l.locationId));
  const rest = (locations?.data?.locations || []).filter((l) => l.active !== false && !have.has(l.id || l.locationId));
  if (!rest.length) return null;
  return h("p", { class: "hint" }, "Not stocked at: ", rest.map((l) => `${l.name} (${l.id || l.locationId})`).join(", "), ".");
}
