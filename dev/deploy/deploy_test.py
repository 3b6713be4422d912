"""Deploy test: infra/template.yaml as CloudFormation would create it, on moto.

1. Transforms the SAM template to plain CloudFormation with aws-sam-translator (the library
   behind `sam deploy` and the CloudFormation transform): function code at a fake S3 location
   and the state machine definition inlined, as `sam package` would.
2. Creates the stack on a moto server (its own on a free port, or MOTO_ENDPOINT's), with a dummy
   code zip in a moto S3 bucket and test parameter values.
3. Checks that every resource came up: each one is in the stack unless its type is on
   NOT_EMULATED; functions, event source mappings, queues (redrive to their DLQ), the table
   (keys, GSIs, stream, TTL, PITR), event buses, the state machine, log groups, roles and outputs
   are read back from the emulated services and compared with the template. What moto's
   CloudFormation drops (function architecture and tracing, table TTL/PITR/SSE, the workflow's
   type, logging, tracing and definition substitutions) is checked in the translated template.
4. Least privilege: the actions each role grants (inline policies read back from moto's IAM;
   AWS managed policies from moto's copy of them, as moto does not attach those) must be exactly
   EXPECTED: no action more, none fewer (the code's call would be denied), no wildcard action,
   Resource "*" only for the actions on RESOURCE_STAR, other resources only this stack's ARNs
   or RESOURCE_PATTERNS, and a function sends only to the queues it is configured with.
5. The agent console and inbound mail (dev/deploy/console_checks.py): staff sign-in, the API's
   authorizer and CORS, console hosting and the inbound mail path, whose Cognito, CloudFront,
   bucket policy and SES receipt resources moto does not create, checked in the translated
   template against what it did create; then the console is published to the emulated stack
   with dev/deploy/publish_console.py (what `./dev/deploy.sh aws` runs after `sam deploy`).

Run: ./dev/deploy.sh   (MOTO_ENDPOINT=http://127.0.0.1:PORT to reuse a running moto)
"""

from __future__ import annotations

import ast
import io
import json
import os
import re
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "infra" / "template.yaml"
REGION = "us-east-1"
# Never real credentials: everything here talks to the emulator.
for _k in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
    os.environ.pop(_k, None)
os.environ.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION=REGION)

import boto3  # noqa: E402
import console_checks  # noqa: E402  (dev/deploy/, beside this file)
from botocore.config import Config  # noqa: E402

# Test values for the parameters without a default, and non-default ones, to see parameters reach
# the functions.
PARAMETERS = {
    "WebhookSecrets": "test-carrier-secret",
    "PaymentWebhookSecrets": "test-payment-secret",
    "LinkSigningSecret": "test-link-secret-0123456789abcdef0123",
    "LogLevel": "debug",
    "MailFrom": "orders@example.test",
    "CognitoDomainPrefix": "oms-deploy-test",
    "SupportAddress": "support@example.test",
    "PickupHoldDays": "5",
    "PaymentRecoveryHours": "12",
}

# Resource types moto's CloudFormation skips (it logs "No Moto CloudFormation support" and creates
# nothing). cfn-lint and `sam validate --lint` check their properties (dev/test.sh runs both);
# what they connect to is created and checked here. Any other skipped type fails the test.
NOT_EMULATED = {
    # The storefront HTTP API and its stage: routes, JWT authorizer and throttling live in the
    # API's OpenAPI body; each route's AWS::Lambda::Permission is created here.
    "AWS::ApiGatewayV2::Api": "HTTP API",
    "AWS::ApiGatewayV2::Stage": "HTTP API stage (route throttling)",
    # Table stream -> workflow: its role, DLQ and the state machine are checked here.
    "AWS::Pipes::Pipe": "order-placed pipe",
    # Schedules of the reminder, drain and reconciliation functions: their roles are checked here.
    "AWS::Scheduler::Schedule": "schedules",
    # CloudWatch metrics are not emulated: the queues and the log group they watch are checked.
    "AWS::CloudWatch::Alarm": "alarms",
    "AWS::Logs::MetricFilter": "reconciliation metric filter",
    # The notifier's configuration set: the notifier's grant naming it is checked here.
    "AWS::SES::ConfigurationSet": "SES configuration set",
    # Staff sign-in (check_console): the pool, its domain, scopes, groups and the console's
    # client are checked in the translated template (admin-create-only, public code + PKCE
    # client, callback = the console URL, the API's issuer and audience); the scopes trigger
    # is created here and its code run on sample events.
    "AWS::Cognito::UserPool": "staff user pool",
    "AWS::Cognito::UserPoolDomain": "hosted sign-in domain",
    "AWS::Cognito::UserPoolResourceServer": "the oms/ scopes",
    "AWS::Cognito::UserPoolGroup": "staff groups",
    "AWS::Cognito::UserPoolClient": "the console's app client",
    # Console hosting (check_console): the bucket is created here; the distribution (OAC,
    # HTTPS, the bucket as its origin), its function (run with node on sample paths) and the
    # bucket policies (only that distribution; SES only under inbound/ for this rule) are
    # checked in the translated template.
    "AWS::CloudFront::Distribution": "console distribution",
    "AWS::CloudFront::OriginAccessControl": "console origin access control",
    "AWS::CloudFront::Function": "console paths function",
    # Analytics past one table (docs/analytics/README.md): the export bucket and the scheduler's
    # role are created and checked here; the Glue table's column type is the one the DuckDB
    # check reads exports with (dev/analytics/test_duckdb_check.py compares them).
    "AWS::Glue::Database": "analytics export database",
    "AWS::Glue::Table": "analytics export table",
    "AWS::Athena::WorkGroup": "analytics workgroup",
    "AWS::Athena::NamedQuery": "the oms_items view's query",
    "AWS::S3::BucketPolicy": "bucket policies (console: the distribution only; inbound mail: SES)",
    # Inbound mail (check_inbound_mail): the rule writes to the bucket and prefix the function's
    # S3 event and GetObject grant name, checked in the translated template.
    "AWS::SES::ReceiptRuleSet": "inbound mail rule set",
    "AWS::SES::ReceiptRule": "support address rule",
    # The integrations queue's policy (check_rest): only the event rule may send, checked in
    # the template; the rule and its targets are created and read back.
    "AWS::SQS::QueuePolicy": "queue policies of the bus rules' targets",
}

