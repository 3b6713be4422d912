//! SMS and push, from outside: what a customer chose in their preferences is sent by SNS (moto
//! records it; `/dev/messages` shows it) next to the mail, once per message; a number that
//! replied STOP gets nothing and is marked opted out; quiet hours hold messages back; bad
//! preferences are refused naming the field.

use oms_tests::Stack;
use serde_json::{Value, json};

fn phone(last: u32) -> String {
    // Unique per run (moto keeps every run's messages); the last two digits chosen by the test.
    let n = ulid::Ulid::new().random() % 1_000_000;
    format!("+1555{n:06}{last:02}")
}

async fn sent_to(s: &Stack, to: &str) -> anyhow::Result<Vec<Value>> {
    let all = oms_local::messages(&s.local.moto_endpoint).await?;
    Ok(all.as_array().into_iter().flatten().filter(|m| m["to"] == to).cloned().collect())
}

async fn prefs(s: &Stack, customer: &str, body: &Value) -> anyhow::Result<oms_tests::Reply> {
    s.call("PUT", "/v1/me/preferences", Some(&s.token(customer)), Some(body), &[]).await
}

#[tokio::test]
async fn chosen_messages_go_by_sms_and_push_once_and_opt_outs_and_quiet_hours_are_honoured() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    // Refused preferences name the field and change nothing.
    for (body, field) in [
        (json!({"marketingEmails": true, "sms": {"phone": "5551234567", "kinds": []}}), "sms.phone"),
        (json!({"marketingEmails": true, "sms": {"phone": "+15551234567", "kinds": ["cart.reminder"]}}), "sms.kinds"),
        (json!({"marketingEmails": true, "push": {"deviceToken": "", "kinds": []}}), "push.deviceToken"),
        (json!({"marketingEmails": true, "quietHours": {"from": "25:00", "to": "07:00"}}), "quietHours.from"),
        (
            json!({"marketingEmails": true, "quietHours": {"from": "22:00", "to": "07:00", "utcOffsetMinutes": 9000}}),
            "quietHours.utcOffsetMinutes",
        ),
        (json!({"marketingEmails": true, "sms": {"phone": "+15551234567", "kinds": [], "extra": 1}}), "extra"),
    ] {
        let r = prefs(&s, "cust-msg", &body).await?;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert!(r.text.contains(field), "{field}: {}", r.text);
    }
    let r = s.call("GET", "/v1/me/preferences", Some(&s.token("cust-msg")), None, &[]).await?;
    assert_eq!(r.json(), json!({"marketingEmails": true}), "nothing stored");

    // SMS for confirmation and shipping, push for shipping.
    let (sms, device) = (phone(12), format!("device-{}", ulid::Ulid::new()));
    let body = json!({"marketingEmails": true,
        "sms": {"phone": sms, "kinds": ["order.confirmed", "shipment.shipped"]},
        "push": {"deviceToken": device, "kinds": ["shipment.shipped"]}});
    let r = prefs(&s, "cust-msg", &body).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    // Carrier events arrive twice: still one message each.
    let id = s.delivered_order("cust-msg", "msg@mail.example", json!([{"sku": "MUG-CLASSIC", "quantity": 1}])).await?;
    s.eventually("sms and push", || async {
        Ok(sent_to(&s, &sms).await?.len() >= 2 && !sent_to(&s, &device).await?.is_empty())
    })
    .await?;
    s.settle_effects().await?;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let texts: Vec<String> =
        sent_to(&s, &sms).await?.iter().map(|m| m["body"].as_str().unwrap_or("").to_owned()).collect();
    assert_eq!(texts.len(), 2, "confirmation and shipping, once each: {texts:?}");
    assert!(texts.iter().any(|t| t.contains(&id) && t.contains("is confirmed")), "{texts:?}");
    assert!(texts.iter().any(|t| t.contains("has shipped") && t.contains("/track?number=")), "{texts:?}");
    assert!(
        texts.iter().all(|t| !t.contains("msg@mail.example") && !t.contains("Ann Lee")),
        "no personal data: {texts:?}"
    );
    let pushed = sent_to(&s, &device).await?;
    assert_eq!(pushed.len(), 1, "{pushed:?}");
    assert!(
        pushed[0]["body"].as_str().unwrap_or("").contains("has shipped") && pushed[0]["title"].is_string(),
        "{pushed:?}"
    );

    // A number that replied STOP (moto: numbers ending in 99) gets nothing and is marked.
    let stopped = phone(99);
    let body = json!({"marketingEmails": true, "sms": {"phone": stopped, "kinds": ["order.confirmed"]}});
    assert_eq!(prefs(&s, "cust-stop", &body).await?.status, 200);
    s.delivered_order("cust-stop", "stop@mail.example", json!([{"sku": "MUG-CLASSIC", "quantity": 1}])).await?;
    s.eventually("the opt-out recorded", || async {
        let r = s.call("GET", "/v1/me/preferences", Some(&s.token("cust-stop")), None, &[]).await?;
        Ok(r.json()["sms"]["optedOut"] == true)
    })
    .await?;
    assert!(sent_to(&s, &stopped).await?.is_empty());

    // Quiet hours now (UTC, an hour either side): the SMS waits on the queue, the mail does not.
    let now = chrono::Utc::now();
    let (from, to) =
        ((now - chrono::Duration::hours(1)).format("%H:%M"), (now + chrono::Duration::hours(1)).format("%H:%M"));
    let quiet = phone(34);
    let body = json!({"marketingEmails": true, "sms": {"phone": quiet, "kinds": ["order.confirmed"]},
        "quietHours": {"from": from.to_string(), "to": to.to_string(), "utcOffsetMinutes": 0}});
    assert_eq!(prefs(&s, "cust-quiet", &body).await?.status, 200);
    let (qid, _) =
        s.ready_order("cust-quiet", "quiet@mail.example", json!([{"sku": "MUG-CLASSIC", "quantity": 1}])).await?;
    s.eventually("the confirmation mail", || async {
        Ok(s.mail_to("quiet@mail.example").await?.iter().any(|m| m == "Your order is confirmed"))
    })
    .await?;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert!(sent_to(&s, &quiet).await?.is_empty(), "held back in quiet hours ({qid})");
    let url = s.local.queues.get("NotificationsQueue").cloned().unwrap_or_default();
    let attrs = s
        .local
        .sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesDelayed)
        .send()
        .await?;
    let delayed = attrs
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesDelayed))
        .and_then(|v| v.parse::<u32>().ok())
        .unwrap_or(0);
    assert!(delayed >= 1, "the SMS waits on the queue until the quiet hours end");
    Ok(())
}
