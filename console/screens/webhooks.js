// Webhooks (#/webhooks, #/webhooks/{id}): the webhook subscriptions (integration events posted to
// a subscriber's URL, signed per Standard Webhooks) with a form to create one; per subscription
// its facts, the actions (enable again, rotate the secret, replay since a time, delete) and its
// delivery log, oldest first, with each delivery's attempts (and its payload when the log keeps
// one). A signing secret is in the API's answer to a create or a rotation only: the screen shows
// it once, then never again. Agents get 403 from these routes: the screen says which roles may.

import { api, ApiError } from "../api.js";
import { config } from "../auth.js";
import { h, field, dl, table, replace } from "../dom.js";
import { when, whenShort, humanize, badge } from "../format.js";
import { pageTitle, section, panel, form, button, showStatus } from "../ui.js";
import { orderLink } from "./parts.js";

const BASE = "/v1/admin/webhook-subscriptions";
const EVENT_TYPES = [
  "order.placed", "order.confirmed", "order.edited", "order.cancelled", "order.held", "order.released",
  "payment.authorized", "payment.captured", "payment.refunded",
  "shipment.shipped", "shipment.delivered",
  "return.requested", "return.received", "return.refunded",
  "case.opened", "case.resolved",
];
const FIELD_LABELS = { url: "URL", eventTypes: "Event types", contactEmail: "Contact e-mail", description: "Description" };
const LIMITS = [50, 100, 200];

// What an action says after it moves to another screen (the next render shows it).
let flash = null;

export async function render({ view, params, navigate }) {
  const id = params[0];
  const message = flash;
  flash = null;
  try {
    if (id) await renderOne(view, id, navigate);
    else await renderList(view);
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 403) throw e;
    view.replaceChildren(
      pageTitle("Webhooks"),
      h("p", { class: "empty", id: "webhooks-forbidden" },
        "Webhook subscriptions are managed by supervisors and integrations: sign in with one of those roles to see them."));
    return;
  }
  if (message) showStatus(message);
}

// --- The list ---------------------------------------------------------------------------------

async function renderList(view) {
  const { data } = await api("GET", BASE);
  const st = { view, subs: data.subscriptions || [], secret: null };
  drawList(st);
}

function drawList(st) {
  replace(st.view,
    pageTitle("Webhooks"),
    h("p", { class: "lede" }, "Integration events posted to a subscriber's URL, signed per Standard Webhooks. ",
      "Open a subscription for its delivery log and actions."),
    st.secret ? secretBox(st, "created") : null,
    section(`Subscriptions (${st.subs.length})`, "subscriptions",
      table(null, ["Endpoint", "Events", "Status", "Failures in a row", "Contact", "Created"],
        st.subs.map((s) => [
          h("span", null, h("a", { href: `#/webhooks/${encodeURIComponent(s.id)}`, class: "url" }, s.url),
            s.description ? [h("br"), h("span", { class: "muted" }, s.description)] : null),
          eventsText(s.eventTypes),
          statusCell(s),
          String(s.consecutiveFailures ?? 0),
          s.contactEmail,
          whenShort(s.createdAt),
        ]), { empty: "No webhook subscriptions yet: create one below.", numeric: [3] })),
    section("New subscription", "new-subscription", createForm(st)),
  );
}