# ----- least privilege -----------------------------------------------------------------------
LOGS = {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}
XRAY = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "xray:GetSamplingStatisticSummaries",
}
SQS_POLL = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}
STREAM_POLL = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"}
SFN_LOG_DELIVERY = {
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}


def ddb(*actions: str) -> set[str]:
    return {"dynamodb:" + a for a in actions}


# Every function writes logs and traces (Tracing: Active) and opens its DynamoDB connection at
# cold start with one GetItem. A transaction needs the action of each item it writes: PutItem,
# UpdateItem (stock counters), DeleteItem (the markers of a change too large for one
# transaction, shared/src/adapters/dynamo/parts.rs: any change with stock of an order of up to
# 150 lines). No code builds a ConditionCheck item.
FUNCTION = LOGS | XRAY | ddb("GetItem")
READ = ddb("GetItem", "Query")  # an order is read with one Query; index lookups
BATCH = ddb("BatchGetItem")  # listings through the keys-only indexes, products by SKU
PUT = ddb("PutItem")
STOCK = ddb("PutItem", "UpdateItem", "DeleteItem")  # changes with stock deltas (above)
SEND = {"sqs:SendMessage"}
SNS_MESSAGES = {"sns:Publish", "sns:CheckIfPhoneNumberIsOptedOut", "sns:CreatePlatformEndpoint"}

EXPECTED = {
    # Storefront and admin API: carts, placement (holds), edits and cancels (releases), admin
    # stock (shard items put and deleted), erasure (label documents deleted), the reconciliation
    # route (finishes interrupted changes).
    "PlacementFunction": FUNCTION | READ | BATCH | STOCK,
    # Reads the order and the e-mail's recent orders; a hold writes the order.
    "ValidateOrderFunction": FUNCTION | READ | PUT,
    # Held units become allocated.
    "AllocateOrderFunction": FUNCTION | READ | STOCK,
    # Writes the order and the payment reference.
    "AuthorizePaymentFunction": FUNCTION | READ | PUT,
    # Products of the order in one batch (weights); writes shipments.
    "CreateLabelsFunction": FUNCTION | READ | BATCH | PUT,
    # Releases holds and allocations.
    "CompensateOrderFunction": FUNCTION | READ | STOCK,
    # Finds the shipment by tracking number, marks it handed over, enqueues the event.
    "TrackingWebhookFunction": FUNCTION | READ | PUT | SEND,
    # SQS consumer; shipping takes stock.
    "TrackingConsumerFunction": FUNCTION | SQS_POLL | READ | STOCK,
    # SQS consumer: reads the order or the cart (product names in one batch), claims the mail
    # (put), sends it as a raw MIME message (SES v2 authorizes that as SendRawEmail).
    # SQS consumer: mail (SES), SMS and push (SNS); re-enqueues what quiet hours hold back.
    "NotifierFunction": FUNCTION | SQS_POLL | READ | BATCH | PUT | SEND | {"ses:SendEmail", "ses:SendRawEmail"} | SNS_MESSAGES,
    # Idle carts through their index (batch), marks them reminded, enqueues reminders.
    "CartRemindersFunction": FUNCTION | READ | BATCH | PUT | SEND,
    # Stream consumer: reads outbox entries (pending ones through the index), completes them (a
    # change record leaves the index: UpdateItem; an older outbox item is deleted), enqueues
    # mail, and its stream's on-failure destination is a queue (SendMessage added by SAM);
    # writes customer profiles and their lookups (PutItem) from order bodies; its schedule
    # releases or cancels orders whose confirmation call did not happen (changes with stock);
    # publishes integration events to the OMS bus.
    "EffectsFunction": FUNCTION | STREAM_POLL | READ | BATCH | STOCK | SEND | {"events:PutEvents"},
    # Reads every order and stock item; finishes changes interrupted between their parts.
    "ReconciliationFunction": FUNCTION | READ | BATCH | STOCK,
    # Products (batch), receipts restock, exchanges place replacement orders.
    "ReturnsFunction": FUNCTION | READ | BATCH | STOCK,
    # Disputes open and update cases; the event id is remembered.
    "PaymentWebhookFunction": FUNCTION | READ | PUT,
    # Support mail (S3 event from SES receiving): reads the raw message under inbound/ only;
    # finds the case or the order the mail names (reads, the sender's orders through the
    # indexes, batch), opens a case or adds the message (put; a case change moves its index
    # entries: update, delete); S3 invokes asynchronously, and what still fails after Lambda's
    # retries goes to its DLQ (SendMessage, SAM's DeadLetterQueue).
    "InboundMailFunction": FUNCTION | READ | BATCH | STOCK | {"s3:GetObject"} | SEND,
    # Stock files (S3 event): reads the CSV under stock/ only, writes its report under reports/
    # only; counts and adjustments write stock items (and their shards); its DLQ (SendMessage).
    "StockImportFunction": FUNCTION | READ | BATCH | STOCK | {"s3:GetObject", "s3:PutObject"} | SEND,
    # SQS consumer (events from the bus, its own delayed retry tasks): reads subscriptions and
    # the delivery log (get, query), writes the log and subscriptions (put), re-enqueues
    # retries, and mails a subscriber whose endpoint it disabled.
    "WebhookDispatcherFunction": FUNCTION | SQS_POLL | ddb("Query", "PutItem") | SEND | {"ses:SendEmail", "ses:SendRawEmail"},
    # SQS consumer (events from the bus): reads the order, its returns and cases, the recorded
    # fact and the customer's figures (get, query), commits them with the day rows (a put and
    # counter updates in one transaction).
    "AnalyticsFunction": FUNCTION | SQS_POLL | READ | ddb("PutItem", "UpdateItem"),
    # The ERP, CRM and loyalty consumers (SQS, events from the bus): HTTP calls only, no table.
    "ErpConsumerFunction": LOGS | XRAY | SQS_POLL,
    "CrmConsumerFunction": LOGS | XRAY | SQS_POLL,
    "LoyaltyConsumerFunction": LOGS | XRAY | SQS_POLL,
    # Cognito pre-token-generation trigger: pure claim mapping, no calls (logs and traces only).
    "StaffScopesFunction": LOGS | XRAY,
}
# Roles that are not a function's, by logical id.
EXPECTED_ROLES = {
    "FulfillmentStateMachineRole": {"lambda:InvokeFunction"} | SEND | SFN_LOG_DELIVERY | XRAY,
    "OrderPlacedPipeRole": STREAM_POLL | {"states:StartExecution"} | SEND,
    "CartRemindersFunctionEvery15MinutesRole": {"lambda:InvokeFunction"},
    "EffectsFunctionDrainPendingRole": {"lambda:InvokeFunction"},
    # The daily table export for Athena (docs/analytics/README.md), assumed by the scheduler.
    "AnalyticsExportRole": {"dynamodb:ExportTableToPointInTime", "s3:PutObject", "s3:AbortMultipartUpload", "s3:PutObjectAcl"},
    "ReconciliationFunctionHourlyRole": {"lambda:InvokeFunction"},
}

