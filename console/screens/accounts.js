// Business accounts (#/accounts, #/accounts/{companyId}): supervisors and finance look up a
// company account, see its credit limit, what its open orders on account owe and what is left,
// set it up (limit, buyers, payment terms) and record the payments it makes against invoices.

import { api, ApiError } from "../api.js";
import { session } from "../auth.js";
import { h, field, dl } from "../dom.js";
import { money } from "../format.js";
import { pageTitle, section, form, flashStatus } from "../ui.js";

const ID = /^[a-z0-9-]{1,40}$/;

export async function render({ view, params, navigate }) {
  const roles = session()?.roles || [];
  view.append(pageTitle("Business accounts"));
  if (!["supervisor", "finance", "admin"].some((r) => roles.includes(r))) {
    view.append(h("p", { class: "empty", id: "accounts-forbidden" },
      "Business accounts are for supervisors and finance: sign in with one of those roles."));
    return;
  }
  const id = params[0] ? decodeURIComponent(params[0]) : "";
  const find = field("Company id", { name: "companyId", id: "acc-find-id", value: id, autocomplete: "off", spellcheck: "false",
    hint: "Lowercase letters, digits and -, for example acme-gmbh." });
  view.append(section("Find or create an account", "acc-find", form({ class: "inline", "aria-label": "Find an account" },
    [find.wrap, h("button", { type: "submit" }, "Open")], async () => {
      const v = find.input.value.trim();
      if (!ID.test(v)) {
        find.input.setAttribute("aria-invalid", "true");
        find.input.focus();
        throw new Error("Company id: lowercase letters, digits and -, up to 40.");
      }
      navigate(`#/accounts/${encodeURIComponent(v)}`);
    })));
  if (!id) return;
  let company = null;
  try {
    company = (await api("GET", `/v1/admin/companies/${encodeURIComponent(id)}`)).data;
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 404) throw e;
  }
  if (company) {
    view.append(section(`${company.name} (${company.id})`, "acc-summary", dl([
      ["Credit limit", money(company.creditLimit)],
      ["Owed by open orders", money({ amount: company.exposure, currency: company.creditLimit.currency })],
      ["Available", money(company.available)],
      ["Payment terms", `net ${company.paymentTermsDays} days`],
      ["Buyers", (company.buyers || []).join(", ") || "none"],
    ])));
    view.append(paymentForm(company, navigate));
  } else {
    view.append(h("p", { class: "empty", id: "acc-new" }, `No account ${id} yet: set it up below.`));
  }
  view.append(setupForm(id, company, navigate));
}

function setupForm(id, c, navigate) {
  const name = field("Company name", { name: "name", id: "acc-name", value: c?.name || "", required: true, maxlength: 200 });
  const limit = field("Credit limit (minor units, for example cents)", { type: "number", name: "limit", id: "acc-limit", min: 0, step: 1,
    value: c ? String(c.creditLimit.amount) : "", required: true });
  const currency = field("Currency", { name: "currency", id: "acc-currency", value: c?.creditLimit.currency || "USD", maxlength: 3, required: true });
  const buyers = field("Buyers (customer ids, comma-separated)", { name: "buyers", id: "acc-buyers", value: (c?.buyers || []).join(", ") });
  const terms = field("Payment terms (days)", { type: "number", name: "terms", id: "acc-terms", min: 1, max: 120, step: 1,
    value: String(c?.paymentTermsDays || 30), required: true });
  return section(c ? "Change the account" : "Set up the account", "acc-setup", form({ class: "stack", "aria-label": "Account settings" }, [
    name.wrap, limit.wrap, currency.wrap, buyers.wrap, terms.wrap, h("button", { type: "submit", class: "primary" }, "Save account"),
  ], async () => {
    const body = {
      name: name.input.value.trim(),
      creditLimit: { amount: Number(limit.input.value), currency: currency.input.value.trim().toUpperCase() },
      buyers: buyers.input.value.split(",").map((b) => b.trim()).filter(Boolean),
      paymentTermsDays: Number(terms.input.value),
    };
    await api("PUT", `/v1/admin/companies/${encodeURIComponent(id)}`, { body });
    flashStatus(`Account ${id} saved.`);
    navigate(`#/accounts/${encodeURIComponent(id)}?saved=${Date.now()}`);
  }));
}

function paymentForm(c, navigate) {
  const amount = field(`Payment received (minor units of ${c.creditLimit.currency})`, { type: "number", name: "amount", id: "acc-payment", min: 1, step: 1, required: true });
  return section("Record a payment", "acc-pay", form({ class: "inline", "aria-label": "Record a payment" }, [
    amount.wrap, h("button", { type: "submit" }, "Record payment"),
  ], async () => {
    const v = Number(amount.input.value);
    if (!Number.isInteger(v) || v < 1) {
      amount.input.setAttribute("aria-invalid", "true");
      amount.input.focus();
      throw new Error("Payment received: a whole number of minor units, at least 1.");
    }
    const { data } = await api("POST", `/v1/admin/companies/${encodeURIComponent(c.id)}/payments`,
      { body: { amount: { amount: v, currency: c.creditLimit.currency } } });
    flashStatus(`Payment recorded: ${money(data.available)} available.`);
    navigate(`#/accounts/${encodeURIComponent(c.id)}?paid=${Date.now()}`);
  }));
}