function createForm(st) {
  const url = field("URL", { type: "url", name: "url", id: "wh-url", class: "wide", autocomplete: "off", spellcheck: "false", required: true,
    hint: `Where the events are posted: https, a public host${config().auth === "dev" ? " (this local runner also takes http and private addresses)" : ""}.` });
  const email = field("Contact e-mail", { type: "email", name: "contactEmail", id: "wh-contact", autocomplete: "email", required: true,
    hint: "Told by e-mail when the endpoint keeps failing and is disabled." });
  const desc = field("Description (optional)", { name: "description", id: "wh-description", class: "wide", maxlength: 200, autocomplete: "off" });
  const all = h("input", { type: "radio", name: "wh-scope", id: "wh-scope-all", value: "all", checked: true });
  const some = h("input", { type: "radio", name: "wh-scope", id: "wh-scope-some", value: "some" });
  const boxes = EVENT_TYPES.map((t) => h("input", { type: "checkbox", id: `wh-type-${t.replace(".", "-")}`, value: t }));
  const groups = Object.entries(EVENT_TYPES.reduce((acc, t, i) => {
    (acc[t.split(".")[0]] ||= []).push(i);
    return acc;
  }, {}));
  const pick = h("fieldset", { id: "wh-types", class: "event-types", hidden: true },
    h("legend", null, "Event types to send"),
    h("div", { class: "type-grid" }, groups.map(([group, idx]) => h("div", { class: "type-group" },
      h("p", { class: "type-group-name", "aria-hidden": "true" }, humanize(group)),
      idx.map((i) => h("div", { class: "check" }, boxes[i], h("label", { for: boxes[i].id }, EVENT_TYPES[i])))))));
  const sync = () => { pick.hidden = !some.checked; };
  all.addEventListener("change", sync);
  some.addEventListener("change", sync);
  const inputs = { url: url.input, contactEmail: email.input, description: desc.input, eventTypes: some };

  return form({ class: "stack", id: "wh-create", "aria-label": "New subscription" }, [
    url.wrap,
    h("fieldset", { id: "wh-scope" }, h("legend", null, "Events"),
      h("div", { class: "radio" }, all, h("label", { for: all.id }, "Every event type (*), including types added later")),
      h("div", { class: "radio" }, some, h("label", { for: some.id }, "Only the types I choose"))),
    pick,
    email.wrap,
    desc.wrap,
    h("button", { type: "submit", class: "primary" }, "Create subscription"),
  ], async () => {
    clearFieldErrors(inputs);
    const body = { url: url.input.value.trim(), contactEmail: email.input.value.trim() };
    if (!body.url) throw fieldError(inputs, "url", "Enter the URL the events are posted to.");
    body.eventTypes = some.checked ? boxes.filter((b) => b.checked).map((b) => b.value) : ["*"];
    if (!body.eventTypes.length) throw fieldError(inputs, "eventTypes", "Choose at least one event type.");
    if (!body.contactEmail) throw fieldError(inputs, "contactEmail", "Enter the e-mail address to tell when the endpoint fails.");
    if (desc.input.value.trim()) body.description = desc.input.value.trim();
    let created;
    try {
      ({ data: created } = await api("POST", BASE, { body }));
    } catch (e) {
      if (e instanceof ApiError && e.field) fieldError(inputs, e.field, e.problem?.detail || e.message);
      throw e;
    }
    const { data } = await api("GET", BASE);
    st.subs = data.subscriptions || [];
    st.secret = { id: created.id, url: created.url, secret: created.secret };
    drawList(st);
    showStatus(`Subscription created for ${created.url}. Store its signing secret now: it is not shown again.`);
    document.getElementById("secret-h")?.focus();
  });
}

