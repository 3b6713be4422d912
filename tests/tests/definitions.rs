//! Every state machine definition in `infra/statemachines/` checks clean against the template
//! and the errors our handlers raise.

use oms_harness::SubRef;
use oms_shared::app::fulfillment::{Fulfillment, StepError};
use serde_json::Value;
use std::collections::BTreeSet;

#[test]
fn every_definition_is_consistent_with_the_template_and_handlers() -> anyhow::Result<()> {
    let machines = oms_harness::state_machines()?;
    assert!(!machines.is_empty());
    let mut files: BTreeSet<_> = std::fs::read_dir(oms_harness::repo_root().join("infra/statemachines"))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    let known: BTreeSet<String> = StepError::ALL.iter().map(|s| s.to_string()).collect();
    for sm in &machines {
        assert!(files.remove(&sm.definition_path.canonicalize()?) || files.remove(&sm.definition_path), "{sm:?}");
        let text = std::fs::read_to_string(&sm.definition_path)?;
        let def: Value = serde_json::from_str(&text)?;
        // Every ${...} in the file is a substitution the template provides.
        for part in text.split("${").skip(1) {
            let name = part.split('}').next().unwrap_or("");
            assert!(
                sm.substitutions.contains_key(name),
                "{}: ${{{name}}} has no DefinitionSubstitution",
                sm.logical_id
            );
        }
        let resource_ok = |resource: &str, state: &Value| -> Result<(), String> {
            if resource == "arn:aws:states:::sqs:sendMessage" {
                let url = state["Parameters"]["QueueUrl"].as_str().unwrap_or("");
                let name = url.trim_start_matches("${").trim_end_matches('}');
                return match sm.substitutions.get(name) {
                    Some(SubRef::Ref(q))
                        if oms_harness::resource_type(q).ok().flatten().as_deref() == Some("AWS::SQS::Queue") =>
                    {
                        Ok(())
                    }
                    other => Err(format!("QueueUrl {url} is not a queue in the template: {other:?}")),
                };
            }
            let name = resource.trim_start_matches("${").trim_end_matches('}');
            match sm.substitutions.get(name) {
                Some(SubRef::GetAtt(logical, attr)) if attr == "Arn" => {
                    let ty = oms_harness::resource_type(logical).map_err(|e| e.to_string())?;
                    if ty.as_deref() != Some("AWS::Serverless::Function") {
                        return Err(format!("{logical} is not a function"));
                    }
                    let bin = oms_harness::function_binary(logical).map_err(|e| e.to_string())?.unwrap_or_default();
                    if !Fulfillment::STEP_FUNCTIONS.contains(&bin.as_str()) {
                        return Err(format!("{logical} builds {bin}, which is not a step handler"));
                    }
                    if !oms_harness::repo_root().join("functions").join(&bin).join("Cargo.toml").exists() {
                        return Err(format!("no crate functions/{bin}"));
                    }
                    Ok(())
                }
                other => Err(format!("resource {resource} is not a function in the template: {other:?}")),
            }
        };
        let problems = oms_asl::check(&def, &oms_asl::CheckContext { resource_ok: &resource_ok, known_errors: &known });
        assert!(problems.is_empty(), "{}: {problems:#?}", sm.logical_id);
    }
    assert!(files.is_empty(), "definitions no state machine uses: {files:?}");
    Ok(())
}

#[test]
fn the_checker_catches_a_broken_definition() -> anyhow::Result<()> {
    let sm = oms_harness::state_machines()?.into_iter().next().unwrap();
    let mut def: Value = serde_json::from_str(&std::fs::read_to_string(&sm.definition_path)?)?;
    def["States"]["Allocate"]["Next"] = Value::String("Nowhere".into());
    def["States"]["Validate"]["Retry"][0]["ErrorEquals"][0] = Value::String("NoSuchError".into());
    let known: BTreeSet<String> = StepError::ALL.iter().map(|s| s.to_string()).collect();
    let problems = oms_asl::check(&def, &oms_asl::CheckContext { resource_ok: &|_, _| Ok(()), known_errors: &known });
    assert!(problems.iter().any(|p| p.contains("Nowhere")));
    assert!(problems.iter().any(|p| p.contains("NoSuchError")));
    Ok(())
}

/// Every operation of the contract (`docs/openapi.yaml`) is a route of the deployed API (an
/// `HttpApi` event of a function in the template), and every such route is in the contract: a
/// route added to a router but not to the template answers 404 on AWS.
#[test]
fn the_contract_and_the_templates_api_routes_are_the_same() -> anyhow::Result<()> {
    let t = oms_harness::template()?;
    let mut deployed = BTreeSet::new();
    for (_, r) in t["Resources"].as_mapping().into_iter().flatten() {
        for (_, e) in r["Properties"]["Events"].as_mapping().into_iter().flatten() {
            if e["Type"].as_str() == Some("HttpApi") {
                let p = &e["Properties"];
                if let (Some(m), Some(path)) = (p["Method"].as_str(), p["Path"].as_str()) {
                    deployed.insert(format!("{} {path}", m.to_uppercase()));
                }
            }
        }
    }
    let api = oms_harness::yaml_file("docs/openapi.yaml")?;
    let mut documented = BTreeSet::new();
    for (path, ops) in api["paths"].as_mapping().into_iter().flatten() {
        for (method, _) in ops.as_mapping().into_iter().flatten() {
            let m = method.as_str().unwrap_or_default();
            if ["get", "put", "post", "patch", "delete"].contains(&m) {
                documented.insert(format!("{} {}", m.to_uppercase(), path.as_str().unwrap_or_default()));
            }
        }
    }
    let missing: Vec<_> = documented.difference(&deployed).collect();
    let undocumented: Vec<_> = deployed.difference(&documented).collect();
    assert!(missing.is_empty(), "in the contract, not deployed: {missing:?}");
    assert!(undocumented.is_empty(), "deployed, not in the contract: {undocumented:?}");
    Ok(())
}
