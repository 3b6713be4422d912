// Parked work (#/parked): change records whose after-commit work (mails, voids, refunds,
// captures, label voids, documents, integration events) the drain gave up on: after ten failed
// runs, an effect that fails for good, or 20 hours after the change (the providers' idempotency
// window). Finance and administrators see what is left of each and put it back on the drain's
// list once the cause is fixed; what already ran is not run again.

import { api } from "../api.js";
import { session } from "../auth.js";
import { h, table, replace } from "../dom.js";
import { pageTitle, section, button, showStatus } from "../ui.js";
import { when } from "../format.js";

const reconciles = () => ["finance", "admin"].some((r) => (session()?.roles || []).includes(r));

const EFFECTS = {
  notify: "Send the mail",
  void_authorization: "Void the authorization",
  refund: "Refund",
  void_label: "Void the label",
  capture: "Capture the payment",
  issue_document: "Issue the document",
  return_exchange_credit: "Give the exchange credit back",
};

/** What is left of a record, in the words an operator reads. */
export function leftToDo(item) {
  const effects = (item.effectsLeft || []).map((k) => EFFECTS[k] || k);
  const events = (item.eventsLeft || []).length ? [`Publish ${item.eventsLeft.join(", ")}`] : [];
  return [...effects, ...events];
}

export async function render({ view }) {
  view.append(pageTitle("Parked work"));
  if (!reconciles()) {
    view.append(h("p", { class: "hint", id: "parked-forbidden" },
      "Finance and administrators see the after-commit work the drain gave up on."));
    return;
  }
  view.append(h("p", { class: "hint" },
    "After-commit work the drain gave up on: after ten failed runs, a failure that will not pass on its own, or 20 hours after the change. ",
    "Fix the cause (the provider, the mail service, the event bus), then retry: the record resumes where it stopped."));
  const out = h("div", { id: "parked" });
  view.append(out);
  const load = async () => {
    const { data } = await api("GET", "/v1/admin/effects/parked");
    // when() gives a <time>, or its text when the timestamp is missing or not one.
    const whenText = (iso) => { const t = when(iso); return typeof t === "string" ? t : t.textContent; };
    const rows = data.items.map((p) => [
      h("a", { href: `#/orders/${encodeURIComponent(p.orderId)}` }, p.orderId),
      when(p.createdAt),
      h("ul", { class: "plain" }, leftToDo(p).map((t) => h("li", null, t))),
      String(p.attempts),
      p.redrivenAt ? when(p.redrivenAt) : "—",
      button("Retry", async () => {
        await api("POST", "/v1/admin/effects/parked/retry", { body: { orderId: p.orderId, entryId: p.entryId } });
        await load();
        showStatus(`Back on the drain's list: the change of ${whenText(p.createdAt)} on order ${p.orderId}.`);
      }, { "aria-label": `Retry the change of ${whenText(p.createdAt)} on order ${p.orderId}`, class: "parked-retry" }),
    ]);
    replace(out, section(`Parked (${data.items.length})`, "parked-list",
      table(null, ["Order", "Changed", "Left to do", "Attempts", "Last retried", "Action"], rows,
        { empty: "Nothing is parked.", numeric: [3] })));
  };
  await load();
}
