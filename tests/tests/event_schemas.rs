//! Integration event schemas (`docs/events/`): one per published type, every committed sample
//! (`events/domain/`) valid against the current schema, and every field a published version
//! requires (`docs/events/published.json`) still required with the same type. Adding optional
//! fields is compatible; removing or retyping a required one needs a new version.
//! `OMS_PUBLISH_EVENT_SCHEMAS=1` records the current schemas as published (a new type or
//! version).

use oms_shared::domain::events::{EVENT_TYPES, EVENT_VERSION, INVENTORY_CHANGED, INVENTORY_COVER_LOW, INVENTORY_LOW};

/// Every published type: the order events and the stock events.
fn all_types() -> Vec<&'static str> {
    EVENT_TYPES.iter().copied().chain([INVENTORY_CHANGED, INVENTORY_LOW, INVENTORY_COVER_LOW]).collect()
}
use serde_json::{Value, json};
use std::collections::BTreeMap;

fn root() -> std::path::PathBuf {
    oms_harness::repo_root()
}

fn load(path: &std::path::Path) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(serde_json::from_str(&text)?)
}

fn schema_of(kind: &str) -> anyhow::Result<Value> {
    load(&root().join("docs/events").join(format!("{kind}.schema.json")))
}

/// Follows a local `$ref` (`#/$defs/x`).
fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/")) {
        Some(p) => p.split('/').fold(root, |n, k| &n[k]),
        None => node,
    }
}

fn type_of(node: &Value) -> String {
    if let Some(t) = node.get("type").and_then(Value::as_str) {
        return t.to_owned();
    }
    match node.get("const") {
        Some(Value::String(_)) => "string".into(),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => "integer".into(),
        Some(Value::Number(_)) => "number".into(),
        Some(Value::Bool(_)) => "boolean".into(),
        _ => "any".into(),
    }
}

/// Every required field's path (`/data/order/lines[]/sku`) and JSON type.
fn required_fields(schema: &Value) -> BTreeMap<String, String> {
    fn walk(root: &Value, node: &Value, path: &str, out: &mut BTreeMap<String, String>) {
        let node = resolve(root, node);
        if let Some(items) = node.get("items") {
            walk(root, items, &format!("{path}[]"), out);
        }
        let Some(props) = node.get("properties") else { return };
        for name in node.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            let child = resolve(root, &props[name]);
            let p = format!("{path}/{name}");
            out.insert(p.clone(), type_of(child));
            walk(root, child, &p, out);
        }
    }
    let mut out = BTreeMap::new();
    walk(schema, schema, "", &mut out);
    out
}

/// What a published version requires that the current schema no longer does (removed or
/// retyped fields).
fn incompatibilities(published: &BTreeMap<String, String>, current: &BTreeMap<String, String>) -> Vec<String> {
    published
        .iter()
        .filter_map(|(path, ty)| match current.get(path) {
            None => Some(format!("{path} ({ty}) is no longer required")),
            Some(now) if now != ty => Some(format!("{path} changed type from {ty} to {now}")),
            _ => None,
        })
        .collect()
}

#[test]
fn every_type_has_a_schema_and_every_sample_is_valid() -> anyhow::Result<()> {
    let mut files: Vec<String> = std::fs::read_dir(root().join("docs/events"))?
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".schema.json").map(str::to_owned))
        .collect();
    files.sort();
    let mut types: Vec<String> = all_types().iter().map(|t| (*t).to_owned()).collect();
    types.sort();
    assert_eq!(files, types, "one schema per published event type");
    let mut samples = 0;
    for e in std::fs::read_dir(root().join("events/domain"))? {
        let path = e?.path();
        let sample = load(&path)?;
        let kind = sample["type"].as_str().unwrap_or_default().to_owned();
        assert_eq!(path.file_stem().and_then(|s| s.to_str()), Some(kind.as_str()), "{}", path.display());
        let v = jsonschema::options().should_validate_formats(true).build(&schema_of(&kind)?)?;
        let errors: Vec<String> = v.iter_errors(&sample).map(|e| format!("{e} at {}", e.instance_path)).collect();
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
        assert_eq!(sample["version"], EVENT_VERSION);
        samples += 1;
    }
    assert_eq!(samples, all_types().len(), "a sample per type in events/domain/");
    Ok(())
}

