// The console's entry point: loads config.json, finishes a Cognito sign-in when this load is the
// callback, and routes the hash (#/..., so the same files work from S3 behind CloudFront with no
// server-side routing) to a screen. Every screen exports render(ctx) and builds into ctx.view.

import { loadConfig, config, session, onSignOut, signOut, cognitoCallback, cognitoLogoutUrl } from "./auth.js";
import { h, replace } from "./dom.js";
import { clearMessages, showError, showStatus, takeFlash, button } from "./ui.js";
import * as signin from "./screens/signin.js";
import * as search from "./screens/search.js";
import * as customer from "./screens/customer.js";
import * as newOrder from "./screens/neworder.js";
import * as order from "./screens/order.js";
import * as caseScreen from "./screens/case.js";
import * as queues from "./screens/queues.js";
import * as stock from "./screens/stock.js";
import * as webhooks from "./screens/webhooks.js";
import * as analytics from "./screens/analytics.js";
import * as pickups from "./screens/pickups.js";
import * as packing from "./screens/packing.js";
import * as accounts from "./screens/accounts.js";
import * as promotions from "./screens/promotions.js";
import * as capacity from "./screens/capacity.js";
import * as rules from "./screens/rules.js";
import * as parked from "./screens/parked.js";

const routes = [
  { re: /^\/$/, screen: search, nav: "search" },
  { re: /^\/customers\/([^/]+)$/, screen: customer, nav: "search" },
  { re: /^\/customers\/([^/]+)\/new-order$/, screen: newOrder, nav: "search" },
  { re: /^\/orders\/([^/]+)$/, screen: order, nav: "search" },
  { re: /^\/cases\/([^/]+)$/, screen: caseScreen, nav: "queues" },
  { re: /^\/queues$/, screen: queues, nav: "queues" },
  { re: /^\/stock(?:\/([^/]+))?$/, screen: stock, nav: "stock" },
  { re: /^\/webhooks(?:\/([^/]+))?$/, screen: webhooks, nav: "webhooks" },
  { re: /^\/analytics$/, screen: analytics, nav: "analytics" },
  { re: /^\/pickups$/, screen: pickups, nav: "pickups" },
  { re: /^\/packing(?:\/([^/]+))?$/, screen: packing, nav: "packing" },
  { re: /^\/accounts(?:\/([^/]+))?$/, screen: accounts, nav: "accounts" },
  { re: /^\/promotions$/, screen: promotions, nav: "promotions" },
  { re: /^\/approvals$/, screen: { render: promotions.renderApprovals }, nav: "approvals" },
  { re: /^\/capacity$/, screen: capacity, nav: "capacity" },
  { re: /^\/rules$/, screen: rules, nav: "rules" },
  { re: /^\/parked$/, screen: parked, nav: "parked" },
];

let renderSeq = 0;
let signInMessage = "";
// The first screen of a page load leaves focus where the browser puts it (so Tab reaches the
// skip link first); later navigations move it to the new screen's heading.
let firstRender = true;

function parseHash() {
  const raw = location.hash.startsWith("#/") ? location.hash.slice(1) : "/";
  const [path, qs] = raw.split("?");
  return { path: path || "/", query: new URLSearchParams(qs || "") };
}

export function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function renderChrome(s) {
  const nav = document.getElementById("nav");
  nav.hidden = !s;
  const who = document.getElementById("who");
  if (!s) {
    replace(who);
    return;
  }
  const roles = s.roles.length ? s.roles.join(", ") : "no staff role";
  replace(
    who,
    h("span", null, "Signed in as ", h("strong", { id: "who-user" }, s.user), ` (${roles})`),
    button("Sign out", async () => {
      const cognito = config().auth === "cognito";
      signOut("You are signed out.");
      if (cognito) location.assign(cognitoLogoutUrl());
    }, { class: "link-button", id: "sign-out" }),
  );
}

async function route() {
  // In-page anchors (the skip link) are not routes.
  if (location.hash && !location.hash.startsWith("#/")) return;
  const seq = ++renderSeq;
  const s = session();
  renderChrome(s);
  const view = document.getElementById("view");
  const { path, query } = parseHash();
  clearMessages();
  const flash = takeFlash();
  if (!s) {
    replace(view);
    await signin.render({ view, message: signInMessage, done: () => { signInMessage = ""; route(); } });
    focusTitle();
    return;
  }
  const match = routes.map((r) => [r, path.match(r.re)]).find(([, m]) => m);
  document.querySelectorAll("[data-nav]").forEach((a) => {
    if (match && a.dataset.nav === match[0].nav) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  });
  if (!match) {
    replace(view, h("h1", { tabindex: "-1", id: "page-title" }, "Not found"), h("p", null, "No such page. ", h("a", { href: "#/" }, "Back to search")));
    focusTitle();
    return;
  }
  const [r, m] = match;
  // A malformed escape in the address bar is taken as typed, not thrown.
  const decode = (x) => { try { return decodeURIComponent(x); } catch { return x; } };
  const params = m.slice(1).map((x) => (x === undefined ? undefined : decode(x)));
  // Screens build off-page and swap in once, so a slow answer for an old route never lands.
  const fresh = h("div", { class: "screen" });
  replace(view, h("p", { class: "loading" }, "Loading…"));
  try {
    await r.screen.render({ view: fresh, params, query, navigate, isCurrent: () => seq === renderSeq });
  } catch (e) {
    if (seq !== renderSeq) return;
    replace(view, h("h1", { tabindex: "-1", id: "page-title" }, "Could not load this page"));
    showError(e);
    focusTitle();
    return;
  }
  if (seq !== renderSeq) return;
  replace(view, fresh);
  focusTitle();
  if (flash) showStatus(flash);
}

function focusTitle() {
  if (firstRender) {
    firstRender = false;
    return;
  }
  const t = document.getElementById("page-title");
  if (t) t.focus({ preventScroll: false });
}

async function start() {
  document.getElementById("skip").addEventListener("click", (ev) => {
    ev.preventDefault();
    document.getElementById("main").focus();
  });
  onSignOut((message) => {
    signInMessage = message;
    route();
  });
  window.addEventListener("hashchange", route);
  try {
    await loadConfig();
    if (config().auth === "cognito") {
      const back = await cognitoCallback();
      if (back) location.hash = back;
    }
  } catch (e) {
    signInMessage = e.message;
  }
  await route();
}

start();
