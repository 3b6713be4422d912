// Promotions (#/promotions) and the approvals queue (#/approvals). Supervisors set promotions
// up (codes or automatic; percent or fixed; the order, some SKUs or a bundle; limits) and see the
// uses orders hold; agents and supervisors see adjustments waiting for approval, and supervisors
// approve or reject them.

import { api } from "../api.js";
import { session } from "../auth.js";
import { h, field, table } from "../dom.js";
import { money, when, humanize, toMinor } from "../format.js";
import { pageTitle, section, form, button, flashStatus, showStatus } from "../ui.js";

const ID = /^[a-z0-9-]{1,40}$/;
const roles = () => session()?.roles || [];
const supervises = () => ["supervisor", "admin"].some((r) => roles().includes(r));

function describe(p) {
  const off = p.discount.type === "percent" ? `${p.discount.basisPoints / 100}% off` : `${money(p.discount.amount)} off`;
  const t = p.target;
  const what = t.type === "order" ? "the order" : t.type === "skus" ? t.skus.join(", ") : `${t.discounted} with ${t.requires}`;
  return `${off} ${t.type === "bundle" ? "each" : ""} ${what}`.replace(/\s+/g, " ");
}

const opts = (pairs) => pairs.map(([value, label]) => ({ value, label }));

export async function render({ view, navigate }) {
  view.append(pageTitle("Promotions"));
  const { data } = await api("GET", "/v1/admin/promotions");
  const items = data.items || [];
  view.append(section(`Promotions (${items.length})`, "promo-list",
    table(null, ["Id", "Name", "Codes", "Discount", "Uses", "Limits", "Stacks", "Active"],
      items.map((p) => [p.id, p.name, (p.codes || []).join(", ") || "automatic", describe(p), String(p.uses),
        [p.usageLimit != null ? `${p.usageLimit} in all` : null, p.perCustomerLimit != null ? `${p.perCustomerLimit} per customer` : null].filter(Boolean).join(", ") || "none",
        p.stackable ? "Yes" : "No (exclusive)", p.active ? "Yes" : "No"]),
      { empty: "No promotions yet.", numeric: [4] })));
  if (supervises()) view.append(promotionForm(navigate));
  else view.append(h("p", { class: "hint", id: "promo-readonly" }, "Supervisors set promotions up."));
}

function promotionForm(navigate) {
  const id = field("Promotion id", { name: "id", id: "promo-id", required: true, hint: "Lowercase letters, digits and -, for example tv-console-bundle." });
  const name = field("Name", { name: "name", id: "promo-name", required: true, maxlength: 200 });
  const codes = field("Codes (comma-separated; empty: automatic)", { name: "codes", id: "promo-codes" });
  const kind = field("Discount", { kind: "select", name: "kind", id: "promo-kind", options: opts([["percent", "Percent off"], ["fixed", "Amount off"]]) });
  const value = field("Percent, or amount in USD", { name: "value", id: "promo-value", required: true, inputmode: "decimal" });
  const target = field("Applies to", { kind: "select", name: "target", id: "promo-target",
    options: opts([["order", "The whole order"], ["skus", "Some SKUs"], ["bundle", "A bundle"]]) });
  const skus = field("SKUs (for some SKUs) or the discounted SKU (bundle)", { name: "skus", id: "promo-skus" });
  const requires = field("Bought with SKU (bundle)", { name: "requires", id: "promo-requires" });
  const limit = field("Uses in all (empty: no limit)", { type: "number", name: "limit", id: "promo-limit", min: 0, step: 1 });
  const perCustomer = field("Uses per customer (empty: no limit)", { type: "number", name: "per", id: "promo-per", min: 0, step: 1 });
  const stack = h("input", { type: "checkbox", id: "promo-stackable", name: "stackable" });
  return section("Set up a promotion", "promo-setup", form({ class: "stack", "aria-label": "Promotion" }, [
    id.wrap, name.wrap, codes.wrap, kind.wrap, value.wrap, target.wrap, skus.wrap, requires.wrap, limit.wrap, perCustomer.wrap,
    h("div", { class: "check" }, stack, h("label", { for: stack.id }, "Combines with other stackable promotions")),
    h("button", { type: "submit", class: "primary" }, "Save promotion"),
  ], async () => {
    const pid = id.input.value.trim();
    if (!ID.test(pid)) {
      id.input.setAttribute("aria-invalid", "true");
      id.input.focus();
      throw new Error("Promotion id: lowercase letters, digits and -, up to 40.");
    }
    const discount = kind.input.value === "percent"
      ? { type: "percent", basisPoints: Math.round(Number(value.input.value) * 100) }
      : { type: "fixed", amount: { amount: toMinor(value.input.value, "USD"), currency: "USD" } };
    const list = skus.input.value.split(",").map((s) => s.trim()).filter(Boolean);
    const t = target.input.value === "order" ? { type: "order" }
      : target.input.value === "skus" ? { type: "skus", skus: list }
        : { type: "bundle", requires: requires.input.value.trim(), discounted: list[0] || "" };
    const body = {
      name: name.input.value.trim(), discount, target: t, stackable: stack.checked,
      codes: codes.input.value.split(",").map((c) => c.trim()).filter(Boolean),
    };
    if (limit.input.value !== "") body.usageLimit = Number(limit.input.value);
    if (perCustomer.input.value !== "") body.perCustomerLimit = Number(perCustomer.input.value);
    await api("PUT", `/v1/admin/promotions/${encodeURIComponent(pid)}`, { body });
    flashStatus(`Promotion ${pid} saved.`);
    navigate(`#/promotions?saved=${Date.now()}`);
  }));
}

/** The approvals queue: pending adjustments, newest first; supervisors decide. */
export async function renderApprovals({ view, navigate }) {
  view.append(pageTitle("Approvals"));
  const { data } = await api("GET", "/v1/admin/approvals?status=pending");
  const items = data.items || [];
  const decide = (a, verb) => button(verb === "approve" ? "Approve" : "Reject", async () => {
    await api("POST", `/v1/admin/approvals/${encodeURIComponent(a.id)}/${verb}`);
    flashStatus(`${verb === "approve" ? "Approved" : "Rejected"}: ${money(a.adjustment.amount)} off order ${a.orderId}.`);
    navigate(`#/approvals?done=${Date.now()}`);
  }, { id: `${verb}-${a.id}`, class: verb === "approve" ? "primary" : "" });
  view.append(section(`Waiting for a supervisor (${items.length})`, "approvals",
    table(null, ["Requested", "Order", "Off", "Reason", "Agent", supervises() ? "Decide" : "Status"],
      items.map((a) => [when(a.createdAt), h("a", { href: `#/orders/${encodeURIComponent(a.orderId)}` }, a.orderId),
        money(a.adjustment.amount), a.adjustment.reason, a.adjustment.requestedBy,
        supervises() ? h("span", { class: "actions" }, decide(a, "approve"), " ", decide(a, "reject")) : humanize(a.status)]),
      { empty: "Nothing waits for approval.", numeric: [2] })));
  if (!items.length) showStatus("Nothing waits for approval.");
}