/** Marks the form field the problem names (aria-invalid, a message under it) and focuses it. */
function fieldError(inputs, name, detail) {
  const key = String(name).split(/[.[]/)[0];
  const input = inputs[key];
  const text = String(detail).replace(new RegExp(`^${key}(\\[\\d+\\])?: `), "");
  if (input) {
    const target = input.closest("fieldset") && key === "eventTypes" ? input.closest("fieldset") : input.closest(".field") || input.parentElement;
    const id = `${input.id}-error`;
    target.append(h("p", { class: "error-inline field-error", id }, `${FIELD_LABELS[key] || key}: ${text}`));
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", [input.getAttribute("aria-describedby"), id].filter(Boolean).join(" "));
    input.focus();
  }
  return new Error(`${FIELD_LABELS[key] || key}: ${text}`);
}

function clearFieldErrors(inputs) {
  for (const input of Object.values(inputs)) {
    const id = `${input.id}-error`;
    document.getElementById(id)?.remove();
    input.removeAttribute("aria-invalid");
    const rest = (input.getAttribute("aria-describedby") || "").split(" ").filter((x) => x && x !== id);
    if (rest.length) input.setAttribute("aria-describedby", rest.join(" "));
    else input.removeAttribute("aria-describedby");
  }
}

// --- One subscription -------------------------------------------------------------------------

async function renderOne(view, id, navigate) {
  const path = `${BASE}/${encodeURIComponent(id)}`;
  const since = new Date(Date.now() - 24 * 3600_000);
  const [sub, log] = await Promise.all([
    api("GET", path),
    api("GET", `${path}/deliveries?${new URLSearchParams({ since: since.toISOString(), limit: "50" })}`)
      .then((r) => ({ items: r.data.deliveries || [] }), (e) => ({ error: e })),
  ]);
  const st = { view, id, path, navigate, sub: sub.data, secret: null, log: { since, limit: 50, ...log } };
  drawOne(st);
}

function drawOne(st) {
  const s = st.sub;
  replace(st.view,
    pageTitle(`Webhook: ${s.description || s.url}`, " ", badge(s.status)),
    h("p", { class: "lede" }, h("a", { href: "#/webhooks" }, "All subscriptions"), ` · ${eventsText(s.eventTypes)} · `, s.url),
    st.secret ? secretBox(st, "rotated") : null,
    h("div", { class: "grid-2" },
      section("Subscription", "subscription",
        dl([
          ["Status", statusCell(s)],
          ["URL", h("span", { class: "url", id: "wh-url-value" }, s.url)],
          ["Events", eventsText(s.eventTypes)],
          ["Description", s.description],
          ["Contact e-mail", s.contactEmail],
          ["Failures in a row", String(s.consecutiveFailures ?? 0)],
          s.previousSecretExpiresAt ? ["Previous secret signs until", when(s.previousSecretExpiresAt)] : null,
          ["Subscription id", s.id],
          ["Created", when(s.createdAt)],
          ["Last change", when(s.updatedAt)],
        ].filter(Boolean))),
      section("Actions", "wh-actions", h("div", { class: "stack" }, actions(st)))),
    logSection(st),
  );
}

function actions(st) {
  const s = st.sub;
  const out = [];
  if (s.status === "disabled") {
    out.push(h("div", { class: "banner", role: "region", "aria-label": "Disabled subscription" },
      h("p", null, h("strong", null, "Deliveries to this endpoint are stopped."), " Enable it again once the receiver answers; replay what it missed after."),
      button("Enable again", async () => {
        const { data } = await api("POST", `${st.path}/enable`);
        st.sub = data;
        st.secret = null;
        drawOne(st);
        showStatus("Subscription enabled again: new events are delivered and its failure count starts over.");
        document.getElementById("page-title")?.focus();
      }, { class: "primary", id: "wh-enable" })));
  }

  out.push(panel("wh-rotate", "Rotate the signing secret",
    h("p", null, "Makes a new secret, shown once. The current one keeps signing for 24 more hours (deliveries carry both signatures), so the receiver can switch over."),
    button("Rotate secret", async () => {
      const { data } = await api("POST", `${st.path}/rotate-secret`);
      st.secret = { id: data.id, url: data.url, secret: data.secret, previousExpires: data.previousSecretExpiresAt };
      delete data.secret;
      st.sub = data;
      drawOne(st);
      showStatus("New signing secret made. Store it now: it is not shown again.");
      document.getElementById("secret-h")?.focus();
    }, { class: "primary", id: "wh-rotate-btn" })));

  const since = field("Send again every delivery of events since", { type: "datetime-local", name: "since", id: "wh-replay-since",
    value: localInput(new Date(Date.now() - 3600_000)), hint: "Your local time, within the last 30 days." });
  out.push(panel("wh-replay", "Replay since a time",
    form({ class: "stack", "aria-label": "Replay since a time" }, [
      s.status === "disabled" ? h("p", { class: "hint" }, "Enable the subscription before replaying to it.") : null,
      since.wrap,
      h("button", { type: "submit", class: "primary" }, "Replay"),
    ], async () => {
      const t = fromLocalInput(since.input.value);
      if (!t) throw new Error("Choose the date and time to replay from.");
      const { data } = await api("POST", `${st.path}/replay`, { body: { since: t.toISOString() } });
      showStatus(["Replay asked for: every logged delivery of events since ", when(data?.since || t.toISOString()), " is sent again in the background."]);
    })));

  out.push(panel("wh-delete", "Delete the subscription",
    h("p", null, "Stops every delivery to this endpoint now. Its delivery log expires on its own."),
    button("Delete subscription", async () => {
      await api("DELETE", st.path);
      flash = `Subscription for ${s.url} deleted.`;
      st.navigate("#/webhooks");
    }, { class: "danger", id: "wh-delete-btn" })));
  return out;
}

// --- The delivery log -------------------------------------------------------------------------

function logSection(st) {
  const s = section("Delivery log", "deliveries");
  drawLog(st, s);
  return s;
}

function drawLog(st, s) {
  const heading = s.querySelector("h2");
  const log = st.log;
  heading.textContent = log.error ? "Delivery log" : `Delivery log (${log.items.length})`;
  const since = field("Events since", { type: "datetime-local", name: "since", id: "log-since", value: localInput(log.since) });
  const limit = field("At most", { kind: "select", name: "limit", id: "log-limit",
    options: LIMITS.map((n) => ({ value: String(n), label: `${n} deliveries`, selected: n === log.limit })) });
  const reload = async (message) => {
    const t = fromLocalInput(since.input.value);
    if (!t) throw new Error("Choose the date and time the log starts from.");
    const n = Number(limit.input.value) || 50;
    const r = await api("GET", `${st.path}/deliveries?${new URLSearchParams({ since: t.toISOString(), limit: String(n) })}`);
    st.log = { since: t, limit: n, items: r.data.deliveries || [] };
    drawLog(st, s);
    showStatus(message || `Delivery log shows ${st.log.items.length} deliver${st.log.items.length === 1 ? "y" : "ies"}.`);
    heading.setAttribute("tabindex", "-1");
    heading.focus();
  };
  replace(s, heading,
    form({ class: "inline-fields log-filter", id: "log-filter", "aria-label": "Delivery log filter" },
      [since.wrap, limit.wrap, h("button", { type: "submit", id: "log-refresh" }, "Refresh")],
      () => reload()),
    h("p", { class: "hint" }, "Oldest first. A failed attempt is tried again on the retry schedule (the next attempt says when); replay sends deliveries again."),
    log.error
      ? h("p", { class: "error-inline" }, `Could not load the delivery log: ${log.error.message}`)
      : deliveriesTable(log.items));
}

function deliveriesTable(items) {
  if (!items.length) return h("p", { class: "empty", id: "deliveries-empty" }, "No deliveries since this time.");
  const heads = ["Event type", "Event id", "Occurred", "State", "Attempts", "Last answer", "Next attempt", "Details"];
  const num = new Set([4]);
  return h("div", { class: "table-wrap" },
    h("table", { class: "deliveries", id: "deliveries-table" },
      h("caption", { class: "sr-only" }, "Deliveries, oldest first"),
      h("thead", null, h("tr", null, heads.map((x, i) => h("th", { scope: "col", class: num.has(i) ? "num" : null }, x)))),
      items.map((d, i) => deliveryRows(d, i, heads.length))));
}

/** A delivery's row and, under it, its attempts and payload (shown by the row's button). */
function deliveryRows(d, i, cols) {
  const id = `delivery-${i}`;
  const attempts = d.attempts || [];
  const detail = h("tr", { class: "delivery-detail", id: `${id}-detail`, hidden: true },
    h("td", { colspan: cols },
      h("div", { class: "delivery-detail-body" },
        table(`Attempts for event ${d.eventId}`, ["At", "Answer", "Error", "Took"],
          attempts.map((a) => [whenShort(a.at), a.status ? `HTTP ${a.status}` : "No answer", a.error || "—", `${a.durationMs} ms`]),
          { empty: "Not tried yet.", numeric: [3] }),
        dl([
          d.orderId ? ["Order", orderLink(d.orderId)] : null,
          typeof d.sequence === "number" ? ["Order sequence", String(d.sequence)] : null,
          ["Logged", when(d.createdAt)],
          typeof d.payload === "string" ? null : ["Payload", "Not kept in the log."],
        ].filter(Boolean)),
        typeof d.payload === "string"
          ? [h("p", { class: "payload-label", id: `${id}-payload-label` }, "Payload as sent"),
              h("pre", { class: "payload", tabindex: "0", role: "region", "aria-labelledby": `${id}-payload-label` }, prettyJson(d.payload))]
          : null)));
  const toggle = h("button", { type: "button", class: "small", id: `${id}-toggle`, "aria-expanded": "false", "aria-controls": detail.id },
    "Show", h("span", { class: "sr-only" }, ` attempts and payload of event ${d.eventId}`));
  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    toggle.firstChild.textContent = open ? "Hide" : "Show";
    detail.hidden = !open;
  });
  return h("tbody", { class: `delivery delivery-${d.state}` },
    h("tr", { class: "delivery-row" },
      h("td", null, d.eventType),
      h("td", null, h("code", { class: "id" }, breakable(d.eventId))),
      h("td", null, whenShort(d.occurredAt)),
      h("td", null, badge(d.state)),
      h("td", { class: "num" }, String(attempts.length)),
      h("td", { class: "last-answer" }, lastAnswer(attempts)),
      h("td", null, d.nextAttemptAt ? whenShort(d.nextAttemptAt) : "—"),
      h("td", null, toggle)),
    detail);
}

