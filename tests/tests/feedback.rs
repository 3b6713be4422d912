//! The after-delivery survey, from outside: a delivery makes it due, the sweep mails it once when
//! due (a real MIME parse finds the signed link), the page asks one question, the answer is taken
//! once (a second is refused; bad input names the field), agents read it on the order and CSAT
//! counts it; the customer sees a thank-you, not their words echoed in someone else's view.

use chrono::{DateTime, Duration, Utc};
use oms_shared::ports::Clock;
use oms_tests::Stack;
use serde_json::{Value, json};
use std::sync::Arc;

struct At(DateTime<Utc>);
impl Clock for At {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// The survey link in the mail "How did we do?" to `email` (path and query), by a MIME parse.
/// Delivers an order, sends its survey (the sweep, its clock past the due time) and returns the
/// order id and the survey link.
async fn surveyed(s: &Stack, customer: &str, email: &str) -> anyhow::Result<(String, String)> {
    let id = s.delivered_order(customer, email, json!([{"sku": "MUG-CLASSIC", "quantity": 1}])).await?;
    let oid = oms_shared::domain::OrderId::parse(&id)?;
    let f = s.local.oms.store.get_feedback(&oid).await?.expect("a survey made due by the delivery");
    assert!(f.is_due() && f.due_at > Utc::now() + Duration::days(2), "{f:?}");
    let mut early = s.local.oms.clone();
    early.clock = Arc::new(At(f.due_at - Duration::minutes(1)));
    early.sweep_feedback().await?;
    assert!(s.local.oms.store.get_feedback(&oid).await?.is_some_and(|f| f.is_due()), "not before it is due");
    let mut late = s.local.oms.clone();
    late.clock = Arc::new(At(f.due_at + Duration::minutes(1)));
    assert!(late.sweep_feedback().await? >= 1);
    late.sweep_feedback().await?;
    Ok((id, s.signed_link(email, "How did we do?").await?))
}

#[tokio::test]
async fn a_delivered_order_gets_one_survey_answered_once_seen_by_agents_and_counted() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    let email = format!("fb-{}@mail.example", ulid::Ulid::new().to_string().to_lowercase());
    let (id, link) = surveyed(&s, "cust-fb", &email).await?;
    assert!(link.contains(&format!("/v1/signed/orders/{id}/feedback?")), "{link}");

    // The page asks the question.
    let page = s.http.get(s.url(&link)).send().await?;
    assert_eq!(page.status(), 200);
    let html = page.text().await?;
    assert!(html.contains("name=\"score\"") && html.contains("name=\"comment\""), "{html}");

    // Bad answers name the field and change nothing; a forged link finds nothing.
    for (form, field) in
        [("score=7", "score"), ("score=x", "score"), ("comment=hi", "score"), ("score=3&extra=1", "score")]
    {
        let (status, ct, body) = s.post_form(&link, form).await?;
        assert_eq!((status, ct.as_str()), (400, "application/problem+json"), "{form}: {body}");
        assert!(body.contains(field), "{form}: {body}");
    }
    let long = format!("score=3&comment={}", "a".repeat(1001));
    assert_eq!(s.post_form(&link, &long).await?.0, 400, "comment over 1000 characters");
    let forged = link.replace("signature=", "signature=00");
    assert_eq!(s.post_form(&forged, "score=5").await?.0, 404);
    let r =
        s.http.post(s.url(&link)).header("content-type", "application/json").body(r#"{"score":"5"}"#).send().await?;
    assert_eq!(r.status(), 415);

    // The answer, once.
    let (status, _, body) = s.post_form(&link, "score=2&comment=The+box+was+crushed").await?;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Thank you"), "{body}");
    let (status, ct, body) = s.post_form(&link, "score=5").await?;
    assert_eq!((status, ct.as_str()), (409, "application/problem+json"), "{body}");
    assert!(s.http.get(s.url(&link)).send().await?.text().await?.contains("answered this survey already"));

    // Agents read it on the order; customers cannot use the staff route.
    let admin = s.admin_token();
    let r = s.call("GET", &format!("/v1/admin/orders/{id}/feedback"), Some(&admin), None, &[]).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!((r.json()["score"].clone(), r.json()["comment"].clone()), (json!(2), json!("The box was crushed")));
    let r = s.call("GET", &format!("/v1/admin/orders/{id}/feedback"), Some(&s.token("cust-fb")), None, &[]).await?;
    assert_eq!(r.status, 403, "{}", r.text);
    let agent_view = s.order("cust-fb", &id).await?;
    assert!(agent_view.to_string().contains("score 2: The box was crushed"), "the agent's timeline has the answer");
    let mine = s.customer_order("cust-fb", &id).await?;
    let kinds: Vec<&str> =
        mine["timeline"].as_array().into_iter().flatten().filter_map(|e| e["kind"].as_str()).collect();
    assert!(kinds.contains(&"feedback.received"), "{kinds:?}");

    // A second customer, delighted: CSAT over today is one satisfied answer of two.
    let email2 = format!("fb2-{}@mail.example", ulid::Ulid::new().to_string().to_lowercase());
    let (_, link2) = surveyed(&s, "cust-fb2", &email2).await?;
    assert_eq!(s.post_form(&link2, "score=5").await?.0, 200);
    let day = Utc::now().format("%Y-%m-%d").to_string();
    let sup = s.scoped_token("sup-1", "oms/supervisor");
    let r = s.call("GET", &format!("/v1/admin/analytics/csat?from={day}&to={day}"), Some(&sup), None, &[]).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    let c: Value = r.json();
    assert_eq!(
        (c["answers"].clone(), c["satisfied"].clone(), c["csat"].clone()),
        (json!(2), json!(1), json!(0.5)),
        "{c}"
    );
    assert_eq!(c["byScore"], json!([0, 1, 0, 0, 1]));
    for q in ["from=2026-12-02&to=2026-12-01", "from=x&to=2026-12-01", "to=2026-12-01", "from=2025-01-01&to=2026-12-01"]
    {
        let r = s.call("GET", &format!("/v1/admin/analytics/csat?{q}"), Some(&sup), None, &[]).await?;
        assert_eq!(r.status, 400, "{q}: {}", r.text);
    }
    // One survey mail per order, however often the sweep ran.
    let subjects = s.mail_to(&email).await?;
    assert_eq!(subjects.iter().filter(|m| *m == "How did we do?").count(), 1, "{subjects:?}");
    Ok(())
}
