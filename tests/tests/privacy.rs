//! Export and erasure from outside: a customer with a delivered order an agent annotated and
//! opened a case on, and a cart, exports their data, is refused erasure while an order is
//! open, then erases; afterwards no item in the table holds their e-mail, name, street or phone,
//! and the finance figures of their orders are unchanged. The logs written meanwhile (the
//! runner runs in this process) are captured and scanned for the same personal data and tokens.

use oms_tests::{Stack, order_body};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// Every log line written in this process, as JSON.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn start() -> Self {
        let c = Captured::default();
        let w = c.clone();
        let filter = "info,oms_shared=debug,oms_local=debug,placement=debug,oms_runtime=debug,returns=debug";
        let _ = tracing_subscriber::fmt().json().with_env_filter(filter).with_writer(move || w.clone()).try_init();
        c
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().map(|b| b.clone()).unwrap_or_default()).into_owned()
    }
}

const EMAIL: &str = "pat.doe@example.com";
const NAME: &str = "Pat Quietly-Doe";
const STREET: &str = "77 Lantern Lane";
const PHONE: &str = "+1 802 555 0147";
const CITY: &str = "Brattleboro";
const POSTAL: &str = "05301";

fn address() -> Value {
    json!({"name": NAME, "line1": STREET, "city": CITY, "region": "VT", "postalCode": POSTAL, "country": "US", "phone": PHONE})
}

async fn table_text(s: &Stack) -> anyhow::Result<String> {
    let mut out = String::new();
    let mut start = None;
    loop {
        let page = s
            .local
            .dynamo
            .client()
            .scan()
            .table_name(&s.local.table)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await?;
        for item in page.items() {
            out.push_str(&format!("{item:?}\n"));
        }
        match page.last_evaluated_key() {
            Some(k) => start = Some(k.clone()),
            None => return Ok(out),
        }
    }
}

/// Whether `needle` occurs in `text`, a number only where no digit touches it (a postal code
/// is not the digits inside a nanosecond timestamp).
fn contains_word(text: &str, needle: &str) -> bool {
    let numeric = needle.chars().all(|c| c.is_ascii_digit());
    text.match_indices(needle).any(|(i, _)| {
        !numeric || {
            let before = text[..i].chars().next_back().is_some_and(|c| c.is_ascii_digit());
            let after = text[i + needle.len()..].chars().next().is_some_and(|c| c.is_ascii_digit());
            !before && !after
        }
    })
}

fn finance(o: &Value) -> Value {
    json!({"totals": o["totals"], "lines": o["lines"], "status": o["status"], "createdAt": o["createdAt"],
        "shipments": o["shipments"].as_array().map(|a| a.iter().map(|s| json!([s["status"], s["captured"]])).collect::<Vec<_>>())})
}

