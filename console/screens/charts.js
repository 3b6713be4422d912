// Charts of daily points drawn as inline SVG by our own code (no chart library is loaded): a bar
// chart and a line chart with one or more series. Each is an <svg role="img"> whose label sums the
// series up (days, total, highest and lowest), a legend when there is more than one series, and a
// <details> with the same numbers as a table. Colours and dashes come from style.css classes (the
// CSP allows no inline styles); a second series is also dashed and marked with squares, so colour
// is never the only difference. Also the formatting the charts share: percentages and durations.

import { h, table } from "../dom.js";
import { day } from "../format.js";

const NS = "http://www.w3.org/2000/svg";
const W = 520;
const H = 240;
const M = { top: 12, right: 22, bottom: 30, left: 72 };
/** Round steps for a y axis of minutes (15 min, 1 h, 6 h, 1 d, ...). */
export const DURATION_STEPS = [5, 10, 15, 30, 60, 120, 180, 240, 360, 720, 1440, 2880, 4320, 7200, 10080, 20160, 43200];

const isNum = (v) => typeof v === "number" && Number.isFinite(v);
const r1 = (v) => Math.round(v * 10) / 10;

// --- Formatting -------------------------------------------------------------------------------

const pct = new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 1 });
/** 0.087 -> "8.7%"; null -> "—". */
export const percent = (x) => (isNum(x) ? pct.format(x) : "—");

/** A count in the agent's locale: 1234 -> "1,234"; null -> "—". */
export const count = (n) => (isNum(n) ? n.toLocaleString() : "—");

/** Minutes as a human duration: 45 -> "45 min", 180 -> "3 h", 90 -> "1.5 h", 2880 -> "2 d". */
export function duration(minutes) {
  if (!isNum(minutes)) return "—";
  const m = Math.round(minutes);
  const n = (x) => x.toLocaleString(undefined, { maximumFractionDigits: x < 10 ? 1 : 0 });
  if (m < 60) return `${m} min`;
  if (m < 1440) return `${n(m / 60)} h`;
  return `${n(m / 1440)} d`;
}

const shortFmt = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", timeZone: "UTC" });
/** "2026-11-05" -> "Nov 5" (a calendar day, no time-zone shift). */
export function shortDay(ymd) {
  const [y, m, d] = String(ymd).split("-").map(Number);
  const t = Date.UTC(y, m - 1, d);
  return Number.isNaN(t) ? String(ymd) : shortFmt.format(new Date(t));
}

// --- Drawing ----------------------------------------------------------------------------------

/** An SVG element (h() makes HTML ones): attributes as given, children strings or nodes. */
function s(tag, attrs, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== null && v !== undefined && v !== false) el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined && c !== false) el.append(c);
  }
  return el;
}

/** The y axis: a round top and step over [0, max] (about four steps; whole numbers when told). */
function scale(max, { integer = false, steps = null } = {}) {
  if (!(max > 0)) return { top: integer ? 1 : (steps ? steps[4] : 1), step: integer ? 1 : (steps ? steps[4] / 4 : 0.25) };
  const raw = max / 4;
  let step = steps ? steps.find((x) => x >= raw) || steps[steps.length - 1] : null;
  if (!step) {
    const p = 10 ** Math.floor(Math.log10(raw));
    step = [1, 2, 2.5, 5, 10].map((f) => f * p).find((x) => x >= raw * 0.999999);
  }
  if (integer) step = Math.max(1, Math.ceil(step));
  return { top: step * Math.ceil(max / step - 1e-9), step };
}

/** Grid lines with value labels, day labels under the plot, and the mapping of days and values. */
function frame(dates, sc, format) {
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const n = dates.length;
  const band = pw / Math.max(n, 1);
  const x = (i) => r1(M.left + band * (i + 0.5));
  const y = (v) => r1(M.top + ph - (Math.min(v, sc.top) / sc.top) * ph);
  const nodes = [];
  const ticks = Math.round(sc.top / sc.step);
  for (let i = 0; i <= ticks; i += 1) {
    const v = i * sc.step;
    nodes.push(
      s("line", { class: i === 0 ? "axis" : "grid", x1: M.left, x2: W - M.right, y1: y(v), y2: y(v) }),
      s("text", { class: "tick", x: M.left - 6, y: y(v) + 4, "text-anchor": "end" }, format(v)));
  }
  // About six day labels, counted back from the last day so the newest one is always labelled.
  const every = Math.max(1, Math.ceil(n / 6));
  dates.forEach((d, i) => {
    if ((n - 1 - i) % every !== 0) return;
    nodes.push(s("text", { class: "tick", x: x(i), y: H - M.bottom + 17, "text-anchor": "middle" }, shortDay(d)));
  });
  return { nodes, band, x, y };
}

