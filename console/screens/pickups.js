// Pickups (#/pickups): orders waiting at a store for their customer. Store staff (warehouse
// role) hand one over against the code the customer shows; the console never sees the code.

import { api } from "../api.js";
import { h, field, replace } from "../dom.js";
import { whenShort } from "../format.js";
import { pageTitle, section, form, showStatus, showError } from "../ui.js";
import { orderLink, customerLink } from "./parts.js";

export async function render({ view }) {
  view.append(pageTitle("Store pickups"));
  const list = section("Ready for pickup", "pickups");
  view.append(list);
  await draw(list);
}

async function draw(s) {
  const heading = s.querySelector("h2");
  replace(s, heading);
  const r = await api("GET", "/v1/admin/orders?status=ready_for_pickup&limit=50");
  const ids = (r.data.orders || r.data.items || []).map((o) => o.orderId);
  const orders = await Promise.all(ids.map((id) => api("GET", `/v1/admin/orders/${encodeURIComponent(id)}`).then((x) => x.data, () => null)));
  const waiting = orders.filter((o) => o && o.status === "ready_for_pickup");
  heading.textContent = `Ready for pickup (${waiting.length})`;
  if (!waiting.length) {
    s.append(h("p", { class: "empty", id: "pickups-empty" }, "No order is waiting at a store."));
    return;
  }
  s.append(h("p", { class: "hint" }, "Ask the customer for the six-digit code from their mail or their order, then hand the order over."));
  const ul = h("ul", { class: "cards", id: "pickup-list" });
  for (const o of waiting) ul.append(card(o, s));
  s.append(ul);
}

function card(o, s) {
  const store = o.delivery?.pickupLocation || "—";
  const items = (o.lines || []).map((l) => `${l.quantity} × ${l.name || l.sku}`).join(", ");
  const code = field("Pickup code", { name: "code", inputmode: "numeric", autocomplete: "off", maxlength: 32, required: true, id: `code-${o.orderId}` });
  const f = form({ class: "inline", "aria-label": `Hand over order ${o.orderId}` }, [
    code.wrap,
    h("button", { type: "submit" }, "Hand over"),
  ], async () => {
    const value = code.input.value.trim();
    if (!value) {
      code.input.setAttribute("aria-invalid", "true");
      showError({ message: "Enter the customer's pickup code." });
      code.input.focus();
      return;
    }
    try {
      await api("POST", `/v1/admin/orders/${encodeURIComponent(o.orderId)}/collected`, { body: { code: value } });
    } catch (e) {
      if (e.status === 422) {
        code.input.setAttribute("aria-invalid", "true");
        code.input.focus();
      }
      throw e;
    }
    await draw(s);
    showStatus(`Order ${o.orderId} handed over: delivered, payment taken.`);
  });
  return h("li", { class: "card pickup", id: `pickup-${o.orderId}` },
    h("h3", null, orderLink(o.orderId, `Order ${o.orderId}`)),
    h("dl", { class: "facts" },
      h("dt", null, "Store"), h("dd", null, store),
      h("dt", null, "Customer"), h("dd", null, customerLink(o.customerId, o.shippingAddress?.name || o.customerId)),
      h("dt", null, "Items"), h("dd", null, items),
      h("dt", null, "Ready since"), h("dd", null, whenShort(o.pickup?.readyAt)),
      h("dt", null, "Kept until"), h("dd", null, whenShort(o.pickup?.expiresAt))),
    f);
}
