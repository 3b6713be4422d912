// A case on its own (#/cases/{id}), from the queues: the case card and a link to its order.

import { api } from "../api.js";
import { h } from "../dom.js";
import { pageTitle } from "../ui.js";
import { caseCard, orderLink } from "./parts.js";

export async function render({ view, params }) {
  const { data } = await api("GET", `/v1/admin/cases/${encodeURIComponent(params[0])}`);
  view.append(
    pageTitle(`Case: ${data.subject}`),
    h("p", { class: "lede" }, "On order ", orderLink(data.orderId)),
    h("div", { class: "card" }, caseCard(data, { headingLevel: 2 })),
  );
}