# The actions that may be granted on Resource "*", and why.
RESOURCE_STAR = {
    **{a: "SMS are published to phone numbers, which are not resources; push endpoints are made at run time" for a in SNS_MESSAGES},
    **{a: "X-Ray has no resource-level permissions (Tracing: Active)" for a in XRAY},
    **{a: "AWSLambdaBasicExecutionRole, attached by SAM to every function's role" for a in LOGS},
    **{a: "AWSLambdaSQSQueueExecutionRole, attached by SAM for an SQS event source" for a in SQS_POLL},
    **{a: "AWSLambdaDynamoDBExecutionRole, attached by SAM for a stream event source" for a in STREAM_POLL},
    **{a: "Step Functions log delivery: CloudWatch Logs grants it on '*' only" for a in SFN_LOG_DELIVERY},
}
# Resources besides "*" and this stack's ARNs: (action, pattern, condition key required).
RESOURCE_PATTERNS = [
    # Any verified identity (an address or its domain), sending only as MailFrom (SendEmail, and
    # SendRawEmail, as which SES v2 authorizes a raw MIME message).
    ("ses:Send*", r"arn:aws:ses:{region}:{account}:identity/\*", "ses:FromAddress"),
    # The configuration set (moto, which does not create it, leaves its name as ${Logical}).
    (
        "ses:Send*",
        r"arn:aws:ses:{region}:{account}:configuration-set/([A-Za-z0-9_-]+|\$\{{[A-Za-z0-9]+\}})",
        "ses:FromAddress",
    ),
    # Every index of the table (all keys-only; names in shared/src/adapters/dynamo/keys.rs).
    ("dynamodb:*", r"{table_arn}/index/\*", None),
    # Raw support mail, only where SES writes it (the bucket's name is built from the stack id
    # in the template, so that its notification to the function is not a circular dependency).
    ("s3:GetObject", r"{bucket_arn}/inbound/\*", None),
    # Stock files: read under stock/, reports written under reports/ (names from the stack id).
    ("s3:GetObject", r"{bucket_arn}/stock/\*", None),
    ("s3:PutObject", r"{bucket_arn}/reports/\*", None),
    # The daily export writes under exports/ only.
    ("s3:*", r"{bucket_arn}/exports/\*", None),
]

FAILURES: list[str] = []


def check(cond: bool, msg: str) -> bool:
    if not cond:
        FAILURES.append(msg)
    return cond


def as_list(v) -> list:
    return v if isinstance(v, list) else [v]


def policy_doc(doc) -> dict:
    """moto returns some CloudFormation-created policy documents as a Python repr string."""
    if isinstance(doc, dict):
        return doc
    try:
        return json.loads(doc)
    except ValueError:
        return ast.literal_eval(doc)


# ----- the template as CloudFormation ----------------------------------------------------------
def translate() -> dict:
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    sam = yaml_parse(TEMPLATE.read_text())
    for name, r in sam["Resources"].items():
        props = r.get("Properties", {})
        if r["Type"] == "AWS::Serverless::Function":
            # What `sam package` makes of the built code: an S3 object (the bucket is set later).
            props["CodeUri"] = {"Bucket": "CODE_BUCKET", "Key": f"{name}.zip"}
        if r["Type"] == "AWS::Serverless::StateMachine" and "DefinitionUri" in props:
            props["Definition"] = json.loads((TEMPLATE.parent / props.pop("DefinitionUri")).read_text())

    class NoManagedPolicyNames:
        # Naming an AWS managed policy by name in Policies would need IAM; the template names none.
        def load(self) -> dict:
            return {}

    try:
        return transform(sam, dict(PARAMETERS), NoManagedPolicyNames())
    except InvalidDocumentException as e:
        sys.exit("deploy test: the SAM transform failed:\n  " + "\n  ".join(str(c) for c in e.causes))


def check_translated(resources: dict) -> None:
    """What moto's CloudFormation drops, checked in what the stack is created from."""
    for name, r in resources.items():
        p = r.get("Properties", {})
        if r["Type"] == "AWS::Lambda::Function":
            check(p.get("Architectures") == ["arm64"], f"{name}: Architectures {p.get('Architectures')}, not [arm64]")
            check(p.get("TracingConfig", {}).get("Mode") == "Active", f"{name}: tracing not Active")
            check(p.get("LoggingConfig", {}).get("LogFormat") == "JSON", f"{name}: log format not JSON")
        if r["Type"] == "AWS::DynamoDB::Table":
            ttl = p.get("TimeToLiveSpecification", {})
            check(ttl.get("Enabled") is True and bool(ttl.get("AttributeName")), f"{name}: TTL not enabled")
            pitr = p.get("PointInTimeRecoverySpecification", {})
            check(pitr.get("PointInTimeRecoveryEnabled") is True, f"{name}: point-in-time recovery not enabled")
            check(p.get("SSESpecification", {}).get("SSEEnabled") is True, f"{name}: SSE not enabled")
            check(r.get("DeletionPolicy") == "Retain", f"{name}: DeletionPolicy is not Retain")
        if r["Type"] == "AWS::StepFunctions::StateMachine":
            check(p.get("StateMachineType") == "EXPRESS", f"{name}: not an EXPRESS workflow")
            lc = p.get("LoggingConfiguration", {})
            check(bool(lc.get("Destinations")) and lc.get("Level") in ("ERROR", "ALL"), f"{name}: no error logging")
            check(p.get("TracingConfiguration", {}).get("Enabled") is True, f"{name}: tracing off")


