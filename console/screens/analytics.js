// Analytics (#/analytics?from=YYYY-MM-DD&to=YYYY-MM-DD&channel=web): a range of UTC days' figures
// for supervisors and finance: key figures as tiles; four charts per day (order volume, average
// order value, fulfillment speed, return rate) drawn as inline SVG by charts.js, each with its
// numbers in a table; the top SKUs and the figures per location. The range defaults to the last
// 30 days ending today (UTC) and lives in the address, so Apply is a navigation and a range can
// be bookmarked. A queue consumer keeps the figures, so an order counts a little after it is
// placed. Agents get 403 from these routes: the screen says which roles may.

import { api, ApiError } from "../api.js";
import { h, field, table } from "../dom.js";
import { money, day, humanize } from "../format.js";
import { pageTitle, section, form, showError } from "../ui.js";
import { barChart, lineChart, percent, duration, count, DURATION_STEPS } from "./charts.js";

const BASE = "/v1/admin/analytics";
const CHANNELS = ["web", "app", "call_center", "store", "marketplace"];
const DAYS = 30;
const YMD = /^\d{4}-\d{2}-\d{2}$/;

export async function render({ view, query, navigate }) {
  const range = rangeOf(query);
  const params = (extra = {}) => {
    const p = new URLSearchParams({ ...extra, from: range.from, to: range.to });
    if (range.channel) p.set("channel", range.channel);
    return p;
  };
  let summary;
  try {
    ({ data: summary } = await api("GET", `${BASE}/summary?${params()}`));
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    if (e.status === 403) {
      view.append(pageTitle("Analytics"),
        h("p", { class: "empty", id: "analytics-forbidden" },
          "Analytics are for supervisors and finance: sign in with one of those roles to see them."));
      return;
    }
    // A range the API refuses: the form stays, so the agent can correct it; the problem is in the alert.
    view.append(pageTitle("Analytics"), rangeForm(range, navigate),
      h("p", { class: "empty", id: "analytics-error" }, "The figures for this range could not be loaded."));
    showError(e);
    return;
  }
  summary = summary || {};
  // Customer satisfaction from the after-delivery surveys answered in the range.
  const csat = await api("GET", `${BASE}/csat?${new URLSearchParams({ from: range.from, to: range.to })}`)
    .then((r) => r.data || {}, () => ({}));
  summary = { ...summary, csat };
  view.append(
    pageTitle("Analytics"),
    lede(summary, range),
    rangeForm(range, navigate),
    tiles(summary));
  if (!summary.orders) {
    view.append(h("p", { class: "empty", id: "analytics-empty" }, "No orders in this range."));
    return;
  }

  const currency = mainCurrency(summary);
  const series = (metric, extra) => api("GET", `${BASE}/timeseries?${params({ metric, interval: "day", ...extra })}`)
    .then((r) => ({ data: r.data || {} }), (e) => ({ error: e }));
  const [orders, aov, readyToShip, delivered, returnRate] = await Promise.all([
    series("orders"),
    series("aov", currency ? { currency } : {}),
    series("readyToShipP50Minutes"),
    series("deliveredP50Minutes"),
    series("returnRate"),
  ]);
  // The AOV series is in one currency: as the API says, else the one asked for.
  const cur = (aov.data && aov.data.currency) || currency || null;

  view.append(
    h("div", { class: "grid-2 charts" },
      chartSection("Order volume per day", "chart-orders", [orders], () => barChart({
        id: "chart-orders-svg", title: "Orders per day", name: "Orders", points: points(orders), format: count,
      })),
      chartSection(`Average order value per day${cur ? ` (${cur})` : ""}`, "chart-aov", [aov], () => lineChart({
        id: "chart-aov-svg", title: "Average order value per day", format: cur ? (v) => money({ amount: v, currency: cur }) : count,
        series: [{ name: "Average order value", points: points(aov) }],
      }), otherCurrencies(summary, cur)),
      chartSection("Fulfillment speed per day", "chart-fulfillment", [readyToShip, delivered], () => lineChart({
        id: "chart-fulfillment-svg", title: "Fulfillment speed per day, median", format: duration, steps: DURATION_STEPS,
        series: [
          { name: "Ready to ship (p50)", points: points(readyToShip) },
          { name: "Delivered (p50)", points: points(delivered) },
        ],
      }), "Median (p50) time to ready to ship and to delivered, per day."),
      chartSection("Return rate per day", "chart-returns", [returnRate], () => lineChart({
        id: "chart-returns-svg", title: "Return rate per day", format: percent,
        series: [{ name: "Return rate", points: points(returnRate) }],
      }))),
    h("div", { class: "grid-2" },
      section("Top SKUs", "an-top-skus",
        table(null, ["SKU", "Units"],
          (summary.topSkus || []).map((x) => [h("a", { href: `#/stock/${encodeURIComponent(x.sku)}` }, x.sku), count(x.units)]),
          { empty: "No units in this range.", numeric: [1] })),
      section("By location", "an-locations",
        table(null, ["Location", "Orders", "Units"],
          (summary.byLocation || []).map((l) => [l.locationId, count(l.orders), count(l.units)]),
          { empty: "No location fulfilled orders in this range.", numeric: [1, 2] }))),
    section("On time by carrier", "an-carriers",
      table(null, ["Carrier", "Delivered", "On time", "On-time rate"],
        (summary.byCarrier || []).map((c) => [c.carrier, count(c.delivered), count(c.onTime), c.onTimeRate == null ? "—" : percent(c.onTimeRate)]),
        { empty: "No delivery in this range.", numeric: [1, 2, 3] })),
  );
}

// --- The range --------------------------------------------------------------------------------

