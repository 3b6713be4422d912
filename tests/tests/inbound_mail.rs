//! The inbound-mail function's S3 side against moto's S3 (the provider's real API): SES
//! receiving stores a message under `inbound/`, the bucket's event names it, the function reads
//! the object and puts the mail on its order's case; a stranger's mail, or the customer's
//! address forged (SES's DMARC verdict failed), stays in the bucket.

use aws_lambda_events::event::s3::S3Event;
use oms_tests::{Stack, order_body};
use serde_json::json;

fn event(bucket: &str, key: &str) -> anyhow::Result<S3Event> {
    // The sample in events/ (the shape S3 sends), for this bucket and key (URL-encoded as S3
    // does, spaces as `+`).
    let path = oms_harness::repo_root().join("events/s3/inbound-mail.json");
    let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    v["Records"][0]["s3"]["bucket"]["name"] = json!(bucket);
    v["Records"][0]["s3"]["object"]["key"] = json!(key.replace(' ', "+"));
    Ok(serde_json::from_value(v)?)
}

#[tokio::test]
async fn mail_stored_by_ses_in_s3_lands_on_the_order_it_names() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    let conf = oms_shared::adapters::aws::load_config(true).await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&conf).endpoint_url(&s.local.moto_endpoint).force_path_style(true).build(),
    );
    let bucket = format!("inbound-{}", ulid::Ulid::new().to_string().to_lowercase());
    s3.create_bucket().bucket(&bucket).send().await?;
    let email = format!("rita.{}@example.com", ulid::Ulid::new().to_string().to_lowercase());
    let mut body = order_body(json!([{"sku": "MUG-CLASSIC", "quantity": 1}]));
    body["email"] = json!(email);
    let order = s.place("cust-rita", &body).await?;
    let f = inbound_mail::InboundMail { oms: s.local.oms.clone(), s3: s3.clone(), require_verified: true };
    // What SES receiving writes above the sender's headers.
    let ses = |dmarc: &str| {
        format!(
            "Authentication-Results: amazonses.com;\r\n spf=pass smtp.mailfrom=example.com;\r\n dkim=pass header.i=@example.com;\r\n dmarc={dmarc} header.from=example.com;\r\nX-SES-Spam-Verdict: PASS\r\nX-SES-Virus-Verdict: PASS\r\n"
        )
    };

    let put = |key: &'static str, raw: String| {
        let (s3, bucket) = (s3.clone(), bucket.clone());
        async move { s3.put_object().bucket(bucket).key(key).body(raw.into_bytes().into()).send().await }
    };
    let raw = format!(
        "{}From: Rita <{email}>\r\nTo: support@shop.example\r\nSubject: Order {order}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe lid is missing.\r\n",
        ses("pass")
    );
    put("inbound/msg one", raw).await?;
    let r = f.handle(event(&bucket, "inbound/msg one")?).await.map_err(|e| anyhow::anyhow!(e.to_string()))?;
    assert_eq!(r, json!({"placed": 1, "unmatched": 0}));
    let cases = s.call("GET", &format!("/v1/admin/orders/{order}/cases"), Some(&s.admin_token()), None, &[]).await?;
    let c = &cases.json()["cases"][0];
    assert_eq!(c["kind"], "inquiry");
    assert_eq!(c["messages"][0]["body"], "The lid is missing.");
    assert_eq!(c["messages"][0]["via"], "mail");

    // A forger writing as the customer: SES's DMARC verdict fails; their own "pass" header
    // below it counts for nothing. Left in the bucket, on no case.
    let forged = format!(
        "{}Authentication-Results: amazonses.com; dmarc=pass\r\nFrom: Rita <{email}>\r\nSubject: Order {order}\r\n\r\nRefund me.\r\n",
        ses("fail")
    );
    put("inbound/forged", forged).await?;
    let r = f.handle(event(&bucket, "inbound/forged")?).await.map_err(|e| anyhow::anyhow!(e.to_string()))?;
    assert_eq!(r, json!({"placed": 0, "unmatched": 1}));
    let stranger = format!("{}From: eve@evil.example\r\nSubject: cancel {order}\r\n\r\nCancel it.\r\n", ses("pass"));
    put("inbound/msg-two", stranger).await?;
    let r = f.handle(event(&bucket, "inbound/msg-two")?).await.map_err(|e| anyhow::anyhow!(e.to_string()))?;
    assert_eq!(r, json!({"placed": 0, "unmatched": 1}), "left in the bucket, on no case");
    let cases = s.call("GET", &format!("/v1/admin/orders/{order}/cases"), Some(&s.admin_token()), None, &[]).await?;
    assert_eq!(cases.json()["cases"].as_array().map(Vec::len), Some(1), "neither the forger nor the stranger wrote");
    // A missing object is an error (S3 retries the event), not a silent success.
    assert!(f.handle(event(&bucket, "inbound/gone")?).await.is_err());
    Ok(())
}
