// Rules (#/rules): the versioned rules (fraud thresholds, hold rules, sourcing preferences per
// location, replenishment cover) as a form, saved as a new version from the version shown
// (If-Match: another supervisor's save in between is refused, and the page reloads it), and
// the versions before it. Each order records the version that decided it.

import { api } from "../api.js";
import { session } from "../auth.js";
import { h, field, table, dl } from "../dom.js";
import { pageTitle, section, form, flashStatus } from "../ui.js";
import { when } from "../format.js";

const supervises = () => ["supervisor", "admin"].some((r) => (session()?.roles || []).includes(r));

/** "WH-TX 1" or "STORE-SF 5 no-ship" lines as the rules' sourcing map. */
export function parseSourcing(text) {
  const out = {};
  text.split("\n").map((l) => l.trim()).filter(Boolean).forEach((l, i) => {
    const m = /^(\S+)\s+([1-9])(\s+no-ship)?$/.exec(l);
    if (!m) throw new Error(`Sourcing line ${i + 1}: write it as WH-TX 1, or STORE-SF 5 no-ship`);
    out[m[1]] = { priority: Number(m[2]), ships: !m[3] };
  });
  return out;
}

export async function render({ view, navigate }) {
  view.append(pageTitle("Rules"));
  const { data: r, etag } = await api("GET", "/v1/admin/rules");
  view.append(h("p", { class: "hint", id: "rules-version" },
    `Version ${r.version}`, r.updatedBy ? ` saved by ${r.updatedBy} ` : " (the defaults)", r.updatedAt ? when(r.updatedAt) : ""));
  const num = (label, name, value, hint) => field(label, { type: "number", name, id: `rule-${name}`, value: String(value), hint });
  const f = r.fraud;
  const fields = {
    holdScore: num("Hold at score", "holdScore", f.holdScore, "A fraud score at or above this holds the order for review."),
    rejectScore: num("Reject at score", "rejectScore", f.rejectScore),
    highValue: num("High value (minor units)", "highValue", f.highValue, "Scores 30; very high scores 50."),
    veryHighValue: num("Very high value (minor units)", "veryHighValue", f.veryHighValue),
    velocityPerHour: num("Orders per e-mail per hour", "velocityPerHour", f.velocityPerHour),
    countries: field("Hold orders to", { name: "countries", id: "rule-countries", value: (r.hold.countries || []).join(", "), hint: "Country codes, for example US, CA." }),
    sourcing: field("Sourcing preferences", { kind: "textarea", name: "sourcing", id: "rule-sourcing", rows: 3,
      value: Object.entries(r.sourcing || {}).map(([id, p]) => `${id} ${p.priority}${p.ships ? "" : " no-ship"}`).join("\n"),
      hint: "One location per line: id and priority (1 first, 5 by default); no-ship keeps it to pickups." }),
    coverDays: num("Days of cover", "coverDays", r.replenishment.coverDays, "Fewer days of forecast sales than this is low."),
    leadTimeDays: num("Lead time (days)", "leadTimeDays", r.replenishment.leadTimeDays),
    historyWeeks: num("Weeks of sales read", "historyWeeks", r.replenishment.historyWeeks),
  };
  const n = (k) => Number(fields[k].input.value);
  const body = () => ({
    fraud: { holdScore: n("holdScore"), rejectScore: n("rejectScore"), highValue: n("highValue"), veryHighValue: n("veryHighValue"), velocityPerHour: n("velocityPerHour") },
    hold: { countries: fields.countries.input.value.split(",").map((c) => c.trim().toUpperCase()).filter(Boolean), ...(r.hold.minTotal ? { minTotal: r.hold.minTotal } : {}) },
    confirmationCalls: r.confirmationCalls,
    sourcing: parseSourcing(fields.sourcing.input.value),
    replenishment: { coverDays: n("coverDays"), leadTimeDays: n("leadTimeDays"), historyWeeks: n("historyWeeks") },
  });
  const controls = Object.values(fields).map((x) => x.wrap);
  if (supervises()) {
    view.append(section("Rules in force", "rules-form", form({ class: "stack", "aria-label": "Rules" },
      [...controls, h("button", { type: "submit", class: "primary" }, "Save as a new version")], async () => {
        const { data } = await api("PUT", "/v1/admin/rules", { body: body(), ifMatch: etag });
        flashStatus(`Saved version ${data.version}: orders placed from now on follow it.`);
        navigate("#/rules");
      })));
  } else {
    Object.values(fields).forEach((x) => { x.input.disabled = true; });
    view.append(section("Rules in force", "rules-form", h("p", { class: "hint" }, "Supervisors change the rules."), ...controls));
  }
  const { data: hist } = await api("GET", "/v1/admin/rules/versions");
  view.append(section("Versions", "rules-history", table(null, ["Version", "Saved by", "When", "Holds", "Hold at"],
    hist.versions.map((v) => [String(v.version), v.updatedBy || "—", v.updatedAt ? when(v.updatedAt) : "—",
      (v.hold.countries || []).join(", ") || "—", String(v.fraud.holdScore)]),
    { empty: "Never saved: the defaults are in force.", numeric: [0, 4] })));
  view.append(dl([["Confirmation calls", r.confirmationCalls.enabled ? "on" : "off"]]));
}