#[tokio::test]
async fn export_then_erasure_leaves_no_personal_data_and_the_books_unchanged() -> anyhow::Result<()> {
    let logs = Captured::start();
    let s = Stack::new().await?;
    let t = s.token("cust-p");
    let admin = s.admin_token();
    let mut body = order_body(json!([{"sku": "MUG-CLASSIC", "quantity": 1}]));
    body["shippingAddress"] = address();
    body["email"] = json!(EMAIL);
    // Placed with an older address, then edited: the old one must go too.
    let mut first = body.clone();
    first["shippingAddress"] = json!({"name": "Olga Oldname", "line1": "9 Former Row", "city": "Albany", "region": "NY",
        "postalCode": "12207", "country": "US", "phone": "518-555-0123"});
    let delivered = s.place("cust-p", &first).await?;
    let edit = json!({"shippingAddress": address()});
    // The workflow runs from the stream meanwhile: edit at whatever version the order is now.
    let mut edited = None;
    for _ in 0..20 {
        let v = format!("\"v{}\"", s.order("cust-p", &delivered).await?["version"]);
        let r = s.call("PATCH", &format!("/v1/orders/{delivered}"), Some(&t), Some(&edit), &[("If-Match", &v)]).await?;
        if r.status != 412 {
            edited = Some(r);
            break;
        }
    }
    let edited = edited.expect("the edit got through");
    assert_eq!(edited.status, 200, "{}", edited.text);
    let ex = s.local.workflow.run(&delivered).await;
    anyhow::ensure!(ex.result.is_ok(), "workflow: {:?}", ex.result);
    // The stream's own execution may be the one that buys the labels: wait for the order.
    let tracking: Vec<String> = s.wait_for_status("cust-p", &delivered, "ready_to_ship").await?["shipments"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x["trackingNumber"].as_str().map(str::to_owned))
        .collect();
    for tn in &tracking {
        for st in ["in_transit", "delivered"] {
            assert_eq!(s.carrier_event(&format!("evt_{}", ulid::Ulid::new()), tn, st).await?.status, 200);
        }
    }
    s.wait_for_status("cust-p", &delivered, "delivered").await?;
    let a = format!("/v1/admin/orders/{delivered}");
    let shout = EMAIL.to_uppercase();
    let note = json!({"text": format!(
        "{NAME} rang from {PHONE} about {STREET}; QUIETLY-DOE of {CITY} {POSTAL}, {shout}; formerly OLGA Oldname of ALBANY 12207, 518-555-0123; Pat’s mug"
    )});
    assert_eq!(s.call("POST", &format!("{a}/notes"), Some(&admin), Some(&note), &[]).await?.status, 200);
    let case =
        json!({"orderId": delivered, "kind": "complaint", "subject": format!("{EMAIL} says the mug was chipped")});
    assert_eq!(s.call("POST", "/v1/admin/cases", Some(&admin), Some(&case), &[]).await?.status, 201);
    let cart = s.call("POST", "/v1/carts", Some(&t), Some(&json!({"email": EMAIL})), &[]).await?;
    assert_eq!(cart.status, 201, "{}", cart.text);
    let open = s.place("cust-p", &body).await?;

    let export = s.call("GET", "/v1/me/export", Some(&t), None, &[]).await?;
    assert_eq!(export.status, 200, "{}", export.text);
    let e = export.json();
    assert_eq!(e["orders"].as_array().map(Vec::len), Some(2));
    assert_eq!(e["carts"][0]["email"], EMAIL);
    assert!(!export.text.contains("rang from"), "the export is the customer's view: no agent notes");
    assert!(e["cases"].is_array(), "inquiries and complaints are part of the export");

    let refused = s.call("DELETE", "/v1/me", Some(&t), None, &[]).await?;
    assert_eq!(
        (refused.status, refused.json()["type"].as_str()),
        (409, Some("urn:oms:problem:orders-open")),
        "{}",
        refused.text
    );
    assert!(refused.text.contains(&open));
    assert!(table_text(&s).await?.contains(EMAIL), "a refused erasure changes nothing");

    // An agent cancels it with a reason that quotes the buyer (it becomes the status reason).
    let reason = json!({"reason": format!("{NAME} of {CITY} asked by phone")});
    let cancel = s.call("POST", &format!("/v1/admin/orders/{open}/cancel"), Some(&admin), Some(&reason), &[]).await?;
    assert_eq!(cancel.status, 200, "{}", cancel.text);
    s.settle_effects().await?;
    let books_before = finance(&s.order("cust-p", &delivered).await?);
    let recon_before = s.call("GET", "/v1/admin/reconciliation", Some(&admin), None, &[]).await?.json();

    // The customer profile agents search by was recorded from the orders (the stream).
    s.eventually("the customer profile", || async { Ok(table_text(&s).await?.contains("S(\"customer\")")) }).await?;
    let erased = s.call("DELETE", "/v1/me", Some(&t), None, &[]).await?;
    assert_eq!(erased.status, 200, "{}", erased.text);
    assert_eq!(erased.json()["orders"], 2);
    assert_eq!(erased.json()["carts"], 1);
    let again = s.call("DELETE", "/v1/me", Some(&t), None, &[]).await?;
    assert_eq!(
        (again.status, again.json()["orders"].as_i64()),
        (200, Some(0)),
        "a second erasure changes nothing more"
    );

    let text = table_text(&s).await?;
    for personal in [
        EMAIL,
        &shout,
        NAME,
        "Quietly-Doe",
        "QUIETLY-DOE",
        STREET,
        PHONE,
        "8025550147",
        CITY,
        POSTAL,
        "Olga",
        "Oldname",
        "OLGA",
        "Albany",
        "ALBANY",
        "12207",
        "518-555-0123",
        "Former Row",
        "Pat’s",
    ] {
        assert!(
            !contains_word(&text, personal),
            "{personal} is still in the table:\n{}",
            text.lines().filter(|l| l.contains(personal)).collect::<Vec<_>>().join("\n")
        );
    }
    assert!(!text.contains("S(\"label\")") && !text.contains("S(\"return_label\")"), "label documents are deleted");
    assert_eq!(finance(&s.order("cust-p", &delivered).await?), books_before, "the books are unchanged");
    let recon_after = s.call("GET", "/v1/admin/reconciliation", Some(&admin), None, &[]).await?.json();
    assert_eq!((&recon_after["stock"], &recon_after["payments"]), (&recon_before["stock"], &recon_before["payments"]));
    let mine = s.customer_order("cust-p", &delivered).await?;
    assert_eq!(mine["shippingAddress"]["country"], "US");
    assert_eq!(mine["shippingAddress"]["region"], "VT");

    let log = logs.text();
    assert!(log.lines().count() > 20, "the run was logged: {log}");
    for secret in [EMAIL, NAME, STREET, PHONE, &t, "tok_visa", "Bearer "] {
        let hits: Vec<&str> = log.lines().filter(|l| l.contains(secret)).take(3).collect();
        assert!(hits.is_empty(), "{secret} was logged:\n{}", hits.join("\n"));
    }
    Ok(())
}
