// Sign-in. `config.json` (served beside index.html) says how:
//   {"auth":"dev","apiBase":""}   local runner: a form asks for a user name and a role and gets a
//                                 token from POST /dev/token (only the local runner issues them);
//   {"auth":"cognito","domain":"https://<prefix>.auth.<region>.amazoncognito.com","clientId":"...",
//    "apiBase":"https://api...", "scopes":"openid oms/agent", "redirectUri":"https://.../console/"}
//                                 Cognito hosted UI, authorization code with PKCE (no client secret
//                                 in the page). The access token carries the scopes the API checks.
// The session (token, user, roles, expiry) lives in sessionStorage: it ends with the tab.

const KEY = "oms.console.session";
const PKCE_KEY = "oms.console.pkce";
let cfg = null;
const listeners = [];

export async function loadConfig() {
  const res = await fetch("config.json", { cache: "no-store" });
  if (!res.ok) throw new Error(`config.json: ${res.status}`);
  cfg = await res.json();
  return cfg;
}

export function config() {
  return cfg || { auth: "dev", apiBase: "" };
}

/** The JWT's claims (not verified here: the API verifies every request). */
export function claims(jwt) {
  try {
    const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = decodeURIComponent(
      Array.from(atob(part), (c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`).join(""),
    );
    return JSON.parse(json);
  } catch {
    return {};
  }
}

/** The staff roles in a scope claim: "oms/agent oms/supervisor" -> ["agent", "supervisor"]. */
export function rolesOf(scope) {
  return String(scope || "")
    .split(/\s+/)
    .map((s) => (s.match(/(?:^|\/)oms\/([a-z]+)$/) || [])[1])
    .filter(Boolean);
}

function store(tokenValue) {
  const c = claims(tokenValue);
  const s = {
    token: tokenValue,
    user: c.username || c["cognito:username"] || c.email || c.sub || "unknown",
    roles: rolesOf(c.scope),
    exp: typeof c.exp === "number" ? c.exp * 1000 : Date.now() + 3600_000,
  };
  sessionStorage.setItem(KEY, JSON.stringify(s));
  return s;
}

/** The current session, or null when there is none or it has expired. */
export function session() {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY) || "null");
    if (s && s.token && s.exp > Date.now() + 5000) return s;
  } catch {
    /* a damaged entry is no session */
  }
  return null;
}

export function token() {
  return session()?.token || null;
}

/** Registers a callback for sign-out (the app shows the sign-in screen with the message). */
export function onSignOut(fn) {
  listeners.push(fn);
}

export function signOut(message) {
  const had = sessionStorage.getItem(KEY);
  sessionStorage.removeItem(KEY);
  if (had || message) listeners.forEach((fn) => fn(message || ""));
}

/** The hosted UI's logout URL, for the sign-out button in Cognito mode. */
export function cognitoLogoutUrl() {
  const c = config();
  const url = new URL(`${domain(c)}/logout`);
  url.searchParams.set("client_id", c.clientId);
  url.searchParams.set("logout_uri", redirectUri(c));
  return url.toString();
}

/** Dev mode: a token for `user` with one staff scope. */
export async function devSignIn(user, scope) {
  const res = await fetch(`${config().apiBase || ""}/dev/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ sub: user, scope }),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok || !body.token) throw new Error(body.title || `Sign-in failed (${res.status})`);
  return store(body.token);
}

function domain(c) {
  const d = String(c.domain || "").replace(/\/+$/, "");
  return d.startsWith("https://") ? d : `https://${d}`;
}

function redirectUri(c) {
  return c.redirectUri || `${location.origin}${location.pathname}`;
}

function b64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Cognito mode: off to the hosted UI with a PKCE challenge; `back` is the hash to return to. */
export async function cognitoStart(back) {
  const c = config();
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(48)));
  const state = b64url(crypto.getRandomValues(new Uint8Array(16)));
  const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state, back: back || "#/" }));
  const url = new URL(`${domain(c)}/oauth2/authorize`);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: c.clientId,
    redirect_uri: redirectUri(c),
    scope: c.scopes || "openid oms/agent",
    state,
    code_challenge_method: "S256",
    code_challenge: challenge,
  }).toString();
  location.assign(url.toString());
}

/**
 * Cognito mode, on the way back: trades ?code= for tokens (checking state), stores the access
 * token and returns the hash to go to; null when this page load is not a callback.
 */
export async function cognitoCallback() {
  const q = new URLSearchParams(location.search);
  if (!q.has("code") && !q.has("error")) return null;
  const saved = JSON.parse(sessionStorage.getItem(PKCE_KEY) || "null");
  sessionStorage.removeItem(PKCE_KEY);
  history.replaceState(null, "", `${location.pathname}${saved?.back || "#/"}`);
  if (q.has("error")) throw new Error(`Sign-in refused: ${q.get("error_description") || q.get("error")}`);
  if (!saved || saved.state !== q.get("state")) throw new Error("Sign-in failed: the answer does not match this tab's request; try again.");
  const c = config();
  const res = await fetch(`${domain(c)}/oauth2/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      client_id: c.clientId,
      code: q.get("code"),
      redirect_uri: redirectUri(c),
      code_verifier: saved.verifier,
    }),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok || !body.access_token) throw new Error(`Sign-in failed: ${body.error || res.status}`);
  store(body.access_token);
  return saved.back || "#/";
}
