"""Publishes the agent console to a deployed stack (docs/decisions/0012-agent-console.md).

1. Uploads every file of console/ to the stack's console bucket under console/ (the path the
   distribution serves), each with its content type (ES modules must be text/javascript or the
   browser refuses them) and a cache policy: browsers revalidate every file (max-age=0, a 304
   from the edge), CloudFront keeps them a day (s-maxage) until this script invalidates them.
2. Writes console/config.json from the stack's ConsoleConfig output (Cognito domain, the
   console's app client, the API, the console's URL as the redirect), never cached.
3. Deletes what an earlier upload left under console/ that console/ no longer has.
4. Invalidates /console/* on the distribution, so the new files are served at once.
5. Prints the console URL, how to create the first staff user, and, unless the stack's SES
   receipt rule set is already the active one, the command that activates it (CloudFormation
   cannot; one rule set is active per account and region).

  ./dev/deploy.sh aws [sam deploy options]      # sam deploy, then this
  ./dev/deploy.sh console [--stack-name NAME] [--region REGION] [--profile PROFILE]

The stack name and region default to samconfig.toml (what `sam deploy --guided` saved). The
deploy test (dev/deploy/deploy_test.py) runs `publish` against the stack it creates on moto.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONSOLE_DIR = ROOT / "console"
PREFIX = "console/"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".webp": "image/webp",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}
# Browsers revalidate (a 304 from the edge); the edge keeps a file for a day or until the
# invalidation after an upload.
ASSET_CACHE = "public, max-age=0, s-maxage=86400, must-revalidate"
CONFIG_CACHE = "no-cache, no-store"


def console_files(root: Path = CONSOLE_DIR) -> list[tuple[str, Path, str]]:
    """(key, path, content type) for every file of console/, hidden files and config.json left
    out (the stack's config.json is generated). An unknown extension stops the upload."""
    out = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if any(part.startswith(".") for part in rel.split("/")) or rel == "config.json":
            continue
        ctype = CONTENT_TYPES.get(path.suffix.lower())
        if ctype is None:
            raise SystemExit(f"publish: console/{rel}: no content type for {path.suffix!r} (add it to CONTENT_TYPES)")
        out.append((PREFIX + rel, path, ctype))
    if not any(k == PREFIX + "index.html" for k, _, _ in out):
        raise SystemExit(f"publish: {root}/index.html is missing")
    return out


def console_config(outputs: dict) -> dict:
    """The page's config.json: the stack's ConsoleConfig output, checked."""
    raw = outputs.get("ConsoleConfig")
    if not raw:
        raise SystemExit("publish: the stack has no ConsoleConfig output (deploy infra/template.yaml first)")
    cfg = json.loads(raw)
    missing = [k for k in ("auth", "domain", "clientId", "apiBase", "redirectUri") if not cfg.get(k)]
    if missing:
        raise SystemExit(f"publish: ConsoleConfig lacks {', '.join(missing)}")
    return cfg


def publish(outputs: dict, s3, cloudfront, root: Path = CONSOLE_DIR, log=print) -> dict:
    """Uploads console/ and config.json, deletes stale files, invalidates; returns what it did."""
    bucket, distribution = outputs["ConsoleBucketName"], outputs["ConsoleDistributionId"]
    files = console_files(root)
    cfg = console_config(outputs)
    for key, path, ctype in files:
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType=ctype, CacheControl=ASSET_CACHE)
    s3.put_object(
        Bucket=bucket,
        Key=PREFIX + "config.json",
        Body=(json.dumps(cfg, indent=2) + "\n").encode(),
        ContentType=CONTENT_TYPES[".json"],
        CacheControl=CONFIG_CACHE,
    )
    keep = {k for k, _, _ in files} | {PREFIX + "config.json"}
    stale = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=PREFIX):
        stale += [o["Key"] for o in page.get("Contents", []) if o["Key"] not in keep]
    for i in range(0, len(stale), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in stale[i : i + 1000]], "Quiet": True})
    inv = cloudfront.create_invalidation(
        DistributionId=distribution,
        InvalidationBatch={
            "Paths": {"Quantity": 1, "Items": ["/" + PREFIX + "*"]},
            "CallerReference": f"oms-console-{time.time_ns()}",
        },
    )["Invalidation"]["Id"]
    log(f"console: {len(files)} files and config.json to s3://{bucket}/{PREFIX}"
        f"{f', {len(stale)} stale removed' if stale else ''}; invalidation {inv} of /{PREFIX}* on {distribution}")
    return {"uploaded": [k for k, _, _ in files], "config": cfg, "deleted": stale, "invalidation": inv}


