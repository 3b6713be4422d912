// Search (#/?q=...): one box for an e-mail, phone, name, customer id, order id or tracking number.
// An order id that exists goes straight to its order page; anything else lists matching customers.

import { api, ApiError } from "../api.js";
import { h } from "../dom.js";
import { when, humanize } from "../format.js";
import { form, pageTitle, section } from "../ui.js";

const ORDER_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/i;

export async function render({ view, query, navigate, isCurrent }) {
  const q = (query.get("q") || "").trim();
  const input = h("input", {
    type: "search", id: "q", name: "q", value: q, autocomplete: "off", spellcheck: "false",
    "aria-describedby": "q-hint", required: true,
  });
  view.append(
    pageTitle("Find a customer"),
    form({ role: "search", class: "search", id: "search-form", "aria-label": "Customers" }, [
      h("label", { for: "q" }, "Search"),
      h("div", { class: "search-row" }, input, h("button", { type: "submit", class: "primary" }, "Search")),
      h("p", { class: "hint", id: "q-hint" }, "E-mail, phone (any formatting), name, customer id, order id or tracking number."),
    ], async () => {
      const v = input.value.trim();
      if (!v) throw new Error("Type something to search for.");
      navigate(`#/?q=${encodeURIComponent(v)}`);
    }),
  );
  if (!q) return;

  if (ORDER_ID.test(q)) {
    try {
      const { data } = await api("GET", `/v1/admin/orders/${q.toUpperCase()}`);
      if (isCurrent()) location.replace(`#/orders/${encodeURIComponent(data.orderId)}`);
      return;
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 404) throw e;
    }
  }
  const { data } = await api("GET", `/v1/admin/customers?q=${encodeURIComponent(q)}`);
  const customers = data.customers || [];
  view.append(section(`Results (${customers.length})`, "results",
    customers.length === 0
      ? h("p", { class: "empty" }, `No customer matches “${q}”.`)
      : h("ul", { class: "results" }, customers.map((c) => h("li", { class: "result" },
          h("h3", null, h("a", { href: `#/customers/${encodeURIComponent(c.customerId)}` }, c.name || c.customerId)),
          h("dl", { class: "facts inline" },
            h("dt", null, "Customer id"), h("dd", null, c.customerId),
            h("dt", null, "E-mail"), h("dd", null, (c.emails || []).join(", ") || "—"),
            h("dt", null, "Phone"), h("dd", null, (c.phones || []).join(", ") || "—"),
            h("dt", null, "Orders"), h("dd", null, String(c.orderCount ?? "—")),
            h("dt", null, "Last order"), h("dd", null, when(c.lastOrderAt)),
            h("dt", null, "Loyalty tier"), h("dd", null, c.loyaltyTier ? humanize(c.loyaltyTier) : "—")))))));
}