#[test]
fn published_versions_keep_their_required_fields_and_types() -> anyhow::Result<()> {
    let lock_path = root().join("docs/events/published.json");
    if std::env::var("OMS_PUBLISH_EVENT_SCHEMAS").is_ok() {
        let mut lock = serde_json::Map::new();
        for t in all_types() {
            lock.insert(t.to_owned(), json!({"version": EVENT_VERSION, "required": required_fields(&schema_of(t)?)}));
        }
        std::fs::write(&lock_path, serde_json::to_string_pretty(&Value::Object(lock))? + "\n")?;
    }
    let lock = load(&lock_path)?;
    let mut problems = Vec::new();
    for (kind, published) in lock.as_object().into_iter().flatten() {
        let required: BTreeMap<String, String> = serde_json::from_value(published["required"].clone())?;
        if published["version"] != EVENT_VERSION {
            continue;
        }
        let current = required_fields(&schema_of(kind)?);
        problems.extend(incompatibilities(&required, &current).into_iter().map(|p| format!("{kind}: {p}")));
    }
    assert!(problems.is_empty(), "incompatible with the published version:\n{}", problems.join("\n"));
    for t in all_types() {
        assert!(lock.get(t).is_some(), "{t} is published: record it (OMS_PUBLISH_EVENT_SCHEMAS=1)");
    }
    Ok(())
}

#[test]
fn the_check_catches_a_removed_or_retyped_required_field() -> anyhow::Result<()> {
    let schema = schema_of("payment.refunded")?;
    let published = required_fields(&schema);
    assert_eq!(published.get("/sequence").map(String::as_str), Some("integer"));
    assert_eq!(published.get("/data/order/lines[]/unitPrice/amount").map(String::as_str), Some("integer"));
    assert_eq!(published.get("/data/payment/refunded/currency").map(String::as_str), Some("string"));
    assert!(incompatibilities(&published, &published).is_empty());

    let mut removed = schema.clone();
    if let Some(r) = removed["required"].as_array_mut() {
        r.retain(|f| f != "sequence");
    }
    assert_eq!(
        incompatibilities(&published, &required_fields(&removed)),
        ["/sequence (integer) is no longer required"]
    );

    let mut retyped = schema.clone();
    retyped["$defs"]["money"]["properties"]["amount"] = json!({"type": "string"});
    let found = incompatibilities(&published, &required_fields(&retyped));
    assert!(
        found.iter().any(|p| p == "/data/order/totals/total/amount changed type from integer to string"),
        "{found:?}"
    );

    // An optional field added is compatible.
    let mut added = schema;
    added["properties"]["traceId"] = json!({"type": "string"});
    assert!(incompatibilities(&published, &required_fields(&added)).is_empty());
    Ok(())
}

/// The bus rules in the template pass what their consumers read: the webhook dispatcher and the
/// CRM every order event, the ERP, loyalty and analytics consumers the types their code acts on.
#[test]
fn the_bus_rules_name_the_types_their_consumers_read() -> anyhow::Result<()> {
    let t = oms_harness::template()?;
    let types = |rule: &str| -> Vec<String> {
        t["Resources"][rule]["Properties"]["EventPattern"]["detail-type"]
            .as_sequence()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    };
    let order_events: Vec<String> = EVENT_TYPES.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(types("WebhookEventsRule"), order_events);
    assert_eq!(types("CrmEventsRule"), order_events);
    use oms_shared::domain::integrations::{ERP_TYPES, LOYALTY_TYPES};
    assert_eq!(types("ErpEventsRule"), ERP_TYPES.map(str::to_owned).to_vec());
    assert_eq!(types("LoyaltyEventsRule"), LOYALTY_TYPES.map(str::to_owned).to_vec());
    for rule in ["AnalyticsEventsRule", "ErpEventsRule", "LoyaltyEventsRule"] {
        assert!(types(rule).iter().all(|k| EVENT_TYPES.contains(&k.as_str())), "{rule}");
    }
    assert!(types("IntegrationEventsRule").is_empty(), "the integrations queue takes every event, stock ones too");
    Ok(())
}
