//! Storefront routes: carts, quotes, orders.

use super::*;

// ----- carts ---------------------------------------------------------------------------------

pub async fn create_cart(
    State(oms): State<AppState>,
    Auth(c): Auth,
    MaybeJson(body): MaybeJson<CreateCartRequest>,
) -> Result<Response, Problem> {
    let req = body.unwrap_or_default();
    Ok(json(StatusCode::CREATED, &oms.create_cart(&c, req).await?))
}

pub async fn list_carts(State(oms): State<AppState>, Auth(c): Auth) -> Result<Response, Problem> {
    #[derive(Serialize)]
    struct Carts<T> {
        carts: T,
    }
    Ok(json(StatusCode::OK, &Carts { carts: oms.list_carts(&c).await? }))
}

pub async fn get_cart(State(oms): State<AppState>, Auth(c): Auth, Path(id): Path<String>) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.get_cart(&c, &cart_id(&id)?).await?))
}

pub async fn set_cart_item(
    State(oms): State<AppState>,
    Auth(c): Auth,
    Path((id, s)): Path<(String, String)>,
    Json(req, _): Json<SetItemRequest>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.set_cart_item(&c, &cart_id(&id)?, sku(&s)?, req).await?))
}

// ----- quotes and orders ---------------------------------------------------------------------

pub async fn quote(
    State(oms): State<AppState>,
    Auth(c): Auth,
    Json(req, _): Json<QuoteRequest>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.quote(&c, req).await?))
}

/// Money fields a client may not send: prices are computed on the server.
const CLIENT_PRICE_FIELDS: [&str; 8] =
    ["price", "unitPrice", "subtotal", "total", "totals", "tax", "shippingCost", "cost"];

/// The path of the first price field a client sent (`lines[0].unitPrice`), if any.
fn price_field(v: &serde_json::Value, at: &str) -> Option<String> {
    match v {
        serde_json::Value::Object(m) => m.iter().find_map(|(k, v)| {
            let path = if at.is_empty() { k.clone() } else { format!("{at}.{k}") };
            if CLIENT_PRICE_FIELDS.contains(&k.as_str()) { Some(path) } else { price_field(v, &path) }
        }),
        serde_json::Value::Array(a) => a.iter().enumerate().find_map(|(i, v)| price_field(v, &format!("{at}[{i}]"))),
        _ => None,
    }
}

/// sha256 over the body's canonical JSON (keys sorted, no whitespace), so key order and
/// formatting do not make two equal requests differ.
pub fn request_hash(v: &serde_json::Value) -> String {
    fn canon(v: &serde_json::Value, out: &mut String) {
        match v {
            serde_json::Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::Value::String((*k).clone()).to_string());
                    out.push(':');
                    canon(&m[*k], out);
                }
                out.push('}');
            }
            serde_json::Value::Array(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    canon(x, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut s = String::new();
    canon(v, &mut s);
    let digest = Sha256::digest(s.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub async fn place_order(
    State(oms): State<AppState>,
    Auth(c): Auth,
    headers: HeaderMap,
    Json(body, _): Json<serde_json::Value>,
) -> Result<Response, Problem> {
    let (key, hash, req) = placement(&headers, body)?;
    placed(oms.place_order(&c, key, &hash, req).await?)
}

/// A call-centre or store order placed by staff for a customer (`customerId` in the body).
pub async fn admin_place_order(
    State(oms): State<AppState>,
    Staff(c): Staff,
    headers: HeaderMap,
    Json(mut body, _): Json<serde_json::Value>,
) -> Result<Response, Problem> {
    let Some(fields) = body.as_object_mut() else {
        return Err(Problem::bad_request("invalid JSON body: expected an object"));
    };
    // A staff member types or pastes the id: only what an identity provider issues (visible
    // ASCII, no spaces), so a padded or look-alike id cannot open an account no one signs in to.
    let customer = fields
        .remove("customerId")
        .and_then(|v| v.as_str().map(str::to_owned))
        .filter(|s| (1..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic()))
        .and_then(|s| oms_shared::domain::CustomerId::parse(&s).ok())
        .ok_or_else(|| {
            Problem::bad_request(
                "customerId: the customer's id (1-128 visible ASCII characters, no spaces) is required",
            )
            .with("field", "customerId".into())
        })?;
    if body.get("channel").is_none()
        && let Some(o) = body.as_object_mut()
    {
        o.insert("channel".into(), "call_center".into());
    }
    let (key, hash, req) = placement(&headers, body)?;
    let (status, placed_body) = oms.place_order_for(&c, &customer, key, &hash, req).await?;
    // Staff read the order as staff: the customer's projection (what a customer's placement
    // answers) carries what only the customer may see, such as a pickup code on a replay.
    let id = serde_json::from_str::<serde_json::Value>(&placed_body)
        .ok()
        .and_then(|v| v["orderId"].as_str().and_then(|s| OrderId::parse(s).ok()))
        .ok_or_else(|| Problem::from(AppError::Internal("placement answered without an order id".into())))?;
    let o = oms.get_order(&c, &id).await?;
    let v = o.version();
    Ok(with_etag(json(StatusCode::from_u16(status).unwrap_or(StatusCode::CREATED), &o), v))
}

/// A marketplace order from its connector: paid on the marketplace, idempotent per marketplace
/// and marketplace order number (a re-import answers the same order).
pub async fn admin_import_order(
    State(oms): State<AppState>,
    Staff(c): Staff,
    Json(body, _): Json<serde_json::Value>,
) -> Result<Response, Problem> {
    if !body.is_object() {
        return Err(Problem::bad_request("invalid JSON body: expected an object"));
    }
    let req = crate::strict::typed(body)?;
    let (status, placed_body) = oms.import_order(&c, req).await?;
    let id = serde_json::from_str::<serde_json::Value>(&placed_body)
        .ok()
        .and_then(|v| v["orderId"].as_str().and_then(|s| OrderId::parse(s).ok()))
        .ok_or_else(|| Problem::from(AppError::Internal("the import answered without an order id".into())))?;
    let o = oms.get_order(&c, &id).await?;
    let v = o.version();
    Ok(with_etag(json(StatusCode::from_u16(status).unwrap_or(StatusCode::CREATED), &o), v))
}

/// The Idempotency-Key, the request's hash and the typed request of a placement.
fn placement(headers: &HeaderMap, body: serde_json::Value) -> Result<(&str, String, PlaceOrderRequest), Problem> {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            Problem::new(StatusCode::BAD_REQUEST, "idempotency-key-required", "Idempotency-Key is required")
                .detail("send a unique Idempotency-Key header per order attempt")
        })?;
    if key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Problem::bad_request("Idempotency-Key must be 1-255 visible ASCII characters"));
    }
    if let Some(field) = price_field(&body, "") {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "client-prices-rejected",
            "Prices are computed by the server",
        )
        .detail(format!("{field}: remove price, total, tax and cost fields: the server prices orders from the catalog"))
        .with("field", field.into()));
    }
    let hash = request_hash(&body);
    Ok((key, hash, crate::strict::typed(body)?))
}