def outputs_for_moto(cfn: dict) -> dict:
    """The template as created on moto. moto fails the whole stack on an output's Fn::GetAtt of a
    resource it does not create (a CloudFront domain name) and drops an output that is a Ref to
    one, so in Outputs those become a placeholder `<not emulated: Name[.Attribute]>`;
    check_outputs checks what the rest resolved to."""
    skipped = {n for n, r in cfn["Resources"].items() if r["Type"] in NOT_EMULATED}

    def placeholder(name: str, att: str = "") -> str:
        return f"<not emulated: {name}{'.' + att if att else ''}>"

    def fix(v):
        if isinstance(v, dict) and len(v) == 1:
            (fn, arg), = v.items()
            if fn == "Ref" and arg in skipped:
                return placeholder(arg)
            if fn == "Fn::GetAtt":
                name, att = arg if isinstance(arg, list) else arg.split(".", 1)
                if name in skipped:
                    return placeholder(name, att)
            if fn == "Fn::Sub":
                text, names = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])

                def inline(m: re.Match) -> str:
                    name, _, att = m.group(1).partition(".")
                    return placeholder(name, att) if name in skipped and name not in names else m.group(0)

                text = re.sub(r"\$\{([A-Za-z0-9]+(?:\.[A-Za-z0-9.]+)?)\}", inline, text)
                return {"Fn::Sub": [text, fix(names)] if names else text}
        if isinstance(v, dict):
            return {k: fix(x) for k, x in v.items()}
        if isinstance(v, list):
            return [fix(x) for x in v]
        return v

    return {**cfn, "Outputs": fix(cfn.get("Outputs", {}))}


# ----- moto --------------------------------------------------------------------------------------
def start_moto() -> tuple[str, subprocess.Popen | None]:
    if os.environ.get("MOTO_ENDPOINT"):
        return os.environ["MOTO_ENDPOINT"].rstrip("/"), None
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    log_path = ROOT / ".local" / "deploy-test-moto.log"
    log_path.parent.mkdir(exist_ok=True)
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.time() + 30
    while time.time() < deadline and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return f"http://127.0.0.1:{port}", proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    sys.exit(f"deploy test: moto did not start (see {log_path})")


