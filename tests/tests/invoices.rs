//! Invoices and credit notes, from outside: a shipped order's capture issues an invoice, mailed
//! as a PDF attachment (a real MIME parse, the PDF read back by poppler's pdftotext) and listed
//! for its customer with a signed link; a return's refund issues a credit note that corrects
//! it. Numbers follow each other in their series; links cannot be forged; other customers see
//! nothing.

use mail_parser::MimeHeaders;
use oms_tests::Stack;
use serde_json::{Value, json};

/// The text of a PDF, by poppler's `pdftotext` (layout kept).
fn pdf_text(pdf: &[u8]) -> anyhow::Result<String> {
    let dir = std::env::temp_dir().join(format!("oms-inv-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir)?;
    let input = dir.join("doc.pdf");
    std::fs::write(&input, pdf)?;
    let out = std::process::Command::new("pdftotext").arg("-layout").arg(&input).arg("-").output()?;
    anyhow::ensure!(out.status.success(), "pdftotext: {}", String::from_utf8_lossy(&out.stderr));
    std::fs::remove_dir_all(&dir).ok();
    Ok(String::from_utf8(out.stdout)?)
}

async fn documents(s: &Stack, customer: &str, id: &str, n: usize) -> anyhow::Result<Vec<Value>> {
    let path = format!("/v1/orders/{id}/invoices");
    s.eventually(&format!("{n} documents"), || async {
        let r = s.call("GET", &path, Some(&s.token(customer)), None, &[]).await?;
        Ok(r.json()["invoices"].as_array().map_or(0, Vec::len) >= n)
    })
    .await?;
    let r = s.call("GET", &path, Some(&s.token(customer)), None, &[]).await?;
    Ok(r.json()["invoices"].as_array().cloned().unwrap_or_default())
}

/// Fetches a signed link (absolute, on the runner's base) without signing in.
async fn open(s: &Stack, url: &str) -> anyhow::Result<(u16, Vec<u8>, String)> {
    let path = &url[url.find("/v1/signed/").unwrap_or(0)..];
    let res = s.http.get(s.url(path)).send().await?;
    let ct = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    Ok((res.status().as_u16(), res.bytes().await?.to_vec(), ct))
}

/// The PDF attached to the newest mail to `email` with `subject` starting so.
async fn attachment(s: &Stack, email: &str, subject: &str) -> anyhow::Result<(String, Vec<u8>)> {
    for _ in 0..200 {
        let mail = oms_local::mail(&s.local.moto_endpoint).await?;
        for m in mail.as_array().into_iter().flatten().rev().filter(|m| m["to"].to_string().contains(email)) {
            let raw = m["raw"].as_str().unwrap_or_default();
            let Some(msg) = mail_parser::MessageParser::default().parse(raw.as_bytes()) else { continue };
            if !msg.subject().unwrap_or_default().starts_with(subject) {
                continue;
            }
            if let Some(a) = msg.attachments().next() {
                let ct = a.content_type().map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or_default()));
                anyhow::ensure!(ct.as_deref() == Some("application/pdf"), "{ct:?}");
                return Ok((a.attachment_name().unwrap_or_default().to_owned(), a.contents().to_vec()));
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    anyhow::bail!("no mail {subject:?} with an attachment to {email}")
}

#[tokio::test]
async fn a_capture_issues_an_invoice_and_a_refund_a_credit_note_each_mailed_as_pdf() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    let email = format!("inv-{}@mail.example", ulid::Ulid::new().to_string().to_lowercase());
    let lines = json!([{"sku": "MUG-CLASSIC", "quantity": 2}, {"sku": "DESK-LAMP", "quantity": 1}]);
    let id = s.delivered_order("cust-inv", &email, lines).await?;
    let order = s.order("cust-inv", &id).await?;
    let docs = documents(&s, "cust-inv", &id, 1).await?;
    assert_eq!(docs.len(), 1, "one parcel, one capture, one invoice: {docs:?}");
    let inv = &docs[0];
    let number = inv["number"].as_str().unwrap_or_default().to_owned();
    assert!(number.starts_with("INV-") && inv["kind"] == "invoice", "{inv}");
    assert_eq!(inv["total"], order["totals"]["total"], "the invoice is for what was captured");

    // The PDF behind the signed link says who sells to whom, what, and for how much.
    let (status, pdf, ct) = open(&s, inv["url"].as_str().unwrap_or_default()).await?;
    assert_eq!((status, ct.as_str()), (200, "application/pdf"));
    let text = pdf_text(&pdf)?;
    let total = format!("{:.2} USD", order["totals"]["total"]["amount"].as_f64().unwrap_or(0.0) / 100.0);
    for want in [
        format!("Invoice {number}"),
        "OMS Demo Shop Inc.".into(),
        "Ann Lee".into(),
        email.clone(),
        id.clone(),
        total.clone(),
    ] {
        assert!(text.contains(&want), "{want:?} not in:\n{text}");
    }
    for l in order["lines"].as_array().into_iter().flatten() {
        assert!(text.contains(l["name"].as_str().unwrap_or("?")), "{} not in:\n{text}", l["name"]);
    }
    // The mail carries the same document as an attachment.
    let (name, attached) = attachment(&s, &email, "Your invoice").await?;
    assert_eq!(name, format!("{number}.pdf"));
    assert!(pdf_text(&attached)?.contains(&format!("Invoice {number}")));

    // Forged, altered or foreign links and other customers get nothing.
    let url = inv["url"].as_str().unwrap_or_default();
    let forged = url.replace("signature=", "signature=00");
    assert_eq!(open(&s, &forged).await?.0, 404);
    let other = url.replace(&number, &number.replace("INV-", "CN-"));
    assert_eq!(open(&s, &other).await?.0, 404);
    let r = s.call("GET", &format!("/v1/orders/{id}/invoices"), Some(&s.token("cust-else")), None, &[]).await?;
    assert_eq!(r.status, 404, "{}", r.text);
    let r = s.call("GET", &format!("/v1/orders/{id}/invoices"), None, None, &[]).await?;
    assert_eq!(r.status, 401, "{}", r.text);

    // A return refunded: a credit note for the refund that names the invoice it corrects.
    let r = s
        .open_return(
            "cust-inv",
            &id,
            &json!({"lines": [{"lineId": "L1", "quantity": 1, "reason": "does_not_fit"}], "resolution": "refund"}),
        )
        .await?;
    assert_eq!(r.status, 201, "{}", r.text);
    let rma = r.json()["id"].as_str().unwrap_or_default().to_owned();
    let got = s.receive_return(&rma, json!([{"lineId": "L1", "quantity": 1, "condition": "resellable"}])).await?;
    assert_eq!(got.status, 200, "{}", got.text);
    let docs = documents(&s, "cust-inv", &id, 2).await?;
    let cn = docs.iter().find(|d| d["kind"] == "credit_note").cloned().unwrap_or_default();
    let cn_number = cn["number"].as_str().unwrap_or_default().to_owned();
    assert!(cn_number.starts_with("CN-"), "{docs:?}");
    let refunded = s.order("cust-inv", &id).await?["payment"]["refunded"].clone();
    assert_eq!(cn["total"], refunded, "the credit note is for what was refunded");
    let text = pdf_text(&open(&s, cn["url"].as_str().unwrap_or_default()).await?.1)?;
    assert!(
        text.contains(&format!("Credit note {cn_number}")) && text.contains(&format!("Corrects {number}")),
        "{text}"
    );
    let (cn_name, _) = attachment(&s, &email, "Your credit note").await?;
    assert_eq!(cn_name, format!("{cn_number}.pdf"));

    // A second order's invoice takes the next number of the series.
    let id2 = s.delivered_order("cust-inv", &email, json!([{"sku": "MUG-CLASSIC", "quantity": 1}])).await?;
    let next = documents(&s, "cust-inv", &id2, 1).await?[0]["number"].as_str().unwrap_or_default().to_owned();
    let seq = |n: &str| n.rsplit('-').next().and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
    assert_eq!(seq(&next), seq(&number) + 1, "{number} then {next}");
    // Agents see the documents too (the console lists them).
    let r = s.call("GET", &format!("/v1/orders/{id}/invoices"), Some(&s.admin_token()), None, &[]).await?;
    assert_eq!(r.json()["invoices"].as_array().map(Vec::len), Some(2), "{}", r.text);
    Ok(())
}
