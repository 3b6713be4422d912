// Packing (#/packing, #/packing/{locationId}): the pick list of a location that packs with the
// OMS, most urgent promise first. Warehouse and store staff pick a parcel's lines, weigh and
// measure the packed parcel and record it; packing an order's last parcel buys its labels from
// the packed parcels (the order is then ready to ship). A label the carrier did not sell yet is
// bought by recording the same parcel again.

import { api } from "../api.js";
import { session } from "../auth.js";
import { h, field, replace } from "../dom.js";
import { whenShort } from "../format.js";
import { pageTitle, section, form, showStatus } from "../ui.js";
import { orderLink } from "./parts.js";

const SIZES = [
  ["weightGrams", "Weight (g)", 70000],
  ["lengthMm", "Length (mm)", 2000],
  ["widthMm", "Width (mm)", 2000],
  ["heightMm", "Height (mm)", 2000],
];

export async function render({ view, params, navigate }) {
  const roles = session()?.roles || [];
  view.append(pageTitle("Packing"));
  if (!roles.includes("warehouse") && !roles.includes("admin")) {
    view.append(h("p", { class: "empty", id: "packing-forbidden" },
      "Pick lists and packing are for warehouse and store staff: sign in with the warehouse role."));
    return;
  }
  const locations = ((await api("GET", "/v1/admin/locations")).data.locations || [])
    .filter((l) => l.packing && l.active !== false);
  const current = params[0] ? decodeURIComponent(params[0]) : "";
  const choose = field("Location", { kind: "select", id: "packing-location", options: [
    { value: "", label: "Choose a location", selected: !current },
    ...locations.map((l) => ({ value: l.id || l.locationId, label: `${l.name} (${l.id || l.locationId})`, selected: (l.id || l.locationId) === current })),
  ] });
  choose.input.addEventListener("change", () => navigate(`#/packing/${encodeURIComponent(choose.input.value)}`));
  view.append(section("Where you pack", "packing-where", choose.wrap,
    locations.length ? null : h("p", { class: "empty" }, "No location packs with the OMS (a location's packing setting).")));
  if (!current) return;
  const list = section("Pick list", "picks");
  view.append(list);
  await draw(list, current);
}

async function draw(s, location) {
  const heading = s.querySelector("h2");
  replace(s, heading);
  const r = await api("GET", `/v1/admin/locations/${encodeURIComponent(location)}/picks`);
  const picks = r.data.picks || [];
  heading.textContent = `Pick list at ${location} (${picks.length})`;
  if (!picks.length) {
    s.append(h("p", { class: "empty", id: "picks-empty" }, "Nothing to pick: every parcel here is packed."));
    return;
  }
  s.append(h("p", { class: "hint" }, "Pick the lines, pack the parcel, then weigh and measure it: the label is bought from these figures."));
  const ul = h("ul", { class: "cards", id: "pick-list" });
  for (const p of picks) ul.append(card(p, s, location));
  s.append(ul);
}

function card(p, s, location) {
  // Packed already, its label still to buy: the recorded figures, sent again as they are.
  const packed = p.status === "packed" && p.parcel;
  // An agent holds the order: leave the parcel until they release it.
  const held = p.orderStatus === "on_hold";
  const inputs = SIZES.map(([name, label, max]) => field(label, { type: "number", name, min: 1, max, step: 1, inputmode: "numeric",
    required: true, id: `${name}-${p.shipmentId}`, value: packed ? String(p.parcel[name]) : null, readonly: packed || null }));
  const f = form({ class: "inline", "aria-label": `Pack shipment ${p.shipmentId}` }, [
    h("div", { class: "inline-fields" }, inputs.map((i) => i.wrap)),
    h("button", { type: "submit", disabled: held || null }, packed ? "Buy label" : "Packed"),
  ], async () => {
    const body = {};
    for (const [i, [name, label, max]] of inputs.map((x, k) => [x, SIZES[k]])) {
      const v = Number(i.input.value);
      if (!Number.isInteger(v) || v < 1 || v > max) {
        i.input.setAttribute("aria-invalid", "true");
        i.input.focus();
        throw new Error(`${label}: a whole number from 1 to ${max}.`);
      }
      i.input.removeAttribute("aria-invalid");
      body[name] = v;
    }
    const path = `/v1/admin/orders/${encodeURIComponent(p.orderId)}/shipments/${encodeURIComponent(p.shipmentId)}/packed`;
    const { data } = await api("POST", path, { body });
    const tracking = (data.order?.shipments || []).find((x) => x.id === p.shipmentId)?.trackingNumber;
    const said = {
      labelled: `Parcel of order ${p.orderId} packed; label bought${tracking ? ` (tracking ${tracking})` : ""}: the order is ready to ship.`,
      awaiting_pack: `Parcel of order ${p.orderId} packed; the order's other parcels are still to pack.`,
      label_pending: `Parcel of order ${p.orderId} packed, but the carrier did not sell the label yet: press Packed again with the same figures.`,
      none: `Parcel of order ${p.orderId} recorded; the order is no longer waiting (it was cancelled or changed).`,
    }[data.labels] || `Parcel of order ${p.orderId} packed.`;
    if (data.labels !== "label_pending") await draw(s, location);
    showStatus(said);
  });
  return h("li", { class: "card pick", id: `pick-${p.shipmentId}` },
    h("h3", null, orderLink(p.orderId, `Order ${p.orderId}`)),
    h("dl", { class: "facts" },
      h("dt", null, "Promised by"), h("dd", null, p.promisedBy),
      h("dt", null, "Service"), h("dd", null, p.serviceLevel),
      h("dt", null, "On the list since"), h("dd", null, whenShort(p.releasedAt)),
      held ? [h("dt", null, "On hold"), h("dd", { class: "warning" }, "An agent is reviewing this order: do not pack it yet")] : null,
      packed ? [h("dt", null, "Packed"), h("dd", null, "Yes: the label is bought when the order's other parcels are packed, or again with Buy label")] : null),
    h("h4", null, "What to pick"),
    h("ul", { class: "pick-lines" }, (p.lines || []).map((l) => h("li", null, `${l.quantity} × ${l.name} (${l.sku})`))),
    f);
}