const validDay = (x) => YMD.test(x || "") && !Number.isNaN(Date.parse(`${x}T00:00:00Z`));
const minusDays = (ymd, n) => new Date(Date.parse(`${ymd}T00:00:00Z`) - n * 86_400_000).toISOString().slice(0, 10);

/** The range in the address; what is missing or malformed defaults (the last 30 days to today, UTC). */
function rangeOf(query) {
  const to = validDay(query.get("to")) ? query.get("to") : new Date().toISOString().slice(0, 10);
  const from = validDay(query.get("from")) ? query.get("from") : minusDays(to, DAYS - 1);
  const channel = CHANNELS.includes(query.get("channel")) ? query.get("channel") : "";
  return { from, to, channel };
}

function rangeForm(range, navigate) {
  const from = field("From", { type: "date", name: "from", id: "an-from", value: range.from, required: true });
  const to = field("To", { type: "date", name: "to", id: "an-to", value: range.to, required: true });
  const channel = field("Channel", {
    kind: "select", name: "channel", id: "an-channel",
    options: [{ value: "", label: "All", selected: !range.channel },
      ...CHANNELS.map((c) => ({ value: c, label: humanize(c), selected: c === range.channel }))],
  });
  return form({ class: "inline-fields range-form", id: "an-range", "aria-label": "Figures to show" },
    [from.wrap, to.wrap, channel.wrap, h("button", { type: "submit", class: "primary", id: "an-apply" }, "Apply")],
    async () => {
      from.input.removeAttribute("aria-invalid");
      to.input.removeAttribute("aria-invalid");
      for (const [input, what] of [[from.input, "first"], [to.input, "last"]]) {
        if (!validDay(input.value)) {
          input.setAttribute("aria-invalid", "true");
          input.focus();
          throw new Error(`Enter the ${what} day of the range as a date.`);
        }
      }
      if (from.input.value > to.input.value) {
        from.input.setAttribute("aria-invalid", "true");
        from.input.focus();
        throw new Error("The range starts after it ends: choose a From day on or before the To day.");
      }
      const p = new URLSearchParams({ from: from.input.value, to: to.input.value });
      if (channel.input.value) p.set("channel", channel.input.value);
      navigate(`#/analytics?${p}`);
    });
}

function lede(s, range) {
  const channel = s.channel || range.channel;
  return h("p", { class: "lede", id: "an-range-text" },
    "Figures for ", day(s.from || range.from), " to ", day(s.to || range.to), " (UTC days), ",
    channel ? `${humanize(channel).toLowerCase()} channel` : "all channels",
    ". Orders placed in the last minutes may not be counted yet.");
}

// --- Key figures ------------------------------------------------------------------------------

function tiles(s) {
  const f = s.fulfillment || {};
  const rts = f.readyToShip || {};
  const del = f.delivered || {};
  const tile = (id, label, value, note) => h("div", { class: "kpi", id: `kpi-${id}` },
    h("dt", null, label),
    h("dd", { class: "kpi-value" }, value),
    note ? h("dd", { class: "kpi-note" }, note) : null);
  const speed = (x) => `${duration(x.p50Minutes)} / ${duration(x.p90Minutes)}`;
  return section("Key figures", "kpis",
    h("dl", { class: "kpis" },
      tile("orders", "Orders", count(s.orders ?? 0), `${count(s.cancelled ?? 0)} cancelled`),
      tile("net-sales", "Net sales", moneyList(s.netSales)),
      tile("aov", "Average order value", moneyList(s.aov)),
      tile("units", "Units", count(s.units ?? 0)),
      tile("return-rate", "Return rate", percent(s.returnRate), `${count(s.returns ?? 0)} with a return`),
      tile("accuracy", "Accuracy", percent(s.accuracy), `${count(s.accurate ?? 0)} accurate`),
      tile("on-time", "On-time rate", percent(s.onTimeRate), `${count(s.onTime ?? 0)} of ${count(s.delivered ?? 0)} delivered on time`),
      tile("ready-to-ship", "Ready to ship p50 / p90", speed(rts), `${count(rts.count ?? 0)} orders`),
      tile("delivered", "Delivered p50 / p90", speed(del), `${count(del.count ?? 0)} orders`),
      tile("csat", "Customer satisfaction (CSAT)", percent(s.csat?.csat),
        `${count(s.csat?.satisfied ?? 0)} of ${count(s.csat?.answers ?? 0)} answers scored 4 or 5`)));
}

/** Amounts in several currencies, one per line; none is a dash. */
function moneyList(list) {
  const ms = (list || []).filter((m) => m && m.currency);
  if (!ms.length) return "—";
  return ms.map((m, i) => [i ? h("br") : null, money(m)]);
}

// --- Charts -----------------------------------------------------------------------------------

/** A chart's card: the chart, or what went wrong loading its series. */
function chartSection(title, id, results, draw, hint) {
  const failed = results.find((r) => r.error);
  return section(title, id,
    hint ? h("p", { class: "hint" }, hint) : null,
    failed ? h("p", { class: "error-inline" }, `Could not load this chart: ${failed.error.message}`) : draw());
}

const points = (r) => (r.data && Array.isArray(r.data.points) ? r.data.points : []);

/** The currency with the highest net sales: the one the AOV chart is drawn in. */
function mainCurrency(s) {
  const list = (s.netSales && s.netSales.length ? s.netSales : s.aov || []).filter((m) => m && m.currency);
  if (!list.length) return null;
  return list.reduce((a, b) => (b.amount > a.amount ? b : a)).currency;
}

/** When the range has sales in more than one currency, says the chart shows one of them. */
function otherCurrencies(s, shown) {
  const others = (s.netSales || []).map((m) => m.currency).filter((c) => c && c !== shown);
  return shown && others.length ? `In ${shown}, the currency with the highest net sales; also sold in ${others.join(", ")}.` : null;
}