/** "Nov 1 to Nov 30" for the days a chart covers. */
function span(dates) {
  if (!dates.length) return "no days";
  return dates.length === 1 ? shortDay(dates[0]) : `${shortDay(dates[0])} to ${shortDay(dates[dates.length - 1])}`;
}

/** One series in words: its total (when it adds up), highest and lowest day. */
function describe(name, points, format, total) {
  const have = points.filter((p) => isNum(p.value));
  if (!have.length) return `${name}: no data`;
  const hi = have.reduce((a, b) => (b.value > a.value ? b : a));
  const lo = have.reduce((a, b) => (b.value < a.value ? b : a));
  const sum = have.reduce((a, b) => a + b.value, 0);
  return `${name}: ${total ? `${format(sum)} in total, ` : ""}highest ${format(hi.value)} on ${shortDay(hi.date)}, `
    + `lowest ${format(lo.value)} on ${shortDay(lo.date)}`;
}

/** The days of all series, in order. */
function datesOf(series) {
  return Array.from(new Set(series.flatMap((se) => se.points.map((p) => p.date)))).sort();
}

/** The svg, an optional legend, and the numbers as a table in a <details>. */
function figure({ id, title, label, nodes, series, dates, format }) {
  const byDate = series.map((se) => new Map(se.points.map((p) => [p.date, p.value])));
  const rows = dates.map((d) => [day(d), ...byDate.map((m) => (isNum(m.get(d)) ? format(m.get(d)) : "—"))]);
  return h("div", { class: "chart" },
    s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": label, id, focusable: "false" },
      s("title", null, label), nodes),
    series.length > 1
      ? h("ul", { class: "legend" }, series.map((se, k) => h("li", null, h("span", { class: `swatch series-${k}`, "aria-hidden": "true" }), se.name)))
      : null,
    h("details", { class: "chart-data", id: `${id}-data` },
      h("summary", null, "Show the numbers", h("span", { class: "sr-only" }, `: ${title}`)),
      table(title, ["Day", ...series.map((se) => se.name)], rows, { empty: "No days in this range.", numeric: series.map((_, i) => i + 1) })));
}

/**
 * A bar per day. points: [{date: "YYYY-MM-DD", value: number|null}]; format(value) -> text.
 * `total` says the values add up (counts), so the label gives their sum.
 */
export function barChart({ id, title, name, points, format, integer = true, total = true }) {
  const series = [{ name, points }];
  const dates = datesOf(series);
  const values = points.map((p) => p.value).filter(isNum);
  const sc = scale(Math.max(0, ...values), { integer });
  const f = frame(dates, sc, format);
  const bw = r1(Math.max(1, Math.min(f.band * 0.7, 28)));
  const at = new Map(dates.map((d, i) => [d, i]));
  const bars = points.filter((p) => isNum(p.value) && p.value > 0).map((p) => {
    const top = f.y(p.value);
    return s("rect", { class: "bar", x: r1(f.x(at.get(p.date)) - bw / 2), y: top, width: bw, height: r1(f.y(0) - top) });
  });
  const label = `${title}, ${span(dates)}. ${describe(name, points, format, total)}.`;
  return figure({ id, title, label, nodes: [...f.nodes, ...bars], series, dates, format });
}

/**
 * A line per series over the days; a day without a value (null) breaks the line.
 * series: [{name, points}]; steps: round y steps to prefer (durations); format(value) -> text.
 */
export function lineChart({ id, title, series, format, integer = false, steps = null }) {
  const dates = datesOf(series);
  const at = new Map(dates.map((d, i) => [d, i]));
  const values = series.flatMap((se) => se.points.map((p) => p.value)).filter(isNum);
  const sc = scale(Math.max(0, ...values), { integer, steps });
  const f = frame(dates, sc, format);
  const drawn = series.map((se, k) => {
    const known = se.points.filter((p) => isNum(p.value) && at.has(p.date)).sort((a, b) => at.get(a.date) - at.get(b.date));
    let d = "";
    let prev = -2;
    for (const p of known) {
      const i = at.get(p.date);
      d += `${i === prev + 1 ? "L" : "M"}${f.x(i)} ${f.y(p.value)} `;
      prev = i;
    }
    const marks = known.map((p) => {
      const cx = f.x(at.get(p.date));
      const cy = f.y(p.value);
      return k % 2 === 0
        ? s("circle", { class: `mark series-${k}`, cx, cy, r: 2.5 })
        : s("rect", { class: `mark series-${k}`, x: r1(cx - 2.5), y: r1(cy - 2.5), width: 5, height: 5 });
    });
    return [d ? s("path", { class: `line series-${k}`, d: d.trim() }) : null, marks];
  });
  const label = `${title}, ${span(dates)}. ${series.map((se) => describe(se.name, se.points, format, false)).join(". ")}.`;
  return figure({ id, title, label, nodes: [...f.nodes, ...drawn.flat(2)], series, dates, format });
}