class Stack:
    """The stack on moto: what it created, read back from the services, and the checks."""

    def __init__(self, endpoint: str, cfn: dict):
        self.endpoint, self.cfn = endpoint, cfn
        self.resources: dict = cfn["Resources"]
        self.types = {k: v["Type"] for k, v in self.resources.items()}
        cfg = Config(retries={"max_attempts": 2}, connect_timeout=5, read_timeout=30)
        self.client = lambda s: boto3.client(s, endpoint_url=endpoint, region_name=REGION, config=cfg)
        run_id = f"{os.getpid()}-{int(time.time())}"
        self.name = self.bucket = f"oms-deploy-test-{run_id}"
        self.params = {k: v.get("Default") for k, v in cfn.get("Parameters", {}).items()} | PARAMETERS
        self.phys: dict[str, str] = {}  # logical id -> physical id, for what moto created
        self.skipped: dict[str, list[str]] = {}  # NOT_EMULATED type -> logical ids
        self.arn: dict[str, str] = {}
        self.attrs: dict[str, dict] = {}
        self.summary: list[str] = []
        self.granted: dict[str, set[str]] = {}
        self.grants: dict[str, list[tuple[set[str], str]]] = {}  # role (function) -> (actions, resource)
        self.seconds = 0.0

    # ----- create and read back ------------------------------------------------------------------
    def create(self) -> bool:
        s3, cf = self.client("s3"), self.client("cloudformation")
        s3.create_bucket(Bucket=self.bucket)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("bootstrap", "#!/bin/sh\nexit 1\n")
        for r in self.resources.values():
            if r["Type"] == "AWS::Lambda::Function" and "ZipFile" not in r["Properties"]["Code"]:
                r["Properties"]["Code"]["S3Bucket"] = self.bucket
                s3.put_object(Bucket=self.bucket, Key=r["Properties"]["Code"]["S3Key"], Body=buf.getvalue())
        body = json.dumps(outputs_for_moto(self.cfn), separators=(",", ":"))
        s3.put_object(Bucket=self.bucket, Key="template.json", Body=body)
        t = time.time()
        cf.create_stack(
            StackName=self.name,
            TemplateURL=f"https://{self.bucket}.s3.amazonaws.com/template.json",
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in PARAMETERS.items()],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
        )
        while True:
            self.stack = cf.describe_stacks(StackName=self.name)["Stacks"][0]
            if not self.stack["StackStatus"].endswith("_IN_PROGRESS") or time.time() - t > 30:
                break
            time.sleep(0.2)
        self.seconds = time.time() - t
        return check(
            self.stack["StackStatus"] == "CREATE_COMPLETE",
            f"stack {self.stack['StackStatus']}: {self.stack.get('StackStatusReason')}",
        )

    def delete(self) -> None:
        """On a shared moto, leave nothing behind (best effort)."""
        try:
            self.client("cloudformation").delete_stack(StackName=self.name)
            s3 = self.client("s3")
            for o in s3.list_objects_v2(Bucket=self.bucket).get("Contents", []):
                s3.delete_object(Bucket=self.bucket, Key=o["Key"])
            s3.delete_bucket(Bucket=self.bucket)
        except Exception as e:  # noqa: BLE001
            print(f"note: cleaning up {self.name} on {self.endpoint} failed: {e}")

    def of_type(self, t: str) -> list[str]:
        return [n for n, ty in sorted(self.types.items()) if ty == t and n in self.phys]

    def read_back(self) -> None:
        """Every resource came up, or its type is on NOT_EMULATED; ARNs and attributes read back."""
        for page in self.client("cloudformation").get_paginator("list_stack_resources").paginate(StackName=self.name):
            for r in page["StackResourceSummaries"]:
                if r.get("LogicalResourceId"):
                    self.phys[r["LogicalResourceId"]] = r.get("PhysicalResourceId", "")
                    check(r["ResourceStatus"] == "CREATE_COMPLETE", f"{r['LogicalResourceId']}: {r['ResourceStatus']}")
        for name, t in sorted(self.types.items()):
            if name not in self.phys:
                if check(t in NOT_EMULATED, f"{name} ({t}): not created by moto, and {t} is not on NOT_EMULATED"):
                    self.skipped.setdefault(t, []).append(name)
        self.notes = [f"{t} is emulated now: take it off NOT_EMULATED" for t in NOT_EMULATED
                      if any(self.types[n] == t for n in self.phys)]
        iam, sqs, ddbc = self.client("iam"), self.client("sqs"), self.client("dynamodb")
        lam, sfn, logs = self.client("lambda"), self.client("stepfunctions"), self.client("logs")
        for n in self.of_type("AWS::IAM::Role"):
            self.attrs[n] = iam.get_role(RoleName=self.phys[n])["Role"]
            self.arn[n] = self.attrs[n]["Arn"]
        for n in self.of_type("AWS::SQS::Queue"):
            # moto names a queue by its AWS URL; the emulator serves it under its own.
            url = self.endpoint + "/" + "/".join(self.phys[n].rsplit("/", 2)[-2:])
            self.attrs[n] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            self.arn[n] = self.attrs[n]["QueueArn"]
        for n in self.of_type("AWS::DynamoDB::Table"):
            self.attrs[n] = ddbc.describe_table(TableName=self.phys[n])["Table"]
            self.arn[n] = self.attrs[n]["TableArn"]
        for n in self.of_type("AWS::Lambda::Function"):
            self.attrs[n] = lam.get_function_configuration(FunctionName=self.phys[n])
            self.arn[n] = self.attrs[n]["FunctionArn"]
        for n in self.of_type("AWS::StepFunctions::StateMachine"):
            self.attrs[n] = sfn.describe_state_machine(stateMachineArn=self.phys[n])
            self.arn[n] = self.attrs[n]["stateMachineArn"]
        for n in self.of_type("AWS::Logs::LogGroup"):
            groups = logs.describe_log_groups(logGroupNamePrefix=self.phys[n])["logGroups"]
            g = next((g for g in groups if g["logGroupName"] == self.phys[n]), None)
            if check(g is not None, f"{n}: log group {self.phys[n]} not found"):
                self.attrs[n], self.arn[n] = g, g["arn"]
        for n in self.of_type("AWS::Events::EventBus"):
            if not self.phys[n]:  # moto leaves a named bus's physical id empty: found by the stack's prefix
                buses = self.client("events").list_event_buses(NamePrefix=self.name)["EventBuses"]
                self.phys[n] = buses[0]["Name"] if buses else ""
            self.attrs[n] = self.client("events").describe_event_bus(Name=self.phys[n])
            self.arn[n] = self.attrs[n]["Arn"]
        s3 = self.client("s3")
        for n in self.of_type("AWS::S3::Bucket"):
            enc = s3.get_bucket_encryption(Bucket=self.phys[n])["ServerSideEncryptionConfiguration"]
            self.attrs[n] = {"Encryption": enc}
            self.arn[n] = f"arn:aws:s3:::{self.phys[n]}"

    def resolve(self, v):
        """A template value as the stack resolved it; None when it cannot be resolved here."""
        if isinstance(v, dict) and "Ref" in v:
            ref = v["Ref"]
            if ref in self.params:
                p = self.params[ref]
                return ",".join(p) if isinstance(p, list) else p
            return self.phys.get(ref)
        if isinstance(v, dict) and "Fn::If" in v:
            # A condition of parameters compared with Fn::Equals: the branch the stack took.
            name, yes, no = v["Fn::If"]
            cond = self.cfn.get("Conditions", {}).get(name, {})
            if "Fn::Equals" not in cond:
                return None
            a, b = (self.resolve(x) for x in cond["Fn::Equals"])
            return self.resolve(yes if str(a) == str(b) else no)
        if isinstance(v, dict) and "Fn::Sub" in v and isinstance(v["Fn::Sub"], str):
            # Parameters only: anything else is not resolved here.
            text = v["Fn::Sub"]
            for name in re.findall(r"\$\{([A-Za-z0-9]+)\}", text):
                if name not in self.params:
                    return None
                text = text.replace("${" + name + "}", str(self.params[name]))
            return text
        if isinstance(v, dict) and "Fn::GetAtt" in v:
            ga = v["Fn::GetAtt"]
            ref, att = ga if isinstance(ga, list) else ga.split(".", 1)
            if att == "Arn":
                return self.arn.get(ref)
            if att == "StreamArn":
                return self.attrs.get(ref, {}).get("LatestStreamArn")
            return None
        return v

    def not_emulated(self, v) -> bool:
        return isinstance(v, dict) and any(v.get("Ref") in names for names in self.skipped.values())

    # ----- checks ---------------------------------------------------------------------------------
    def check_functions(self) -> None:
        fns = self.of_type("AWS::Lambda::Function")
        for n in fns:
            p, got = self.resources[n]["Properties"], self.attrs[n]
            check(got["Role"] == self.resolve(p["Role"]), f"{n}: role {got['Role']}")
            for k in ("Runtime", "Handler", "Timeout", "MemorySize", "Description"):
                if k in p:
                    check(got.get(k) == p[k], f"{n}: {k} {got.get(k)!r}, template {p[k]!r}")
            want_env = p.get("Environment", {}).get("Variables", {})
            got_env = got.get("Environment", {}).get("Variables", {})
            # moto leaves out a variable naming a resource it did not create.
            absent = {k for k, v in want_env.items() if self.not_emulated(v)}
            check(set(got_env) | absent == set(want_env), f"{n}: environment {sorted(got_env)}")
            for k, v in want_env.items():
                want = self.resolve(v)
                if want is not None and k not in absent:
                    # moto keeps a number parameter's value as a number.
                    check(str(got_env.get(k)) == str(want), f"{n}: {k}={got_env.get(k)!r}, want {want!r}")
        inline = [n for n in fns if "ZipFile" in self.resources[n]["Properties"]["Code"]]
        self.summary.append(f"functions   {len(fns)}: arm64*, tracing*; {len(fns) - len(inline)} Rust (provided.al2023, "
                            f"bootstrap), {len(inline)} inline ({', '.join(inline)}); role, timeout, memory, "
                            "environment (parameters and resources resolved) as in the template")

    def check_event_sources(self) -> None:
        lam = self.client("lambda")
        self.consumed, self.dlqs = set(), set()
        esms = [n for n, t in sorted(self.types.items()) if t == "AWS::Lambda::EventSourceMapping"]
        for n in esms:
            p = self.resources[n]["Properties"]
            fn, src = self.resolve(p["FunctionName"]), self.resolve(p["EventSourceArn"])
            found = [m for m in lam.list_event_source_mappings(FunctionName=fn)["EventSourceMappings"]
                     if m["EventSourceArn"] == src]
            if not check(len(found) == 1, f"{n}: no event source mapping from {src} to {fn}"):
                continue
            m = found[0]
            for k in ("BatchSize", "MaximumBatchingWindowInSeconds", "FunctionResponseTypes", "StartingPosition",
                      "MaximumRetryAttempts", "BisectBatchOnFunctionError", "FilterCriteria"):
                if k in p:
                    check(m.get(k) == p[k], f"{n}: {k} {m.get(k)!r}, template {p[k]!r}")
            dest = p.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
            if dest is not None:
                got = m.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
                check(got == self.resolve(dest), f"{n}: on-failure destination {got}")
                self.dlqs.add(self.resolve(dest))
            if src and src.startswith("arn:aws:sqs:"):
                self.consumed.add(src)
        self.summary.append(f"event sources {len(esms)}: batch size and window, partial batch responses, "
                            "filters, retries, on-failure destination as in the template")

    def check_queues(self) -> None:
        queues = self.of_type("AWS::SQS::Queue")
        for n in queues:
            p, got = self.resources[n].get("Properties", {}), self.attrs[n]
            for k in ("VisibilityTimeout", "MessageRetentionPeriod"):
                if k in p:
                    check(got.get(k) == str(p[k]), f"{n}: {k} {got.get(k)}, template {p[k]}")
            check(got.get("SqsManagedSseEnabled") == "true", f"{n}: not encrypted (SqsManagedSseEnabled)")
            if "RedrivePolicy" in p:
                rp, want = json.loads(got.get("RedrivePolicy", "{}")), p["RedrivePolicy"]
                target = self.resolve(want["deadLetterTargetArn"])
                check(rp.get("deadLetterTargetArn") == target, f"{n}: redrive to {rp.get('deadLetterTargetArn')}")
                check(int(rp.get("maxReceiveCount", 0)) == int(want["maxReceiveCount"]), f"{n}: maxReceiveCount")
                self.dlqs.add(target)
        for n in self.of_type("AWS::Lambda::Function"):  # a function's DLQ (asynchronous invocations)
            dlq = self.resources[n]["Properties"].get("DeadLetterConfig", {}).get("TargetArn")
            if dlq:
                # moto's CloudFormation drops it today: compared when it keeps it.
                got = self.attrs[n].get("DeadLetterConfig", {}).get("TargetArn")
                check(got in (None, self.resolve(dlq)), f"{n}: dead-letter queue {got}, want {self.resolve(dlq)}")
                check(dlq.get("Fn::GetAtt", [""])[0] in self.phys, f"{n}: dead-letter queue {dlq} not in the stack")
                self.dlqs.add(self.resolve(dlq))
        for r in self.resources.values():  # a pipe's DLQ (the pipe itself is not emulated)
            dl = r.get("Properties", {}).get("SourceParameters", {}).get("DynamoDBStreamParameters", {})
            if dl.get("DeadLetterConfig"):
                self.dlqs.add(self.resolve(dl["DeadLetterConfig"]["Arn"]))
        for n in queues:
            if self.arn[n] in self.consumed:
                check("RedrivePolicy" in self.attrs[n], f"{n}: consumed by a function, but without a DLQ")
            if self.arn[n] in self.dlqs:
                check(self.attrs[n].get("MessageRetentionPeriod") == "1209600", f"{n}: a DLQ keeping under 14 days")
        self.summary.append(f"queues      {len(queues)}: {len(self.consumed)} consumed by functions, each redriving "
                            f"to its DLQ; {len(self.dlqs)} DLQs (redrive, stream, pipe and asynchronous "
                            "invocation failures) keep 14 days; SSE")

    def check_tables(self) -> None:
        ddbc = self.client("dynamodb")
        for n in self.of_type("AWS::DynamoDB::Table"):
            p, got = self.resources[n]["Properties"], self.attrs[n]
            check(got["KeySchema"] == p["KeySchema"], f"{n}: key schema {got['KeySchema']}")
            defs = [sorted(map(json.dumps, x["AttributeDefinitions"])) for x in (got, p)]
            check(defs[0] == defs[1], f"{n}: attribute definitions differ")
            want_gsi = {g["IndexName"]: g for g in p.get("GlobalSecondaryIndexes", [])}
            got_gsi = {g["IndexName"]: g for g in got.get("GlobalSecondaryIndexes", [])}
            check(set(got_gsi) == set(want_gsi), f"{n}: GSIs {sorted(got_gsi)}, template {sorted(want_gsi)}")
            for g in set(want_gsi) & set(got_gsi):
                check(got_gsi[g]["KeySchema"] == want_gsi[g]["KeySchema"], f"{n}.{g}: key schema")
                check(got_gsi[g]["Projection"] == want_gsi[g]["Projection"], f"{n}.{g}: projection")
            check(got.get("BillingModeSummary", {}).get("BillingMode") == p.get("BillingMode"), f"{n}: billing mode")
            ss = got.get("StreamSpecification", {})
            want_view = p.get("StreamSpecification", {}).get("StreamViewType")
            check(ss.get("StreamEnabled") is True and ss.get("StreamViewType") == want_view, f"{n}: stream {ss}")
            check(got.get("DeletionProtectionEnabled") is (p.get("DeletionProtectionEnabled") is True),
                  f"{n}: deletion protection {got.get('DeletionProtectionEnabled')}")
            # TTL and PITR: on moto when it keeps them (it drops them from CloudFormation today).
            ttl = ddbc.describe_time_to_live(TableName=self.phys[n])["TimeToLiveDescription"]
            ttl_attr = p.get("TimeToLiveSpecification", {}).get("AttributeName")
            if ttl.get("TimeToLiveStatus") == "ENABLED":
                check(ttl.get("AttributeName") == ttl_attr, f"{n}: TTL on {ttl.get('AttributeName')}")
            pitr = ddbc.describe_continuous_backups(TableName=self.phys[n])["ContinuousBackupsDescription"]
            pitr_on = pitr.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus") == "ENABLED"
            projections = "/".join(sorted({g["Projection"]["ProjectionType"] for g in got_gsi.values()}))
            self.summary.append(
                f"table       {n}: keys, {len(got_gsi)} GSIs ({', '.join(sorted(got_gsi))}; {projections}), stream "
                f"{ss.get('StreamViewType')}, {p.get('BillingMode')}, deletion protection; TTL on {ttl_attr}"
                f"{'' if ttl.get('TimeToLiveStatus') == 'ENABLED' else '*'}, PITR{'' if pitr_on else '*'}, SSE*"
            )

    def check_state_machines(self) -> None:
        fn_arns = {self.arn[f] for f in self.of_type("AWS::Lambda::Function")}
        queue_urls = {self.phys[q] for q in self.of_type("AWS::SQS::Queue")}
        for n in self.of_type("AWS::StepFunctions::StateMachine"):
            p, got = self.resources[n]["Properties"], self.attrs[n]
            check(got["roleArn"] == self.resolve(p["RoleArn"]), f"{n}: role {got['roleArn']}")
            # moto stores the definition without applying DefinitionSubstitutions: applied here,
            # as CloudFormation does, with what the stack resolved.
            definition = got.get("definition", "")
            subs = {k: self.resolve(v) for k, v in p.get("DefinitionSubstitutions", {}).items()}
            used = set(re.findall(r"\$\{([A-Za-z0-9_]+)\}", definition))
            check(used <= set(subs), f"{n}: definition names {sorted(used - set(subs))} without a substitution")
            check(set(subs) <= used, f"{n}: substitutions {sorted(set(subs) - used)} the definition does not use")
            for k, v in subs.items():
                definition = definition.replace("${" + k + "}", str(v))
            states = json.loads(definition)["States"].values()
            tasks = {s["Resource"] for s in states
                     if s.get("Type") == "Task" and not s["Resource"].startswith("arn:aws:states:")}
            check(tasks <= fn_arns, f"{n}: tasks invoke {sorted(tasks - fn_arns)}, not this stack's functions")
            urls = {s["Parameters"]["QueueUrl"] for s in states if "QueueUrl" in s.get("Parameters", {})}
            check(urls <= queue_urls, f"{n}: sends to {sorted(urls - queue_urls)}, not this stack's queues")
            self.summary.append(f"state machine {n}: role; its {len(tasks)} task functions and {len(urls)} queue are "
                                "this stack's (substitutions*); EXPRESS*, error logging*, tracing*")

    def check_rest(self) -> None:
        groups = self.of_type("AWS::Logs::LogGroup")
        for n in groups:
            want = self.resources[n]["Properties"].get("RetentionInDays")
            got = self.attrs.get(n, {}).get("retentionInDays")
            check(got == want, f"{n}: retention {got}, want {want}")
        self.summary.append(f"log groups  {len(groups)}: retention as in the template")
        buses = self.of_type("AWS::Events::EventBus")
        if buses:
            self.summary.append(f"event buses {len(buses)}: {', '.join(buses)}")
        events = self.client("events")
        rules = self.of_type("AWS::Events::Rule")
        for n in rules:
            p = self.resources[n]["Properties"]
            bus_ref = p.get("EventBusName", {}).get("Fn::GetAtt", [""])[0]
            bus = self.phys.get(bus_ref, "default")
            name = self.phys[n].split("/")[-1]
            got = events.list_targets_by_rule(Rule=name, EventBusName=bus)["Targets"]
            for want in p.get("Targets", []):
                t = next((t for t in got if t["Id"] == want["Id"]), None)
                if check(t is not None, f"{n}: target {want['Id']} missing"):
                    check(t["Arn"] == self.resolve(want["Arn"]), f"{n}: target {t['Arn']}")
                    dlq = t.get("DeadLetterConfig", {}).get("Arn")
                    check(dlq is not None and dlq == self.resolve(want.get("DeadLetterConfig", {}).get("Arn")),
                          f"{n}: target {want['Id']} without its DLQ")
                    self.dlqs.add(dlq)
        for n, r in self.resources.items():
            if r["Type"] != "AWS::SQS::QueuePolicy":
                continue
            for st in r["Properties"]["PolicyDocument"]["Statement"]:
                check(st.get("Principal") == {"Service": "events.amazonaws.com"} and st.get("Action") == "sqs:SendMessage",
                      f"{n}: allows {st.get('Action')} to {st.get('Principal')}")
                src = st.get("Condition", {}).get("ArnEquals", {}).get("aws:SourceArn", {})
                check(src.get("Fn::GetAtt", [""])[0] in rules, f"{n}: not limited to the stack's rule")
        if rules:
            self.summary.append(f"event rules {len(rules)}: targets read back, each with its DLQ; queues take "
                                "messages from their rule only")
        perms = [n for n in self.phys if self.types.get(n) == "AWS::Lambda::Permission"]
        self.summary.append(f"permissions {len(perms)}: the API's routes may invoke their functions")
        outputs = {o["OutputKey"] for o in self.stack.get("Outputs", [])}
        check(outputs == set(self.cfn.get("Outputs", {})), f"outputs {sorted(outputs)}")

    # ----- least privilege ------------------------------------------------------------------------
    def check_roles(self) -> None:
        from moto.iam.aws_managed_policies import aws_managed_policies_data

        managed_docs = json.loads(aws_managed_policies_data)
        iam = self.client("iam")
        fns = self.of_type("AWS::Lambda::Function")
        fn_of_role = {self.resources[f]["Properties"]["Role"]["Fn::GetAtt"][0]: f for f in fns}
        roles = self.of_type("AWS::IAM::Role")
        for f in EXPECTED:
            check(f in fns, f"EXPECTED names {f}, not a function of the template")
        for r in EXPECTED_ROLES:
            check(r in roles, f"EXPECTED_ROLES names {r}, not a role of the template")
        for r in roles:
            key = fn_of_role.get(r, r)
            want = EXPECTED.get(key, EXPECTED_ROLES.get(key))
            check(want is not None, f"{r}: a role without expected actions in deploy_test.py")
            p = self.resources[r]["Properties"]
            check(policy_doc(self.attrs[r]["AssumeRolePolicyDocument"]) == p["AssumeRolePolicyDocument"],
                  f"{r}: trust policy differs from the template")
            names = iam.list_role_policies(RoleName=self.phys[r])["PolicyNames"]
            check(len(names) == len(p.get("Policies", [])), f"{r}: {len(names)} inline policies on moto")
            docs = [(pn, policy_doc(iam.get_role_policy(RoleName=self.phys[r], PolicyName=pn)["PolicyDocument"]))
                    for pn in names]
            managed = set(p.get("ManagedPolicyArns", []))
            attached = iam.list_attached_role_policies(RoleName=self.phys[r])["AttachedPolicies"]
            managed |= {a["PolicyArn"] for a in attached}
            for m in sorted(managed):
                doc = managed_docs.get(m.rsplit("/", 1)[-1], {}).get("Document")
                if check(doc is not None, f"{r}: {m} is not an AWS managed policy moto knows"):
                    docs.append((m.rsplit("/", 1)[-1], doc))
            granted: set[str] = set()
            sends: set[str] = set()
            for pn, doc in docs:
                for s in as_list(doc.get("Statement", [])):
                    if s.get("Effect") != "Allow":
                        continue
                    where = f"{r} ({pn})"
                    check("NotAction" not in s and "NotResource" not in s, f"{where}: NotAction or NotResource")
                    actions = set(as_list(s.get("Action", [])))
                    for a in sorted(actions):
                        check("*" not in a, f"{where}: wildcard action {a}")
                    granted |= actions
                    for res in as_list(s.get("Resource", [])):
                        self.grants.setdefault(key, []).append((actions, res))
                        self.check_resource(where, res, actions, s.get("Condition", {}))
                        if "sqs:SendMessage" in actions:
                            sends.add(res)
            self.granted[key] = granted
            if key in fns:
                self.check_sends(key, sends)
            if want is not None:
                check(not granted - want, f"{key}: grants more than it needs: {sorted(granted - want)}")
                check(not want - granted, f"{key}: lacks what its code calls: {sorted(want - granted)}")

    def check_sends(self, fn: str, sends: set[str]) -> None:
        """A function sends only to the queues its environment names and its on-failure ones."""
        env = self.resources[fn]["Properties"].get("Environment", {}).get("Variables", {})
        mine = {self.arn.get(v["Ref"]) for v in env.values() if isinstance(v, dict) and v.get("Ref") in self.arn}
        dlq = self.resources[fn]["Properties"].get("DeadLetterConfig", {}).get("TargetArn")
        if dlq:  # asynchronous invocations that failed every retry (S3 events)
            mine.add(self.resolve(dlq))
        for n, r in self.resources.items():
            p = r.get("Properties", {})
            if r["Type"] == "AWS::Lambda::EventSourceMapping" and p.get("FunctionName") == {"Ref": fn}:
                dest = p.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
                if dest:
                    mine.add(self.resolve(dest))
        check(sends <= mine, f"{fn}: may send to {sorted(sends - mine)}, which it is not configured with")

    def check_resource(self, where: str, res: str, actions: set[str], condition: dict) -> None:
        if res == "*":
            for a in sorted(actions - set(RESOURCE_STAR)):
                check(False, f"{where}: {a} on Resource '*' (not on RESOURCE_STAR)")
            return
        stack_arns = set(self.arn.values()) | {self.attrs[n].get("LatestStreamArn")
                                                for n in self.of_type("AWS::DynamoDB::Table")}
        if res in stack_arns:
            return
        account = next(iter(self.arn.values()), "arn:aws:iam::123456789012:x").split(":")[4]
        tables = [self.arn[n] for n in self.of_type("AWS::DynamoDB::Table")] or ["-"]
        buckets = [self.arn[n] for n in self.of_type("AWS::S3::Bucket")] or ["-"]
        for action, pattern, key in RESOURCE_PATTERNS:
            prefix = action[:-1] if action.endswith("*") else None
            if not all(a == action or (prefix and a.startswith(prefix)) for a in actions):
                continue
            for t, b in ((t, b) for t in tables for b in buckets):
                want = pattern.format(region=REGION, account=account, table_arn=re.escape(t), bucket_arn=re.escape(b))
                if re.fullmatch(want, res):
                    if key:
                        check(any(key in block for block in condition.values()), f"{where}: {res} without {key}")
                    return
        check(False, f"{where}: {sorted(actions)} on {res}, neither this stack's nor on RESOURCE_PATTERNS")


