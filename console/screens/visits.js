// Technicians' visits and warranty on the order page: the visits table (with repeat reasons and
// technicians' notes, which only staff see), booking a service line's visit in a window offered
// for the order's address, rescheduling or cancelling a scheduled one, a free repeat after a
// failed or complained-about visit, and a warranty claim (replacement at no charge or a repair).

import { api } from "../api.js";
import { h, field, table, replace } from "../dom.js";
import { day, humanize, badge, whenShort } from "../format.js";
import { section, panel, form, button } from "../ui.js";

const opts = (pairs) => pairs.map(([value, label]) => ({ value, label }));

export function visitsSection(o) {
  const visits = o.visits || [];
  const claims = o.warrantyClaims || [];
  return h("div", null,
    section(`Visits (${visits.length})`, "visits",
      table(null, ["Visit", "Kind", "Service", "Day", "Window", "Status", "Charge", "Repeat of", "Reason / technician's note"],
        visits.map((v) => [v.visitId, humanize(v.kind), v.sku, day(v.date), `${v.starts}–${v.ends}`, badge(v.status),
          v.free ? "Free" : "With the line", v.repeatOf || "—", [v.reason, v.outcome].filter(Boolean).join(" / ") || "—"]),
        { empty: "No visits." })),
    claims.length ? section(`Warranty claims (${claims.length})`, "claims",
      table(null, ["Claim", "Line", "Units", "Remedy", "Replacement order", "Repair visit", "Reason", "Made"],
        claims.map((c) => [c.claimId, `${c.lineId} (${c.sku})`, String(c.quantity), humanize(c.remedy),
          c.replacementOrderId ? h("a", { href: `#/orders/${c.replacementOrderId}` }, c.replacementOrderId) : "—",
          c.visitId || "—", c.reason || "—", whenShort(c.createdAt)]))) : null);
}

/** The windows offered for `sku` near the order's address, as select options. */
async function slotOptions(sku, o, from) {
  const a = o.shippingAddress || {};
  const q = new URLSearchParams({ postalCode: a.postalCode || "", country: a.country || "US" });
  if (from) q.set("from", from);
  const { data } = await api("GET", `/v1/services/${encodeURIComponent(sku)}/slots?${q}`);
  return (data.slots || []).map((s) => ({ value: s.slotId, label: `${s.date} ${s.start}–${s.end} (${s.freeMinutes} min free)` }));
}

/** A slot picker: a day to start from, "Find windows", then a select of the windows offered. */
function slotPicker(prefix, skuOf, o) {
  const from = field("From day", { type: "date", name: "from", id: `${prefix}-from` });
  const slot = field("Window", { kind: "select", name: "slot", id: `${prefix}-slot`, options: opts([["", "Find windows first"]]) });
  const find = button("Find windows", async () => {
    const list = await slotOptions(skuOf(), o, from.input.value);
    replace(slot.input, ...(list.length ? list : [{ value: "", label: "No window has room" }]).map((x) => h("option", { value: x.value }, x.label)));
    slot.input.focus();
  }, { id: `${prefix}-find` });
  return { nodes: [from.wrap, find, slot.wrap], value: () => slot.input.value };
}

