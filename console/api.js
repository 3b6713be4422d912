// The API client: one fetch wrapper that adds the bearer token, sends and reads JSON, and turns
// every application/problem+json answer into an ApiError whose message is fit to show an agent.

import { config, token, signOut } from "./auth.js";

export class ApiError extends Error {
  constructor(status, problem) {
    const title = problem.title || `Request failed (${status})`;
    const detail = problem.detail && problem.detail !== title ? problem.detail : "";
    super(detail ? `${title}: ${detail}` : title);
    this.status = status;
    this.problem = problem;
    this.field = problem.field;
  }
}

/**
 * api("GET", "/v1/admin/orders/ID") -> {data, etag, status}
 * Options: body (JSON-encoded), ifMatch, idempotencyKey.
 * 401 signs the agent out (the token expired); other failures throw ApiError.
 */
export async function api(method, path, { body, ifMatch, idempotencyKey } = {}) {
  const headers = { accept: "application/json, application/problem+json" };
  const t = token();
  if (t) headers.authorization = `Bearer ${t}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  if (ifMatch) headers["if-match"] = ifMatch;
  if (idempotencyKey) headers["idempotency-key"] = idempotencyKey;
  let res;
  try {
    res = await fetch(`${config().apiBase || ""}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, { title: "The OMS could not be reached", detail: "check the network and try again" });
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    if (res.status === 401) signOut("Your session has ended: sign in again.");
    const problem = data && typeof data === "object" ? data : { title: `${res.status} ${res.statusText}`.trim() };
    throw new ApiError(res.status, problem);
  }
  return { data, etag: res.headers.get("etag"), status: res.status };
}

/** A fresh Idempotency-Key (one per money action the agent means once). */
export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** The If-Match value for an order: its ETag, else built from its version. */
export function orderTag(order, etag) {
  return etag || `"v${order.version}"`;
}
