//! The stock-import function's S3 side against moto's S3 (the provider's real API): the WMS
//! puts a CSV of counts and adjustments under `stock/`, the bucket's event names it, the
//! function applies every row in sequence and writes its report under `reports/`. Open holds
//! survive the counts; the same file delivered again changes nothing; bad rows are reported by
//! line and field while the others apply; a file that is not CSV changes nothing.

use aws_lambda_events::event::s3::S3Event;
use oms_tests::{Stack, order_body};
use serde_json::json;

fn event(bucket: &str, key: &str) -> anyhow::Result<S3Event> {
    let path = oms_harness::repo_root().join("events/s3/stock-import.json");
    let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    v["Records"][0]["s3"]["bucket"]["name"] = json!(bucket);
    v["Records"][0]["s3"]["object"]["key"] = json!(key.replace(' ', "+"));
    Ok(serde_json::from_value(v)?)
}

#[tokio::test]
async fn a_wms_stock_file_on_s3_applies_in_sequence_once_and_keeps_holds() -> anyhow::Result<()> {
    let s = Stack::without_stream().await?;
    let conf = oms_shared::adapters::aws::load_config(true).await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&conf).endpoint_url(&s.local.moto_endpoint).force_path_style(true).build(),
    );
    let bucket = format!("stock-{}", ulid::Ulid::new().to_string().to_lowercase());
    s3.create_bucket().bucket(&bucket).send().await?;
    let f = stock_import::StockImport { oms: s.local.oms.clone(), s3: s3.clone() };
    // Two lamps held by an open order at Dallas.
    s.place("cust-si1", &order_body(json!([{"sku": "DESK-LAMP", "quantity": 2}]))).await?;
    let put = |key: &'static str, body: &'static str| {
        let (s3, bucket) = (s3.clone(), bucket.clone());
        async move { s3.put_object().bucket(bucket).key(key).body(body.as_bytes().to_vec().into()).send().await }
    };
    let report = |key: &'static str| {
        let (s3, bucket) = (s3.clone(), bucket.clone());
        async move {
            let o = s3.get_object().bucket(bucket).key(key).send().await?;
            anyhow::Ok(serde_json::from_slice::<serde_json::Value>(&o.body.collect().await?.into_bytes())?)
        }
    };
    // A BOM and CRLF, as spreadsheets write; quoted fields; a bad row of each kind.
    let file = "\u{feff}sku,locationId,onHand,delta,reason,sequence,safetyStock\r\n\
DESK-LAMP,WH-TX,40,,,100,2\r\n\
\"MUG-CLASSIC\",WH-NJ,,-3,damaged,100,\r\n\
TV-55,WH-NJ,,1,count,101,\r\n\
SOCKS-3PK,WH-NJ,5,2,found,102,\r\n\
NO SUCH,WH-NJ,5,,,103,\r\n\
MUG-CLASSIC,WH-NJ,7,,,,\r\n\
DESK-LAMP,WH-TX,1,,,104,\r\n";
    let (mug_before, _, _) = s.available("MUG-CLASSIC", "WH-NJ").await?;
    put("stock/wms 2026-12-02.csv", file).await?;
    let r = f.handle(event(&bucket, "stock/wms 2026-12-02.csv")?).await.map_err(|e| anyhow::anyhow!(e.to_string()))?;
    let rep = &r["stock/wms 2026-12-02.csv"];
    assert_eq!(
        (rep["rows"].as_u64(), rep["applied"].as_u64(), rep["ignored"].as_u64()),
        (Some(7), Some(2), Some(0)),
        "{r}"
    );
    let failed: Vec<(u64, String)> = rep["failed"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| (e["line"].as_u64().unwrap_or(0), e["field"].as_str().unwrap_or("").to_owned()))
        .collect();
    assert_eq!(
        failed,
        vec![
            (4, "reason".to_owned()),
            (5, "onHand".to_owned()),
            (6, "sku".to_owned()),
            (7, "sequence".to_owned()),
            (8, "onHand".to_owned())
        ],
        "{r}"
    );
    assert_eq!(report("reports/wms 2026-12-02.csv.json").await?, *rep, "the report sits beside the file");
    // The count kept the two held lamps; the damaged mugs came off.
    assert_eq!(s.available("DESK-LAMP", "WH-TX").await?, (38, 2, 0));
    assert_eq!(s.available("MUG-CLASSIC", "WH-NJ").await?.0, mug_before - 3);

    // The same file again (S3 delivers at least once): every row already applied.
    let r = f.handle(event(&bucket, "stock/wms 2026-12-02.csv")?).await.map_err(|e| anyhow::anyhow!(e.to_string()))?;
    let rep = &r["stock/wms 2026-12-02.csv"];
    assert_eq!((rep["applied"].as_u64(), rep["ignored"].as_u64()), (Some(0), Some(2)), "{r}");
    assert_eq!(s.available("DESK-LAMP", "WH-TX").await?, (38, 2, 0));
    assert_eq!(s.available("MUG-CLASSIC", "WH-NJ").await?.0, mug_before - 3);

    // Numbers are decimal digits: a hex count is reported, not applied.
    put("stock/hex.csv", "sku,locationId,onHand,sequence\nDESK-LAMP,WH-TX,0x10,200\n").await?;
    let r = f.handle(event(&bucket, "stock/hex.csv")?).await.map_err(|e| anyhow::anyhow!(e.to_string()))?;
    assert_eq!(r["stock/hex.csv"]["failed"][0]["field"], "onHand", "{r}");
    assert_eq!(s.available("DESK-LAMP", "WH-TX").await?, (38, 2, 0));

    // Not a stock file at all: every row reported, nothing changed.
    put("stock/notes.csv", "hello,world\n1,2\n").await?;
    let r = f.handle(event(&bucket, "stock/notes.csv")?).await.map_err(|e| anyhow::anyhow!(e.to_string()))?;
    assert_eq!(r["stock/notes.csv"]["applied"], 0, "{r}");
    assert_eq!(r["stock/notes.csv"]["failed"][0]["line"], 2, "{r}");
    assert_eq!(s.available("DESK-LAMP", "WH-TX").await?, (38, 2, 0));
    Ok(())
}