export function visitPanels(st, applied, reload) {
  const o = st.order;
  const base = `/v1/orders/${encodeURIComponent(st.id)}`;
  const out = [];
  const services = (o.lines || []).filter((l) => l.kind === "service");
  if (services.length && !["cancelled", "failed", "returned"].includes(o.status)) {
    const line = field("Service line", { kind: "select", name: "line", id: "visit-line",
      options: opts(services.map((l) => [l.lineId, `${l.lineId}: ${l.name}`])) });
    const skuOf = () => services.find((l) => l.lineId === line.input.value)?.sku || services[0].sku;
    const pick = slotPicker("visit", skuOf, o);
    out.push(panel("act-visit", "Book a visit", form({ class: "stack", "aria-label": "Book a visit" },
      [line.wrap, ...pick.nodes, h("button", { type: "submit", class: "primary" }, "Book visit")], async () => {
        if (!pick.value()) throw new Error("Find windows and choose one.");
        const { data } = await api("POST", `${base}/visits`, { body: { lineId: line.input.value, slotId: pick.value() } });
        await reload(`Visit ${data.visitId} booked for ${data.date} ${data.starts}–${data.ends}.`, "visits");
      })));
  }
  for (const v of (o.visits || []).filter((x) => x.status === "scheduled")) {
    const pick = slotPicker(`move-${v.visitId}`, () => v.sku, o);
    out.push(panel(`act-move-${v.visitId}`, `Reschedule or cancel visit ${v.visitId}`, form({ class: "stack", "aria-label": `Reschedule visit ${v.visitId}` },
      [...pick.nodes, h("button", { type: "submit", class: "primary" }, "Move visit"),
        button("Cancel visit", async () => {
          await api("POST", `${base}/visits/${v.visitId}/cancel`);
          await reload(`Visit ${v.visitId} cancelled.`, "visits");
        }, { id: `cancel-${v.visitId}` })], async () => {
        if (!pick.value()) throw new Error("Find windows and choose one.");
        const { data } = await api("POST", `${base}/visits/${v.visitId}/reschedule`, { body: { slotId: pick.value() } });
        await reload(`Visit ${v.visitId} moved to ${data.date} ${data.starts}–${data.ends}.`, "visits");
      })));
  }
  const repeatable = (o.visits || []).filter((v) => ["failed", "completed"].includes(v.status)
    && !(o.visits || []).some((r) => r.repeatOf === v.visitId && ["scheduled", "dispatched"].includes(r.status)));
  for (const v of repeatable) {
    const pick = slotPicker(`repeat-${v.visitId}`, () => v.sku, o);
    const reason = field("Reason", { kind: "textarea", name: "reason", id: `repeat-reason-${v.visitId}`, rows: 2, hint: "Internal: the customer sees the visit, not the reason." });
    out.push(panel(`act-repeat-${v.visitId}`, `Free repeat of visit ${v.visitId}`, form({ class: "stack", "aria-label": `Repeat visit ${v.visitId}` },
      [...pick.nodes, reason.wrap, h("button", { type: "submit", class: "primary" }, "Book free repeat")], async () => {
        const r = reason.input.value.trim();
        if (!pick.value()) throw new Error("Find windows and choose one.");
        if (!r) throw new Error("Give the reason for the repeat visit.");
        const { data } = await api("POST", `/v1/admin/orders/${encodeURIComponent(st.id)}/visits/${v.visitId}/repeat`, { body: { slotId: pick.value(), reason: r } });
        await reload(`Free repeat ${data.visitId} of ${v.visitId} booked for ${data.date}.`, "visits");
      })));
  }
  const delivered = new Set((o.shipments || []).filter((s) => s.status === "delivered").flatMap((s) => (s.lines || []).map((l) => l.lineId)));
  const goods = (o.lines || []).filter((l) => l.kind === "goods" && delivered.has(l.lineId));
  if (goods.length) {
    const line = field("Line", { kind: "select", name: "line", id: "claim-line", options: opts(goods.map((l) => [l.lineId, `${l.lineId}: ${l.name}`])) });
    const qty = field("Units", { type: "number", name: "qty", id: "claim-qty", min: 1, max: 99, value: "1" });
    const reason = field("What is wrong", { kind: "textarea", name: "reason", id: "claim-reason", rows: 2 });
    out.push(panel("act-claim", "Warranty claim (replacement at no charge)", form({ class: "stack", "aria-label": "Warranty claim" },
      [line.wrap, qty.wrap, reason.wrap, h("button", { type: "submit", class: "primary" }, "Claim replacement")], async () => {
        const r = reason.input.value.trim();
        if (!r) throw new Error("Say what is wrong with the item.");
        const { data } = await api("POST", `${base}/warranty-claims`, { body: { lineId: line.input.value, quantity: Number(qty.input.value || 1), remedy: "replacement", reason: r } });
        await reload(`Warranty claim ${data.claim.claimId}: replacement order ${data.claim.replacementOrderId} placed at no charge.`, "claims");
      })));
  }
  return out;
}
