//! Test and local-run harness.
//!
//! - [`dynamodb_endpoint`] returns `DYNAMODB_ENDPOINT` when set; otherwise it starts one
//!   DynamoDB Local for this process on a free port (a watcher stops it when the process ends).
//! - [`moto_endpoint`] does the same for moto server (SQS, SES) with `MOTO_ENDPOINT`.
//! - [`TestTable::new`] gives each test its own table, created from the table definition in
//!   `infra/template.yaml` (the one source of truth for keys, indexes, TTL and stream).

use anyhow::{Context, Result, bail};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification,
};
use serde::Deserialize;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::sync::OnceCell;

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A free TCP port on loopback (bound, then released for the child to take).
pub fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// Spawns `cmd` under a small shell watcher that kills it when `owner_pid` exits, so nothing
/// the harness starts outlives the test process, even when it is killed.
fn spawn_watched(cmd: &str, dir: &std::path::Path, log: &std::path::Path) -> Result<()> {
    let owner = std::process::id();
    let script = format!(
        "{cmd} >>'{log}' 2>&1 & child=$!; trap 'kill $child 2>/dev/null' EXIT INT TERM; \
         while kill -0 {owner} 2>/dev/null && kill -0 $child 2>/dev/null; do sleep 0.5; done",
        log = log.display()
    );
    std::process::Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("spawning {cmd}"))?;
    Ok(())
}

async fn wait_for_port(port: u16, what: &str) -> Result<()> {
    for _ in 0..300 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("{what} did not open port {port} within 15 s")
}

static DYNAMO: OnceCell<String> = OnceCell::const_new();
static MOTO: OnceCell<String> = OnceCell::const_new();

/// DynamoDB endpoint for tests and the local runner.
pub async fn dynamodb_endpoint() -> Result<String> {
    DYNAMO
        .get_or_try_init(|| async {
            if let Ok(e) = std::env::var("DYNAMODB_ENDPOINT") {
                return Ok(e);
            }
            start_dynamodb_local().await
        })
        .await
        .cloned()
}