def receipt_rule_hint(outputs: dict, ses, region: str) -> str:
    """What to do about the stack's receipt rule set: nothing when it is active, else the command."""
    name = outputs.get("InboundRuleSetName")
    if not name:
        return ""
    cmd = f"aws ses set-active-receipt-rule-set --rule-set-name {name} --region {region}"
    try:
        active = ses.describe_active_receipt_rule_set().get("Metadata", {}).get("Name")
    except Exception as e:  # noqa: BLE001  (a region without SES receiving, missing permission)
        return f"inbound mail: could not read the active receipt rule set ({e}); to receive support mail run once:\n  {cmd}"
    if active == name:
        return f"inbound mail: receipt rule set {name} is active"
    other = f" (it replaces the active set {active})" if active else ""
    return f"inbound mail: make the receipt rule set active once{other}:\n  {cmd}"


def next_steps(outputs: dict, region: str) -> str:
    pool = outputs.get("UserPoolId", "<UserPoolId>")
    return "\n".join([
        f"console: {outputs.get('ConsoleUrl', '?')}",
        "first staff user (the pool is admin-create-only; the group gives the scope):",
        f"  aws cognito-idp admin-create-user --region {region} --user-pool-id {pool} --username ann@example.com \\",
        "    --user-attributes Name=email,Value=ann@example.com Name=email_verified,Value=true",
        f"  aws cognito-idp admin-add-user-to-group --region {region} --user-pool-id {pool} "
        "--username ann@example.com --group-name agent   # or supervisor",
    ])


def samconfig() -> dict:
    """stack_name and region from samconfig.toml (`sam deploy --guided` writes it), if any."""
    try:
        import tomllib
    except ImportError:  # Python 3.10: give --stack-name and --region
        return {}
    for path in (ROOT / "samconfig.toml", ROOT / ".aws-sam" / "build" / "samconfig.toml"):
        if path.is_file():
            doc = tomllib.loads(path.read_text())
            params = doc.get(os.environ.get("SAM_CONFIG_ENV", "default"), {}).get("deploy", {}).get("parameters", {})
            if params.get("stack_name"):
                return {"stack_name": params["stack_name"], "region": params.get("region")}
    return {}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description="Publish console/ to a deployed OMS stack.")
    ap.add_argument("--stack-name")
    ap.add_argument("--region")
    ap.add_argument("--profile")
    args = ap.parse_args(argv)
    saved = samconfig()
    stack = args.stack_name or os.environ.get("STACK_NAME") or saved.get("stack_name")
    if not stack:
        print("publish: no stack name: give --stack-name (or deploy with `sam deploy --guided` first)", file=sys.stderr)
        return 2
    import boto3

    session = boto3.Session(profile_name=args.profile, region_name=args.region or saved.get("region"))
    region = session.region_name
    if not region:
        print("publish: no region: give --region or set AWS_REGION", file=sys.stderr)
        return 2
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        described = session.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    except (BotoCoreError, ClientError) as e:
        print(f"publish: stack {stack} in {region}: {e}", file=sys.stderr)
        return 1
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    publish(outputs, session.client("s3"), session.client("cloudfront"))
    print(next_steps(outputs, region))
    hint = receipt_rule_hint(outputs, session.client("ses"), region)
    if hint:
        print(hint)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
