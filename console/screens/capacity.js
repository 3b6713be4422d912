// Technicians' capacity (#/capacity): a region's windows for a day with what is booked and free,
// and setting them (supervisors). One window per line: "08:00-12:00 480 tv-mount,wiring" (start,
// end, technician minutes, skills). What is booked stays booked: the API refuses a window cut
// below its bookings.

import { api } from "../api.js";
import { session } from "../auth.js";
import { h, field, table, replace } from "../dom.js";
import { pageTitle, section, form, showStatus } from "../ui.js";

const supervises = () => ["supervisor", "admin", "integration"].some((r) => (session()?.roles || []).includes(r));

function tomorrow() {
  const d = new Date(Date.now() + 86400000);
  return d.toISOString().slice(0, 10);
}

/** "08:00-12:00 480 tv-mount,wiring" lines as the API's windows. */
export function parseWindows(text) {
  return text.split("\n").map((l) => l.trim()).filter(Boolean).map((l, i) => {
    const m = /^(\d\d:\d\d)\s*-\s*(\d\d:\d\d)\s+(\d+)(?:\s+(\S+))?$/.exec(l);
    if (!m) throw new Error(`Line ${i + 1}: write it as 08:00-12:00 480 tv-mount`);
    return { start: m[1], end: m[2], technicianMinutes: Number(m[3]), skills: m[4] ? m[4].split(",").filter(Boolean) : [] };
  });
}

export async function render({ view, query }) {
  view.append(pageTitle("Technicians"));
  if (!supervises()) {
    view.append(h("p", { class: "hint", id: "capacity-readonly" }, "Supervisors and the field-service system set technicians' capacity."));
    return;
  }
  const region = field("Region", { name: "region", id: "cap-region", value: query.get("region") || "US", hint: "US, or a postal prefix such as US-100." });
  const date = field("Day", { type: "date", name: "date", id: "cap-date", value: query.get("date") || tomorrow() });
  const windows = field("Windows", { kind: "textarea", name: "windows", id: "cap-windows", rows: 4,
    hint: "One per line: start-end, technician minutes, skills. For example 08:00-12:00 480 tv-mount" });
  const out = h("div", { id: "cap-day" });
  const show = (d) => {
    replace(out, section(`${d.region} on ${d.date}`, "cap-windows-list",
      table(null, ["Window", "Technician minutes", "Booked", "Free", "Skills"],
        d.windows.map((w) => [`${w.start}–${w.end}`, String(w.capacityMinutes), String(w.bookedMinutes), String(w.freeMinutes), w.skills.join(", ") || "—"]),
        { empty: "No technicians that day.", numeric: [1, 2, 3] })));
    windows.input.value = d.windows.map((w) => `${w.start}-${w.end} ${w.capacityMinutes}${w.skills.length ? ` ${w.skills.join(",")}` : ""}`).join("\n");
  };
  const path = () => `/v1/admin/service-capacity/${encodeURIComponent(region.input.value.trim())}/${encodeURIComponent(date.input.value)}`;
  const load = async () => show((await api("GET", path())).data);
  view.append(form({ class: "stack", "aria-label": "Technicians' day" }, [region.wrap, date.wrap,
    h("button", { type: "submit" }, "Show day")], load));
  view.append(out);
  view.append(section("Set the day's windows", "cap-set", form({ class: "stack", "aria-label": "Set windows" },
    [windows.wrap, h("button", { type: "submit", class: "primary" }, "Save windows")], async () => {
      const body = { windows: parseWindows(windows.input.value) };
      const { data } = await api("PUT", path(), { body });
      show(data);
      showStatus(`Saved ${data.windows.length} window(s) for ${data.region} on ${data.date}.`);
    })));
  await load();
}