/// Starts DynamoDB Local (installed by `dev/setup.sh` into `.local/dynamodb`) on a free port.
pub async fn start_dynamodb_local() -> Result<String> {
    let dir = std::env::var("OMS_DYNAMODB_LOCAL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo_root().join(".local/dynamodb/package/emulator"));
    if !dir.join("DynamoDBLocal.jar").exists() {
        bail!("DynamoDB Local not found in {}: run ./dev/setup.sh first", dir.display());
    }
    let port = free_port()?;
    let log = repo_root().join(".local/dynamodb-local.log");
    let cmd = format!(
        "exec java -Xmx512m -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar -inMemory -sharedDb -disableTelemetry -port {port}"
    );
    spawn_watched(&cmd, &dir, &log)?;
    wait_for_port(port, "DynamoDB Local").await?;
    let endpoint = format!("http://127.0.0.1:{port}");
    // The port opens before the server answers; wait for a real response.
    let client = dynamodb_client(&endpoint).await;
    for _ in 0..200 {
        if client.list_tables().send().await.is_ok() {
            return Ok(endpoint);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("DynamoDB Local on {endpoint} did not answer")
}

/// moto server endpoint (SQS, SES v2) for tests and the local runner.
pub async fn moto_endpoint() -> Result<String> {
    MOTO.get_or_try_init(|| async {
        if let Ok(e) = std::env::var("MOTO_ENDPOINT") {
            return Ok(e);
        }
        let bin = repo_root().join(".venv/bin/moto_server");
        if !bin.exists() {
            bail!("moto_server not found at {}: run ./dev/setup.sh first", bin.display());
        }
        let port = free_port()?;
        let log = repo_root().join(".local/moto.log");
        spawn_watched(&format!("exec '{}' -H 127.0.0.1 -p {port}", bin.display()), &repo_root(), &log)?;
        wait_for_port(port, "moto server").await?;
        Ok(format!("http://127.0.0.1:{port}"))
    })
    .await
    .cloned()
}

/// A DynamoDB client for a local endpoint, with fake static credentials.
pub async fn dynamodb_client(endpoint: &str) -> Client {
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("local", "local", None, None, "oms-harness"))
        .endpoint_url(endpoint)
        .load()
        .await;
    Client::new(&conf)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TableProps {
    attribute_definitions: Vec<AttrDef>,
    key_schema: Vec<KeyDef>,
    #[serde(default)]
    global_secondary_indexes: Vec<GsiDef>,
    #[serde(default)]
    time_to_live_specification: Option<TtlDef>,
    #[serde(default)]
    stream_specification: Option<StreamDef>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AttrDef {
    attribute_name: String,
    attribute_type: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeyDef {
    attribute_name: String,
    key_type: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GsiDef {
    index_name: String,
    key_schema: Vec<KeyDef>,
    projection: ProjDef,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ProjDef {
    projection_type: String,
    #[serde(default)]
    non_key_attributes: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TtlDef {
    attribute_name: String,
    enabled: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StreamDef {
    stream_view_type: String,
}

/// The logical id of the table resource in `infra/template.yaml`.
pub const TABLE_RESOURCE: &str = "OmsTable";

/// Reads the table's properties from `infra/template.yaml`.
fn table_props() -> Result<TableProps> {
    let path = repo_root().join("infra/template.yaml");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).context("parsing template.yaml")?;
    let props = doc
        .get("Resources")
        .and_then(|r| r.get(TABLE_RESOURCE))
        .and_then(|t| t.get("Properties"))
        .context("Resources.OmsTable.Properties missing from template.yaml")?;
    serde_yaml_ng::from_value(props.clone()).context("table properties in template.yaml")
}

/// Index names declared in the template (checked against the `keys` module by a test).
pub fn template_index_names() -> Result<Vec<String>> {
    Ok(table_props()?.global_secondary_indexes.into_iter().map(|g| g.index_name).collect())
}

/// The TTL attribute declared in the template.
pub fn template_ttl_attribute() -> Result<Option<String>> {
    Ok(table_props()?.time_to_live_specification.filter(|t| t.enabled).map(|t| t.attribute_name))
}

fn key_schema(defs: &[KeyDef]) -> Result<Vec<KeySchemaElement>> {
    defs.iter()
        .map(|k| {
            Ok(KeySchemaElement::builder()
                .attribute_name(&k.attribute_name)
                .key_type(KeyType::from(k.key_type.as_str()))
                .build()?)
        })
        .collect()
}

/// Creates `name` with the template's keys, indexes, stream and TTL.
pub async fn create_table(client: &Client, name: &str) -> Result<()> {
    let p = table_props()?;
    let mut req = client.create_table().table_name(name).billing_mode(BillingMode::PayPerRequest);
    for a in &p.attribute_definitions {
        req = req.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(&a.attribute_name)
                .attribute_type(ScalarAttributeType::from(a.attribute_type.as_str()))
                .build()?,
        );
    }
    req = req.set_key_schema(Some(key_schema(&p.key_schema)?));
    for g in &p.global_secondary_indexes {
        let mut proj =
            Projection::builder().projection_type(ProjectionType::from(g.projection.projection_type.as_str()));
        for a in &g.projection.non_key_attributes {
            proj = proj.non_key_attributes(a);
        }
        req = req.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(&g.index_name)
                .set_key_schema(Some(key_schema(&g.key_schema)?))
                .projection(proj.build())
                .build()?,
        );
    }
    if let Some(s) = &p.stream_specification {
        req = req.stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::from(s.stream_view_type.as_str()))
                .build()?,
        );
    }
    req.send().await.with_context(|| format!("creating table {name}"))?;
    if let Some(t) = p.time_to_live_specification.filter(|t| t.enabled) {
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder().attribute_name(t.attribute_name).enabled(true).build()?,
            )
            .send()
            .await
            .context("enabling TTL")?;
    }
    Ok(())
}

/// A fresh table for one test.
pub struct TestTable {
    pub client: Client,
    pub name: String,
    pub endpoint: String,
}

impl TestTable {
    pub async fn new() -> Result<Self> {
        let endpoint = dynamodb_endpoint().await?;
        let client = dynamodb_client(&endpoint).await;
        let name = format!("oms-test-{}", ulid::Ulid::new().to_string().to_lowercase());
        create_table(&client, &name).await?;
        Ok(TestTable { client, name, endpoint })
    }
}

/// The parsed `infra/template.yaml` (CloudFormation tags such as `!Ref` kept as tagged values).
/// A YAML file of the repository (`docs/openapi.yaml`), parsed.
pub fn yaml_file(rel: &str) -> Result<serde_yaml_ng::Value> {
    let path = repo_root().join(rel);
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    serde_yaml_ng::from_str(&text).with_context(|| format!("parsing {rel}"))
}

pub fn template() -> Result<serde_yaml_ng::Value> {
    let path = repo_root().join("infra/template.yaml");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    serde_yaml_ng::from_str(&text).context("parsing template.yaml")
}

/// What a `DefinitionSubstitutions` entry refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubRef {
    /// `!GetAtt Logical.Attr`
    GetAtt(String, String),
    /// `!Ref Logical`
    Ref(String),
    Literal(String),
}

/// A state machine declared in the template.
#[derive(Debug, Clone)]
pub struct StateMachineDef {
    pub logical_id: String,
    pub definition_path: PathBuf,
    pub substitutions: std::collections::BTreeMap<String, SubRef>,
}

fn sub_ref(v: &serde_yaml_ng::Value) -> SubRef {
    use serde_yaml_ng::Value as Y;
    match v {
        Y::Tagged(t) => {
            let inner = t.value.as_str().unwrap_or("").to_owned();
            match t.tag.to_string().trim_start_matches('!') {
                "GetAtt" => {
                    let (l, a) = inner.split_once('.').unwrap_or((&inner, ""));
                    SubRef::GetAtt(l.to_owned(), a.to_owned())
                }
                "Ref" => SubRef::Ref(inner),
                _ => SubRef::Literal(inner),
            }
        }
        Y::Mapping(m) => {
            if let Some(r) = m.get("Ref").and_then(|x| x.as_str()) {
                SubRef::Ref(r.to_owned())
            } else if let Some(g) = m.get("Fn::GetAtt").and_then(|x| x.as_sequence()) {
                SubRef::GetAtt(
                    g.first().and_then(|x| x.as_str()).unwrap_or("").to_owned(),
                    g.get(1).and_then(|x| x.as_str()).unwrap_or("").to_owned(),
                )
            } else {
                SubRef::Literal(String::new())
            }
        }
        other => SubRef::Literal(other.as_str().unwrap_or("").to_owned()),
    }
}

/// Every `AWS::Serverless::StateMachine` with its definition file and substitutions.
pub fn state_machines() -> Result<Vec<StateMachineDef>> {
    let t = template()?;
    let resources = t.get("Resources").and_then(|r| r.as_mapping()).context("Resources missing")?;
    let mut out = Vec::new();
    for (k, v) in resources {
        if v.get("Type").and_then(|x| x.as_str()) != Some("AWS::Serverless::StateMachine") {
            continue;
        }
        let props = v.get("Properties").context("state machine without Properties")?;
        let uri = props.get("DefinitionUri").and_then(|x| x.as_str()).context("DefinitionUri missing")?;
        let mut substitutions = std::collections::BTreeMap::new();
        if let Some(m) = props.get("DefinitionSubstitutions").and_then(|x| x.as_mapping()) {
            for (sk, sv) in m {
                substitutions.insert(sk.as_str().unwrap_or("").to_owned(), sub_ref(sv));
            }
        }
        out.push(StateMachineDef {
            logical_id: k.as_str().unwrap_or("").to_owned(),
            definition_path: repo_root().join("infra").join(uri),
            substitutions,
        });
    }
    Ok(out)
}

/// The `Type` of a resource in the template.
pub fn resource_type(logical_id: &str) -> Result<Option<String>> {
    Ok(template()?
        .get("Resources")
        .and_then(|r| r.get(logical_id))
        .and_then(|r| r.get("Type"))
        .and_then(|t| t.as_str())
        .map(str::to_owned))
}

/// The cargo binary a function resource is built from (`Metadata.BuildProperties.Binary`).
pub fn function_binary(logical_id: &str) -> Result<Option<String>> {
    Ok(template()?
        .get("Resources")
        .and_then(|r| r.get(logical_id))
        .and_then(|r| r.get("Metadata"))
        .and_then(|m| m.get("BuildProperties"))
        .and_then(|b| b.get("Binary"))
        .and_then(|b| b.as_str())
        .map(str::to_owned))
}
