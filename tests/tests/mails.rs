//! Every mail kind, as the customer's mail client gets it: sent through SES (moto) as the MIME
//! message the mailer builds, parsed with a real MIME parser (`mail-parser`), its text and HTML
//! parts checked for product names, tracking and links, and every link opened on the local
//! runner (signed document and unsubscribe links without a token).

use chrono::Utc;
use oms_shared::app::links::Links;
use oms_shared::domain::{CartId, Notification, OrderId, ShipmentId};
use oms_tests::Stack;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// An HTML attribute value as a browser reads it (the entities the template engine writes).
fn unescape(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// `href="..."` in HTML and bare URLs in text, entities decoded.
fn links_in(text: &str, html: &str) -> Vec<String> {
    let mut out: Vec<String> =
        html.split("href=\"").skip(1).filter_map(|s| s.split('"').next()).map(unescape).collect();
    out.extend(
        text.split_whitespace()
            .filter(|w| w.starts_with("http://") || w.starts_with("https://"))
            .map(|w| w.trim_end_matches(['.', ',', ')']).to_owned()),
    );
    out.sort();
    out.dedup();
    out
}

fn env(s: &Stack, name: &str) -> String {
    s.local.function_env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
}

#[tokio::test]
async fn every_mail_kind_is_mime_with_its_content_and_links_that_answer() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    let customer = "mime-cust";
    let email = format!("mime-{}@mail.example", ulid::Ulid::new().to_string().to_lowercase());
    let t = s.token(customer);
    // A real journey: confirmed, shipped, delivered, a return opened.
    let id = s.delivered_order(customer, &email, json!([{"sku": "TSHIRT-BLK-M", "quantity": 2}])).await?;
    let order = s.order(customer, &id).await?;
    let shipment = order["shipments"][0]["id"].as_str().unwrap_or_default().to_owned();
    let tracking = order["shipments"][0]["trackingNumber"].as_str().unwrap_or_default().to_owned();
    let r = s
        .open_return(
            customer,
            &id,
            &json!({"lines": [{"lineId": "L1", "quantity": 1, "reason": "does_not_fit"}], "resolution": "refund"}),
        )
        .await?;
    anyhow::ensure!(r.status == 201, "return: {}", r.text);
    let rma = r.json()["rmaId"].as_str().or(r.json()["id"].as_str()).unwrap_or_default().to_owned();
    // A cart with an e-mail for the reminder.
    let cart = s.call("POST", "/v1/carts", Some(&t), Some(&json!({"email": email})), &[]).await?;
    let cart_id = cart.json()["cartId"].as_str().or(cart.json()["id"].as_str()).unwrap_or_default().to_owned();
    let put = format!("/v1/carts/{cart_id}/items/MUG-CLASSIC");
    anyhow::ensure!(s.call("PUT", &put, Some(&t), Some(&json!({"quantity": 1})), &[]).await?.status == 200);
    // An inquiry with an agent's reply (the reply is the case's second message).
    let ask = json!({"kind": "inquiry", "subject": "Gift wrap?", "message": "Can you wrap it?"});
    let r = s.call("POST", &format!("/v1/orders/{id}/inquiries"), Some(&t), Some(&ask), &[]).await?;
    anyhow::ensure!(r.status == 201, "inquiry: {}", r.text);
    let case = r.json()["caseId"].as_str().unwrap_or_default().to_owned();
    let reply = json!({"message": "Yes, in blue paper."});
    let r =
        s.call("POST", &format!("/v1/admin/cases/{case}/replies"), Some(&s.admin_token()), Some(&reply), &[]).await?;
    anyhow::ensure!(r.status < 300, "reply: {}", r.text);
    s.settle_effects().await?;

    // Every other kind, rendered for this order by the notifier itself.
    let kinds: Vec<String> = s.local.notifier.templates.kinds().to_vec();
    let (oid, sid) = (OrderId::parse(&id)?, ShipmentId::parse(&shipment)?);
    // The order's invoice (issued after the capture) names the document mails.
    let mut document = None;
    for _ in 0..200 {
        document = s.local.oms.store.documents_of_order(&oid).await?.first().map(|d| d.number.clone());
        if document.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    for kind in &kinds {
        let n = match kind.as_str() {
            "invoice.issued" | "credit_note.issued" => Notification::new(kind, &oid, document.clone()),
            "cart.reminder" => Notification::cart_reminder(&CartId::parse(&cart_id)?, "4h", &Utc::now()),
            k if k.starts_with("return.") => Notification::new(k, &oid, Some(rma.clone())),
            "case.reply" => Notification::new("case.reply", &oid, Some(format!("{case}#2"))),
            k => Notification::for_shipment(k, &oid, &sid, Some("carrier note".into())),
        }
        .with_dedupe_key(format!("mime-test#{kind}#{id}"));
        s.local.notifier.handle(&n).await.map_err(|e| anyhow::anyhow!("{kind}: {e}"))?;
    }

    let mail = oms_local::mail(&s.local.moto_endpoint).await?;
    let mine: Vec<&Value> =
        mail.as_array().into_iter().flatten().filter(|m| m["to"].to_string().contains(&email)).collect();
    let mut by_subject: BTreeMap<String, usize> = BTreeMap::new();
    let base = env(&s, "PUBLIC_BASE_URL");
    let mut opened = 0;
    for m in &mine {
        let raw = m["raw"].as_str().ok_or_else(|| anyhow::anyhow!("mail without a raw MIME message: {m}"))?;
        let msg = mail_parser::MessageParser::default()
            .parse(raw.as_bytes())
            .ok_or_else(|| anyhow::anyhow!("MIME does not parse: {raw}"))?;
        let subject = msg.subject().unwrap_or_default().to_owned();
        *by_subject.entry(subject.clone()).or_default() += 1;
        anyhow::ensure!(msg.from().and_then(|f| f.first()).and_then(|a| a.address()).is_some(), "{subject}: From");
        anyhow::ensure!(msg.message_id().is_some_and(|id| id.contains('@')), "{subject}: Message-ID");
        let to = msg.to().and_then(|f| f.first()).and_then(|a| a.address()).unwrap_or_default().to_owned();
        anyhow::ensure!(to == email, "{subject}: To {to}");
        let text = msg.body_text(0).unwrap_or_default().to_string();
        let html = msg.body_html(0).unwrap_or_default().to_string();
        anyhow::ensure!(!text.trim().is_empty() && html.contains("<html>"), "{subject}: text and HTML parts");
        anyhow::ensure!(!text.contains("{{") && !html.contains("{{"), "{subject}: unrendered template");
        let links = links_in(&text, &html);
        match subject.as_str() {
            "Your order is confirmed" | "Your order has shipped" => {
                anyhow::ensure!(text.contains("Black T-shirt, M"), "{subject}: product name in {text}");
                anyhow::ensure!(!text.contains("TSHIRT-BLK-M"), "{subject}: a SKU instead of a name: {text}");
            }
            _ => {}
        }
        if subject == "Your order has shipped" {
            anyhow::ensure!(text.contains(&tracking) && html.contains(&tracking), "tracking number in {text}");
            anyhow::ensure!(
                links.iter().any(|l| l.contains(&format!("/track?number={tracking}"))),
                "tracking page link"
            );
            anyhow::ensure!(text.contains("Estimated delivery: 20"), "estimated delivery in {text}");
        }
        if subject == "Your return is ready" {
            anyhow::ensure!(links.iter().any(|l| l.contains("/v1/signed/orders/")), "signed label link: {text}");
        }
        if subject == "You left something in your cart" {
            let header = msg.header_raw("List-Unsubscribe").unwrap_or_default();
            anyhow::ensure!(header.contains("/v1/signed/customers/"), "List-Unsubscribe: {header}");
            anyhow::ensure!(msg.header_raw("List-Unsubscribe-Post").is_some_and(|h| h.contains("One-Click")));
            anyhow::ensure!(text.contains("Classic mug") || text.contains("mug"), "product name in {text}");
        }
        // Every link answers on the local runner, without a token.
        for l in &links {
            anyhow::ensure!(l.starts_with(&base), "{subject}: a link outside the public base URL: {l}");
            let local = s.url(&l[base.len()..]);
            let reply = s.http.get(&local).send().await?;
            anyhow::ensure!(reply.status() == 200, "{subject}: {l} answered {}", reply.status());
            if l.contains("/invoices/") {
                let ct = reply.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                let body = reply.bytes().await?;
                anyhow::ensure!(ct == "application/pdf" && body.starts_with(b"%PDF"), "invoice: {ct}");
            } else if l.contains("/label?") {
                let ct = reply.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                let body = reply.bytes().await?;
                anyhow::ensure!(ct == "application/pdf" && body.starts_with(b"%PDF"), "label: {ct}");
            }
            opened += 1;
        }
    }
    let subjects: usize = by_subject.len();
    println!("mails: {} kinds, {} mails, {opened} links opened: {by_subject:?}", subjects, mine.len());
    anyhow::ensure!(subjects == kinds.len(), "every kind sent once at least: {by_subject:?} of {kinds:?}");
    anyhow::ensure!(
        by_subject.values().all(|n| *n <= 2),
        "no kind sent more than the journey and this test: {by_subject:?}"
    );
    anyhow::ensure!(opened >= 3, "links opened: {opened}");
    Ok(())
}

#[tokio::test]
async fn signed_links_refuse_tampering_and_expiry_and_unsubscribe_takes_a_post() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    let links = Links::new(&env(&s, "PUBLIC_BASE_URL"), &env(&s, "LINK_SIGNING_SECRET")).map_err(anyhow::Error::msg)?;
    let base = env(&s, "PUBLIC_BASE_URL");
    let local = |l: &str| s.url(&l[base.len()..]);
    // Identity providers' subjects may hold `|`, `/`, dots and letters beyond ASCII: the link
    // encodes the id as one path segment.
    let customer = "auth0|unsub/../cüst";
    let t = s.token(customer);
    let path = oms_shared::app::notify::unsubscribe_path(&oms_shared::domain::CustomerId::parse(customer)?);
    assert!(path.is_ascii() && !path.contains("/../"), "{path}");
    let good = links.signed(&path, Utc::now(), 1);
    // GET shows a page and changes nothing (mail scanners follow links).
    let page = s.http.get(local(&good)).send().await?;
    assert_eq!(page.status(), 200);
    assert!(page.text().await?.contains("<form method=\"post\""));
    let prefs = s.call("GET", "/v1/me/preferences", Some(&t), None, &[]).await?;
    assert_eq!(prefs.json()["marketingEmails"], json!(true), "{}", prefs.text);
    // POST (the button or one-click) unsubscribes, twice is harmless.
    for _ in 0..2 {
        assert_eq!(s.http.post(local(&good)).send().await?.status(), 200);
    }
    let prefs = s.call("GET", "/v1/me/preferences", Some(&t), None, &[]).await?;
    assert_eq!(prefs.json()["marketingEmails"], json!(false), "{}", prefs.text);
    // Another customer's path with this signature, a changed signature, a changed expiry: 404.
    let other = good.replace("auth0%7Cunsub", "someone-else");
    assert_ne!(other, good);
    let flipped = format!("{}{}", &good[..good.len() - 1], if good.ends_with('0') { '1' } else { '0' });
    let later = good.replace("expires=", "expires=9");
    for bad in [other, flipped, later] {
        let r = s.http.post(local(&bad)).send().await?;
        assert_eq!(r.status(), 404, "{bad}");
        assert!(r.headers()["content-type"].to_str()?.contains("problem+json"));
    }
    // Without the query: a 400 naming it; expired: 410.
    assert_eq!(s.http.get(s.url(&path)).send().await?.status(), 400);
    let old = links.signed(&path, Utc::now() - chrono::Duration::days(3), 1);
    let r = s.http.get(local(&old)).send().await?;
    assert_eq!(r.status(), 410);
    // A signed label link for an order that does not exist is a 404, and a label link's
    // signature does not open the unsubscribe route.
    let label = links.signed(
        "/v1/signed/orders/01JD0000000000000000000000/returns/01JD0000000000000000000001/label",
        Utc::now(),
        1,
    );
    assert_eq!(s.http.get(local(&label)).send().await?.status(), 404);
    let swapped = format!("{}?{}", s.url(&path), label.split_once('?').map(|x| x.1).unwrap_or(""));
    assert_eq!(s.http.post(swapped).send().await?.status(), 404);
    Ok(())
}