/** An event id ("<order id>.<event id>.<type>") with a line-break opportunity after each id. */
function breakable(id) {
  const m = String(id).match(/^([^.]+\.)([^.]+\.)(.+)$/);
  return m ? [m[1], h("wbr"), m[2], h("wbr"), m[3]] : String(id);
}

function lastAnswer(attempts) {
  const a = attempts[attempts.length - 1];
  if (!a) return "Not tried yet";
  if (a.status) return a.error ? `HTTP ${a.status}: ${a.error}` : `HTTP ${a.status}`;
  return a.error ? `Error: ${a.error}` : "No answer";
}

function prettyJson(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return String(text ?? "");
  }
}

// --- Shared pieces ----------------------------------------------------------------------------

/** The signing secret from a create or a rotation, shown this once. */
function secretBox(st, kind) {
  const sec = st.secret;
  const input = h("input", { type: "text", id: "secret-value", class: "secret", readonly: true, value: sec.secret, spellcheck: "false", autocomplete: "off" });
  const box = h("div", { class: "secret-box", role: "region", "aria-labelledby": "secret-h", id: "secret-box" },
    h("h2", { id: "secret-h", tabindex: "-1" }, kind === "rotated" ? "New signing secret" : `Signing secret for ${sec.url}`),
    h("p", null, h("strong", null, "Store it now: it is not shown again. "),
      "The receiver verifies each delivery's webhook-signature header with it.",
      kind === "rotated" && sec.previousExpires ? [" The previous secret keeps signing until ", when(sec.previousExpires), "."] : ""),
    h("div", { class: "secret-row" },
      h("label", { for: input.id }, "Signing secret"),
      input,
      button("Copy", async () => {
        input.select();
        try {
          await navigator.clipboard.writeText(sec.secret);
          showStatus("Secret copied to the clipboard.");
        } catch {
          showStatus("The secret is selected: press Ctrl+C (or ⌘C) to copy it.");
        }
      }, { id: "secret-copy" }),
      button("I have stored it", () => {
        st.secret = null;
        box.remove();
        showStatus("Secret hidden. It cannot be shown again; rotate the secret to get a new one.");
        document.getElementById("page-title")?.focus();
      }, { id: "secret-done" })));
  input.addEventListener("focus", () => input.select());
  return box;
}

function statusCell(s) {
  return h("span", null, badge(s.status), s.status === "disabled" && s.disabledReason ? [" ", h("span", { class: "muted" }, s.disabledReason)] : null);
}

function eventsText(types) {
  if (!types || !types.length) return "—";
  if (types.includes("*")) return "Every event type";
  return types.join(", ");
}

/** A Date -> the value of a datetime-local input, in the agent's time zone. */
function localInput(d) {
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** A datetime-local value (the agent's time zone) -> a Date, or null. */
function fromLocalInput(v) {
  if (!v) return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}
