// Formatting for humans, in the agent's locale: money from integer minor units, dates, statuses.

const fractionCache = new Map();

/** How many minor units a currency has (USD 2, JPY 0), from Intl itself. */
export function fractionDigits(currency) {
  if (!fractionCache.has(currency)) {
    const d = new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits;
    fractionCache.set(currency, d);
  }
  return fractionCache.get(currency);
}

/** {amount: 20518, currency: "USD"} -> "$205.18" (in the agent's locale). */
export function money(m) {
  if (!m || typeof m.amount !== "number" || !m.currency) return "—";
  const digits = fractionDigits(m.currency);
  return new Intl.NumberFormat(undefined, { style: "currency", currency: m.currency }).format(m.amount / 10 ** digits);
}

/** "12.50" typed by an agent -> 1250 minor units, or null when it is not a positive amount. */
export function toMinor(text, currency) {
  const digits = fractionDigits(currency);
  const t = String(text).trim().replace(/[\s,]/g, "");
  const re = digits === 0 ? /^\d+$/ : new RegExp(`^\\d+(\\.\\d{1,${digits}})?$`);
  if (!re.test(t)) return null;
  const [whole, frac = ""] = t.split(".");
  const minor = Number(whole) * 10 ** digits + Number((frac + "0".repeat(digits)).slice(0, digits) || 0);
  return minor > 0 ? minor : null;
}

const dateTime = (style) => new Intl.DateTimeFormat(undefined, { dateStyle: style, timeStyle: "short" });
const dateOnly = () => new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

/** An RFC 3339 timestamp -> a <time> element in the agent's locale ("short" for table cells). */
export function when(iso, style = "medium") {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const t = document.createElement("time");
  t.dateTime = iso;
  t.title = dateTime("full").format(d);
  t.textContent = dateTime(style).format(d);
  return t;
}

/** when() for table cells. */
export const whenShort = (iso) => when(iso, "short");

/** A date (YYYY-MM-DD) -> a <time> element, read as a calendar day (no time-zone shift). */
export function day(ymd) {
  if (!ymd) return "—";
  const [y, m, d] = ymd.split("-").map(Number);
  const t = document.createElement("time");
  t.dateTime = ymd;
  t.textContent = dateOnly().format(new Date(y, m - 1, d));
  return t;
}

/** "awaiting_confirmation" -> "Awaiting confirmation"; "order.hold_released" -> "Order hold released". */
export function humanize(s) {
  if (!s) return "—";
  const t = String(s).replace(/[._-]+/g, " ").trim();
  return t.charAt(0).toUpperCase() + t.slice(1);
}

/** A status badge: text plus a colour class (the text alone carries the meaning). */
export function badge(status) {
  const span = document.createElement("span");
  span.className = `badge badge-${String(status || "unknown").replace(/[^a-z_]/g, "")}`;
  span.textContent = humanize(status);
  return span;
}

/** Who did it: {type: "agent", id: "agent-ann"} -> "agent-ann (agent)". */
export function actor(a) {
  if (!a) return "—";
  if (typeof a === "string") return a;
  return a.type === "system" ? `system: ${a.id}` : `${a.id} (${a.type})`;
}

/** An address on one line. */
export function address(a) {
  if (!a) return "—";
  return [a.name, a.line1, a.line2, a.city, [a.region, a.postalCode].filter(Boolean).join(" "), a.country].filter(Boolean).join(", ");
}

/** Newest first, by a timestamp field; entries with the same time keep their reverse order. */
export function newestFirst(items, key = "at") {
  const ms = (x) => Date.parse(x[key]) || 0;
  return items
    .map((x, i) => [x, i])
    .sort((a, b) => ms(b[0]) - ms(a[0]) || b[1] - a[1])
    .map(([x]) => x);
}