/// A placement's answer, with the order's ETag as a read would give it, so the next change can
/// send If-Match.
fn placed((status, body): (u16, String)) -> Result<Response, Problem> {
    let version = serde_json::from_str::<serde_json::Value>(&body).ok().and_then(|v| v["version"].as_u64());
    let res = raw_json(StatusCode::from_u16(status).unwrap_or(StatusCode::CREATED), body);
    Ok(match version {
        Some(v) => with_etag(res, v),
        None => res,
    })
}

pub async fn get_order(o: OrderOf) -> Result<Response, Problem> {
    let o = o.oms.get_order(&o.caller, &o.id).await?;
    let v = o.version();
    Ok(with_etag(json(StatusCode::OK, &o), v))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    limit: Option<i32>,
    cursor: Option<String>,
}

pub async fn list_orders(
    State(oms): State<AppState>,
    Auth(c): Auth,
    Query(q): Query<ListQuery>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.list_orders(&c, q.limit, q.cursor.as_deref()).await?))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CancelRequest {
    #[serde(default)]
    pub reason: Option<String>,
}

/// A cancel by the customer or an agent, with the reason given.
pub(super) async fn cancel(
    o: OrderOf,
    actor: fn(String) -> Actor,
    headers: &HeaderMap,
    body: Option<CancelRequest>,
) -> Result<Response, Problem> {
    // Never truncated: the caller learns which field is wrong.
    let reason = body
        .and_then(|b| b.reason)
        .map(|r| oms_shared::app::support::text("reason", &r, 500))
        .transpose()
        .map_err(|e| Problem::from(e).with("field", "reason".into()))?;
    let who = actor(o.caller.customer.to_string());
    let o = o.oms.cancel_order_at(&o.caller, &o.id, who, reason, if_match(headers)?).await?;
    let v = o.version();
    Ok(with_etag(json(StatusCode::OK, &o), v))
}

pub async fn cancel_order(
    o: OrderOf,
    headers: HeaderMap,
    MaybeJson(body): MaybeJson<CancelRequest>,
) -> Result<Response, Problem> {
    cancel(o, Actor::Customer, &headers, body).await
}

/// Another payment method for a declined (`payment_required`) order.
pub async fn submit_payment(
    o: OrderOf,
    headers: HeaderMap,
    Json(req, _): Json<oms_shared::app::orders::PaymentRequest>,
) -> Result<Response, Problem> {
    let o = o.oms.submit_payment(&o.caller, &o.id, if_match(&headers)?, req).await?;
    let v = o.version();
    Ok(with_etag(json(StatusCode::OK, &o), v))
}

pub async fn edit_order(
    o: OrderOf,
    headers: HeaderMap,
    Json(req, _): Json<EditOrderRequest>,
) -> Result<Response, Problem> {
    let o = o.oms.edit_order(&o.caller, &o.id, if_match(&headers)?, req).await?;
    let v = o.version();
    Ok(with_etag(json(StatusCode::OK, &o), v))
}