def short(actions: set[str]) -> str:
    """Actions grouped by service, the usual bundles named."""
    out, rest = [], set(actions)
    bundles = (("logs", LOGS), ("xray", XRAY), ("sqs-poll", SQS_POLL), ("stream-poll", STREAM_POLL),
               ("log-delivery", SFN_LOG_DELIVERY))
    for label, bundle in bundles:
        if bundle <= rest:
            out.append(f"{label}({len(bundle)})")
            rest -= bundle
    by_service: dict[str, list[str]] = {}
    for a in sorted(rest):
        svc, _, name = a.partition(":")
        by_service.setdefault(svc, []).append(name)
    return " ".join([f"{s}:{','.join(n)}" for s, n in sorted(by_service.items())] + out)


def main() -> int:
    t0 = time.time()
    cfn = translate()
    check_translated(cfn["Resources"])
    t_translate = time.time() - t0
    endpoint, proc = start_moto()
    stack = Stack(endpoint, cfn)
    try:
        if stack.create():
            stack.read_back()
            stack.check_functions()
            stack.check_event_sources()
            stack.check_queues()
            stack.check_tables()
            stack.check_state_machines()
            stack.check_rest()
            stack.check_roles()
            # The agent console and inbound mail (dev/deploy/console_checks.py).
            console_checks.check_sign_in(stack, check)
            console_checks.check_hosting(stack, check)
            console_checks.check_inbound_mail(stack, check, PARAMETERS["SupportAddress"])
            console_checks.check_publish(stack, check)
    finally:
        if proc is None:
            stack.delete()
        else:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()

    print(f"deploy test: infra/template.yaml -> {len(cfn['Resources'])} CloudFormation resources "
          f"(aws-sam-translator, {t_translate:.1f} s); stack {stack.name} on moto in {stack.seconds:.1f} s")
    if stack.skipped:
        print("  not emulated (NOT_EMULATED): "
              + ", ".join(f"{t.split('::', 1)[1]} x{len(n)}" for t, n in sorted(stack.skipped.items())))
    for line in stack.summary:
        print("  " + line)
    print("  * moto's CloudFormation drops it: checked in the translated template")
    if stack.granted:
        print("least privilege (granted = expected; Resource '*' only for RESOURCE_STAR):")
        width = max(map(len, stack.granted))
        for k in sorted(stack.granted, key=lambda k: (k not in EXPECTED, k)):
            print(f"  {k:<{width}}  {short(stack.granted[k])}")
    for n in getattr(stack, "notes", []):
        print("note: " + n)
    took = time.time() - t0
    if FAILURES:
        print(f"\nFAILED: {len(FAILURES)} problem(s) ({took:.1f} s):")
        for f in FAILURES:
            print("  - " + f)
        return 1
    print(f"ok: deploy test passed in {took:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
