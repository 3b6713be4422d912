//! The write-unit model the cost benchmark uses for transactions agrees with DynamoDB Local on
//! single writes (where Local follows the billing rules), on the table the template defines.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};
use oms_shared::adapters::dynamo::billing::{Action, Image};

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn order(status: &str, shard: &str, pad: usize) -> Image {
    Image::from([
        ("PK".into(), s("ORDER#01JDQ0000000000000000000AA")),
        ("SK".into(), s("ORDER")),
        ("GSI1PK".into(), s("CUSTOMER#c1")),
        ("GSI1SK".into(), s("ORDER#01JDQ0000000000000000000AA")),
        ("GSI2PK".into(), s(&format!("STATUS#{status}#{shard}"))),
        ("GSI2SK".into(), s("2026-11-22T00:00:00Z#01JDQ0000000000000000000AA")),
        ("GSI3PK".into(), s("EMAIL#ann@example.com")),
        ("GSI3SK".into(), s("2026-11-22T00:00:00Z#01JDQ0000000000000000000AA")),
        ("status".into(), s(status)),
        ("lines".into(), s(&"x".repeat(pad))),
    ])
}

#[tokio::test]
async fn the_model_matches_dynamodb_local_on_single_writes() -> anyhow::Result<()> {
    let endpoint = oms_harness::dynamodb_endpoint().await?;
    let client = oms_harness::dynamodb_client(&endpoint).await;
    let table = format!("oms-billing-{}", ulid::Ulid::new().to_string().to_lowercase());
    oms_harness::create_table(&client, &table).await?;
    let model =
        oms_shared::adapters::dynamo::meter::billing_model(&client, &table).await.map_err(|e| anyhow::anyhow!(e))?;
    let steps: [(Option<Image>, Image); 4] = [
        (None, order("placed", "0", 1400)),
        (Some(order("placed", "0", 1400)), order("validated", "0", 1400)),
        (Some(order("validated", "0", 1400)), order("validated", "0", 1500)),
        (Some(order("validated", "0", 1500)), order("validated", "0", 100)),
    ];
    for (before, after) in steps {
        let out = client
            .put_item()
            .table_name(&table)
            .set_item(Some(after.clone()))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await?;
        let reported = out.consumed_capacity().and_then(|c| c.capacity_units()).unwrap_or(-1.0);
        let modelled = Some(model.write_units(Action::Write, before.as_ref(), Some(&after), 1));
        assert_eq!(
            modelled,
            Some(reported.round() as u64),
            "{:?} -> {:?}",
            before.map(|b| b["status"].clone()),
            after["status"]
        );
    }
    Ok(())
}
