// The order page's price adjustment panel: an agent takes a percent or an amount off the order
// or one line for a reason; the preview says what it takes off, the new total and whether it needs
// a supervisor (over the agent limit it waits in the approvals queue).

import { api } from "../api.js";
import { h, field, dl, replace } from "../dom.js";
import { money, toMinor, fractionDigits } from "../format.js";
import { panel, form, button, showStatus } from "../ui.js";

const opts = (pairs) => pairs.map(([value, label]) => ({ value, label }));

export function adjustPanel(st, cur, applied, reload) {
  const base = `/v1/admin/orders/${encodeURIComponent(st.id)}`;
  const kind = field("Discount", { kind: "select", name: "kind", id: "adj-kind", options: opts([["percent", "Percent off"], ["fixed", `Amount off (${cur})`]]) });
  const value = field("Percent or amount", { name: "value", id: "adj-value", inputmode: "decimal", autocomplete: "off",
    hint: `For example 20 (percent) or ${(5).toFixed(fractionDigits(cur))}` });
  const line = field("Line", { kind: "select", name: "line", id: "adj-line",
    options: opts([["", "The whole order"], ...(st.order.lines || []).map((l) => [l.lineId, `${l.lineId}: ${l.name}`])]) });
  const reason = field("Reason", { kind: "textarea", name: "reason", id: "adj-reason", rows: 2, hint: "Internal: the customer sees only the discount." });
  const out = h("div", { class: "preview", id: "adj-preview" });
  const body = () => {
    const v = value.input.value.trim();
    const discount = kind.input.value === "percent"
      ? { type: "percent", basisPoints: Math.round(Number(v) * 100) }
      : { type: "fixed", amount: { amount: toMinor(v, cur), currency: cur } };
    if (!v || (discount.type === "percent" ? !(discount.basisPoints >= 1 && discount.basisPoints <= 10000) : discount.amount.amount === null)) {
      throw new Error("Enter a percent (0.01 to 100) or an amount.");
    }
    const r = reason.input.value.trim();
    if (!r) throw new Error("Give a reason for the adjustment.");
    const b = { discount, reason: r };
    if (line.input.value) b.lineId = line.input.value;
    return b;
  };
  const f = form({ class: "stack", "aria-label": "Price adjustment" }, [kind.wrap, value.wrap, line.wrap, reason.wrap,
    h("button", { type: "submit" }, "Preview adjustment"), out], async () => {
    const b = body();
    const { data } = await api("POST", `${base}/adjustments`, { body: { ...b, preview: true } });
    replace(out,
      h("h3", { id: "adj-preview-h", tabindex: "-1" }, "Adjustment preview"),
      dl([
        ["Takes off", h("strong", null, money(data.adjustment.amount))],
        ["New total", h("strong", { id: "adj-new-total" }, money(data.totals.total))],
        ["Your limit on this order", money(data.limit)],
        ["Needs a supervisor", data.needsApproval ? "Yes: it waits in the approvals queue" : "No"],
      ]),
      button(data.needsApproval ? "Ask a supervisor" : `Apply ${money(data.adjustment.amount)} off`, async () => {
        const { data: done, status } = await api("POST", `${base}/adjustments`, { body: b });
        if (status === 202 || done.outcome === "pending_approval") {
          replace(out);
          showStatus(`Waiting for a supervisor: ${money(done.adjustment.amount)} off (approval ${done.approval.id}).`);
          await reload();
        } else {
          const { data: order, etag } = await api("GET", base);
          applied(st, order, etag, `Adjusted: ${money(done.adjustment.amount)} off. New total ${money(done.totals.total)}.`, "act-adjust");
        }
      }, { class: "primary", id: "adj-submit" }));
    document.getElementById("adj-preview-h")?.focus();
  });
  return panel("act-adjust", "Price adjustment", f);
}

/** The loyalty programme's offers for the order (read when the panel opens), each with why it
 *  does or does not fit; an applicable one is applied in one click (the programme funds it). */
export function offersPanel(st, applied) {
  const base = `/v1/admin/orders/${encodeURIComponent(st.id)}`;
  const out = h("div", { id: "loyalty-offers" }, h("p", { class: "hint" }, "Loading the programme's offers…"));
  const p = panel("act-offers", "Loyalty offers", out);
  let loaded = false;
  p.addEventListener("toggle", async () => {
    if (!p.open || loaded) return;
    loaded = true;
    try {
      const { data } = await api("GET", `${base}/loyalty-offers`);
      replace(out,
        h("p", null, data.tier ? `Member, tier ${data.tier}.` : "Not a member of the programme."),
        data.offers.length ? h("ul", { class: "offers" }, data.offers.map((o) => h("li", null,
          h("strong", null, o.title), ` (${o.offerId}) `,
          o.applicable
            ? button("Apply offer", async () => {
              const { data: done } = await api("POST", `${base}/loyalty-offers/${encodeURIComponent(o.offerId)}`);
              const { data: order, etag } = await api("GET", base);
              applied(st, order, etag, `Offer applied: ${money(done.adjustment.amount)} off. New total ${money(done.totals.total)}.`, "act-offers");
            }, { class: "primary", id: `offer-${o.offerId}` })
            : h("span", { class: "hint" }, o.reason)))) : h("p", { class: "empty" }, "No offers for this customer."));
    } catch (e) {
      loaded = false;
      replace(out, h("p", { class: "hint", role: "alert" }, e.problem?.detail || e.message));
    }
  });
  return p;
}
