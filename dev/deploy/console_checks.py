"""Deploy test, part 2: the agent console (staff sign-in, hosting) and inbound support mail.

moto's CloudFormation creates neither Cognito, CloudFront, S3 bucket policies nor SES receipt
rules (deploy_test.NOT_EMULATED), so what they connect to is checked here in the translated
template, against what moto did create (the buckets, the functions, their roles):

- sign-in: an admin-create-only pool with a strong password policy and MFA; its scopes are the
  API's (shared/src/app/access.rs); the console's client is public, authorization code only,
  its callback the console's URL; the API's JWT authorizer trusts this pool and that client
  when JwtIssuer is empty, and its CORS origin is the console; the pre-token-generation trigger
  (its inline code run here on sample events) keeps a scope only for users in its group.
- hosting: the distribution reads the private console bucket through an Origin Access Control,
  HTTPS only, and the bucket policy lets only that distribution read; the paths function (run
  with node) sends `/` to `/console/` and serves index.html for `/console/`.
- inbound mail: the SES rule writes the support address's mail under inbound/ of the bucket
  whose notification invokes InboundMailFunction for that prefix, the one the function may read
  (the grant read back from moto's IAM names the bucket moto created); SES may write only there,
  for this rule; the bucket expires mail.
- publishing: dev/deploy/publish_console.py run against the emulated stack: every console file
  in the bucket with its content type, config.json from the stack's outputs, stale files gone,
  an invalidation created.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def getatt(v) -> tuple[str, str] | None:
    if isinstance(v, dict) and "Fn::GetAtt" in v:
        ga = v["Fn::GetAtt"]
        name, att = ga if isinstance(ga, list) else ga.split(".", 1)
        return name, att
    return None


def names(v) -> set[str]:
    """Logical names a value refers to (Ref, Fn::GetAtt, ${Name} and ${Name.Att} in Fn::Sub)."""
    out: set[str] = set()
    if isinstance(v, dict):
        for k, x in v.items():
            if k == "Ref" and isinstance(x, str):
                out.add(x)
            elif k == "Fn::GetAtt":
                out.add(getatt(v)[0])
            elif k == "Fn::Sub":
                text = x if isinstance(x, str) else x[0]
                out |= {m.split(".")[0] for m in re.findall(r"\$\{([A-Za-z0-9.:]+)\}", text)}
                out |= names(x[1]) if isinstance(x, list) else set()
            else:
                out |= names(x)
    elif isinstance(v, list):
        for x in v:
            out |= names(x)
    return out


def statements(policy: dict) -> list[dict]:
    st = policy["Properties"]["PolicyDocument"]["Statement"]
    return st if isinstance(st, list) else [st]


def one(st, t: str, check) -> tuple[str, dict] | tuple[None, None]:
    found = [(n, r) for n, r in st.resources.items() if r["Type"] == t]
    if not check(len(found) == 1, f"{t}: {len(found)} in the template, want 1"):
        return None, None
    return found[0]


def policy_for(st, bucket: str) -> list[dict]:
    return [statements(r) for r in st.resources.values()
            if r["Type"] == "AWS::S3::BucketPolicy" and r["Properties"]["Bucket"] == {"Ref": bucket}]


def check_private_bucket(st, name: str, check) -> None:
    p = st.resources[name]["Properties"]
    pab = p.get("PublicAccessBlockConfiguration", {})
    check(all(pab.get(k) is True for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls",
                                           "RestrictPublicBuckets")), f"{name}: public access not blocked")
    rules = st.attrs.get(name, {}).get("Encryption", {}).get("Rules", [])
    check(any(r.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm") in ("AES256", "aws:kms")
              for r in rules), f"{name}: no default encryption on moto")
    denies = [s for stmts in policy_for(st, name) for s in stmts if s["Effect"] == "Deny"]
    check(any(s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false" for s in denies),
          f"{name}: its policy does not refuse requests without TLS")


# ----- staff sign-in ---------------------------------------------------------------------------
def api_scopes() -> set[str]:
    """The staff scopes the API reads (shared/src/app/access.rs)."""
    text = (ROOT / "shared" / "src" / "app" / "access.rs").read_text()
    # Role::scope's arms and ADMIN_SCOPE (not the scopes its tests refuse).
    return set(re.findall(r'(?:=>|ADMIN_SCOPE: &str =) "oms/([a-z]+)"', text))


def run_trigger(code: str, groups, scopes: list[str]) -> list[str]:
    """The pre-token-generation (V2) trigger's suppressed scopes for a user in `groups`."""
    env: dict = {}
    exec(compile(code, "StaffScopesFunction", "exec"), env)  # noqa: S102  (the template's own code)
    request = {"userAttributes": {"sub": "u-1"}, "scopes": scopes}
    if groups is not None:
        request["groupConfiguration"] = {"groupsToOverride": groups, "iamRolesToOverride": [], "preferredRole": None}
    event = {"version": "2", "triggerSource": "TokenGeneration_HostedAuth", "request": request, "response": {}}
    out = env["handler"](event, None)
    return out["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]["scopesToSuppress"]


def check_sign_in(st, check) -> None:
    pool, p = one(st, "AWS::Cognito::UserPool", check)
    if not pool:
        return
    props = p["Properties"]
    check(props.get("AdminCreateUserConfig", {}).get("AllowAdminCreateUserOnly") is True, f"{pool}: self sign-up allowed")
    pw = props.get("Policies", {}).get("PasswordPolicy", {})
    check(pw.get("MinimumLength", 0) >= 12 and all(pw.get(k) is True for k in (
        "RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols")), f"{pool}: weak password policy")
    check(props.get("MfaConfiguration") in ("OPTIONAL", "ON") and props.get("EnabledMfas"), f"{pool}: no MFA")
    check(p.get("DeletionPolicy") == "Retain", f"{pool}: DeletionPolicy is not Retain (the API's issuer)")

    # Scopes: the API's; groups name scopes.
    _, rs = one(st, "AWS::Cognito::UserPoolResourceServer", check)
    scopes = {s["ScopeName"] for s in rs["Properties"]["Scopes"]} if rs else set()
    check(rs is not None and rs["Properties"]["Identifier"] == "oms", "resource server: identifier is not oms")
    api = api_scopes()
    check(len(api) >= 6 and scopes == api, f"resource server scopes {sorted(scopes)}, the API's (access.rs) {sorted(api)}")
    groups = [r["Properties"]["GroupName"] for r in st.resources.values() if r["Type"] == "AWS::Cognito::UserPoolGroup"]
    check(set(groups) <= scopes, f"groups {sorted(set(groups) - scopes)} name no scope")

    # The console's client: public, code flow only, the console as callback, the API's scopes.
    client, c = one(st, "AWS::Cognito::UserPoolClient", check)
    if client:
        cp = c["Properties"]
        check(not cp.get("GenerateSecret"), f"{client}: has a secret (a page cannot keep one)")
        check(cp.get("AllowedOAuthFlows") == ["code"] and cp.get("AllowedOAuthFlowsUserPoolClient") is True,
              f"{client}: flows {cp.get('AllowedOAuthFlows')}, want code only")
        allowed = set(cp.get("AllowedOAuthScopes", []))
        check(allowed - {"openid"} <= {f"oms/{s}" for s in scopes} and "oms/agent" in allowed,
              f"{client}: scopes {sorted(allowed)}")
        check(not {"ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH"} & set(cp.get("ExplicitAuthFlows", [])),
              f"{client}: password flows allowed outside the hosted UI")
        urls = cp.get("CallbackURLs", []) + cp.get("LogoutURLs", [])
        console_url = st.cfn.get("Outputs", {}).get("ConsoleUrl", {}).get("Value")
        check(len(urls) == 2 and all(u == console_url for u in urls),
              f"{client}: callback/logout {urls}, want the console URL {console_url}")
        rs_name = next((n for n, r in st.resources.items() if r is rs), None)
        check(rs_name in as_list(c.get("DependsOn", [])), f"{client}: created before its scopes ({rs_name})")

    # The trigger: V2 (access token scopes), this stack's function, Cognito may invoke it.
    tg = props.get("LambdaConfig", {}).get("PreTokenGenerationConfig", {})
    fn = (getatt(tg.get("LambdaArn")) or ("", ""))[0]
    check(tg.get("LambdaVersion") == "V2_0" and fn in st.phys, f"{pool}: pre-token-generation V2 trigger {tg}")
    check(props.get("UserPoolTier") in ("ESSENTIALS", "PLUS"), f"{pool}: access token customization needs Essentials")
    perms = [n for n, r in st.resources.items() if r["Type"] == "AWS::Lambda::Permission"
             and r["Properties"].get("Principal") == "cognito-idp.amazonaws.com"
             and fn in names(r["Properties"]["FunctionName"]) and pool in names(r["Properties"].get("SourceArn"))]
    check(len(perms) == 1 and perms[0] in st.phys, f"{fn}: no permission (created on moto) for {pool} to invoke it")
    if fn in st.resources:
        code = st.resources[fn]["Properties"]["Code"].get("ZipFile", "")
        asked = ["openid", "oms/agent", "oms/supervisor"]
        cases = [(["agent"], ["oms/supervisor"]), (["supervisor", "agent"], []), (["supervisor"], ["oms/agent"]),
                 ([], ["oms/agent", "oms/supervisor"]), (None, ["oms/agent", "oms/supervisor"]),
                 (["finance"], ["oms/agent", "oms/supervisor"])]
        for g, want in cases:
            try:
                got = run_trigger(code, g, asked)
            except Exception as e:  # noqa: BLE001
                got = f"raised {e!r}"
            check(got == want, f"{fn}: groups {g} asking {asked}: suppresses {got}, want {want}")
        st.summary.append(f"sign-in     {pool}: admin-create-only, password policy, MFA; scopes = access.rs; "
                          f"client {client}: public, code + PKCE, callback = console URL; trigger {fn} on "
                          f"{len(cases)} sample users*")

    # The API trusts this pool and the console's client when JwtIssuer is empty; CORS for the console.
    check(st.cfn.get("Parameters", {}).get("JwtIssuer", {}).get("Default") == "", "JwtIssuer: default is not empty")
    cond = st.cfn.get("Conditions", {}).get("UseStaffPoolIssuer")
    check(cond == {"Fn::Equals": [{"Ref": "JwtIssuer"}, ""]}, f"UseStaffPoolIssuer: {cond}")
    apis = [r for r in st.resources.values() if r["Type"] == "AWS::ApiGatewayV2::Api"]
    for a in apis:
        body = a["Properties"]["Body"]
        for scheme in body.get("components", {}).get("securitySchemes", {}).values():
            jwt = scheme.get("x-amazon-apigateway-authorizer", {}).get("jwtConfiguration", {})
            iss, aud = jwt.get("issuer", {}).get("Fn::If"), jwt.get("audience", {}).get("Fn::If")
            check(bool(iss) and iss[0] == "UseStaffPoolIssuer" and pool in names(iss[1])
                  and iss[2] == {"Ref": "JwtIssuer"}, f"authorizer issuer {jwt.get('issuer')}")
            check(bool(aud) and aud[0] == "UseStaffPoolIssuer" and {client, "JwtAudience"} <= names(aud[1])
                  and aud[2] == {"Ref": "JwtAudience"}, f"authorizer audience {jwt.get('audience')}")
        cors = body.get("x-amazon-apigateway-cors", {})
        check(cors.get("allowOrigins") == [{"Fn::Sub": "https://${ConsoleDistribution.DomainName}"}],
              f"CORS origins {cors.get('allowOrigins')}, want the console's")
        sent = console_request_headers()
        allowed = {h.lower() for h in cors.get("allowHeaders", [])}
        check(bool(sent) and sent <= allowed, f"CORS allows {sorted(allowed)}; the console sends {sorted(sent)}")
        check("etag" in {h.lower() for h in cors.get("exposeHeaders", [])}, "CORS does not expose ETag (If-Match)")
    st.summary.append(f"API         JwtIssuer empty: this pool's issuer, audiences + {client}; CORS: the console's "
                      f"origin, the headers console/api.js sends, ETag exposed*")


def as_list(v) -> list:
    return v if isinstance(v, list) else [v]


def console_request_headers() -> set[str]:
    """Headers console/api.js sets that need CORS permission (not CORS-safelisted)."""
    text = (ROOT / "console" / "api.js").read_text()
    found = {a or b for a, b in re.findall(r'headers(?:\.([a-z]+)|\["([a-z-]+)"\])\s*=[^=]', text)}
    literal = re.search(r"const headers\s*=\s*\{([^}]*)\}", text)
    if literal:
        found |= set(re.findall(r'"?([a-z][a-z-]*)"?\s*:', literal.group(1)))
    return {h.lower() for h in found} - {"accept", "accept-language", "content-language"}


# ----- console hosting -------------------------------------------------------------------------
def run_paths_function(code: str, uris: list[str]) -> list:
    """The CloudFront function on each URI (node): the request's new uri, or the redirect."""
    harness = code + "\nconsole.log(JSON.stringify(" + json.dumps(uris) + ".map(function (u) {\n" + \
        "  var r = handler({ request: { uri: u, method: 'GET', querystring: {}, headers: {} } });\n" + \
        "  return r.statusCode ? [r.statusCode, r.headers.location.value] : r.uri; })));\n"
    out = subprocess.run(["node", "-e", harness], capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip())
    return json.loads(out.stdout)


def check_hosting(st, check) -> None:
    dist, d = one(st, "AWS::CloudFront::Distribution", check)
    oac, o = one(st, "AWS::CloudFront::OriginAccessControl", check)
    if not dist or not oac:
        return
    cfg = d["Properties"]["DistributionConfig"]
    origins = cfg.get("Origins", [])
    check(len(origins) == 1, f"{dist}: {len(origins)} origins, want the console bucket only")
    bucket = (getatt(origins[0].get("DomainName")) or ("", ""))[0] if origins else ""
    check(bucket in st.phys and st.types.get(bucket) == "AWS::S3::Bucket", f"{dist}: origin {bucket} is not a bucket here")
    check(origins and getatt(origins[0].get("OriginAccessControlId")) == (oac, "Id")
          and origins[0].get("S3OriginConfig", {}).get("OriginAccessIdentity") == "", f"{dist}: origin without the OAC")
    oc = o["Properties"]["OriginAccessControlConfig"]
    check(oc.get("SigningBehavior") == "always" and oc.get("OriginAccessControlOriginType") == "s3", f"{oac}: {oc}")
    behaviors = [cfg["DefaultCacheBehavior"]] + cfg.get("CacheBehaviors", [])
    for b in behaviors:
        where = f"{dist} {b.get('PathPattern', 'default')}"
        check(b.get("ViewerProtocolPolicy") in ("redirect-to-https", "https-only"), f"{where}: serves plain HTTP")
        check(set(b.get("AllowedMethods", [])) <= {"GET", "HEAD", "OPTIONS"}, f"{where}: allows writes")
        check(b.get("TargetOriginId") == origins[0].get("Id"), f"{where}: another origin")
    check(any(b.get("PathPattern") == "/console/*" for b in behaviors), f"{dist}: no /console/* behavior")
    check(bool(cfg.get("DefaultRootObject")), f"{dist}: no default root object")
    # Only this distribution reads the bucket.
    allows = [s for stmts in policy_for(st, bucket) for s in stmts if s["Effect"] == "Allow"]
    check(len(allows) == 1, f"{bucket}: {len(allows)} Allow statements, want the distribution's only")
    for s in allows:
        check(s.get("Principal") == {"Service": "cloudfront.amazonaws.com"} and s.get("Action") == "s3:GetObject",
              f"{bucket}: allows {s.get('Action')} to {s.get('Principal')}")
        arn = s.get("Condition", {}).get("StringEquals", {}).get("AWS:SourceArn")
        check(dist in names(arn) and ":distribution/" in json.dumps(arn), f"{bucket}: read not limited to {dist}")
    check_private_bucket(st, bucket, check)
    st.console_bucket, st.console_distribution = bucket, dist
    # The paths function.
    fns = [(n, r) for n, r in st.resources.items() if r["Type"] == "AWS::CloudFront::Function"]
    uris = ["/", "/index.html", "/console", "/console/", "/console/app.js", "/console/screens/order.js"]
    want = [[302, "/console/"]] * 3 + ["/console/index.html", "/console/app.js", "/console/screens/order.js"]
    for n, r in fns:
        try:
            got = run_paths_function(r["Properties"]["FunctionCode"], uris)
        except (OSError, RuntimeError, ValueError) as e:
            got = f"failed: {e}"
        check(got == want, f"{n}: {uris} -> {got}, want {want}")
        check(any(getatt(a.get("FunctionARN")) == (n, "FunctionMetadata.FunctionARN")
                  for b in behaviors for a in b.get("FunctionAssociations", [])), f"{n}: not associated")
    st.summary.append(f"console     {dist}: the private bucket {bucket} (moto: SSE) through {oac}, HTTPS, GET/HEAD; "
                      f"policy: only {dist} reads; paths function on {len(uris)} paths (node)*")


# ----- inbound mail --------------------------------------------------------------------------------
def check_inbound_mail(st, check, address: str) -> None:
    rule, r = one(st, "AWS::SES::ReceiptRule", check)
    if not rule:
        return
    rp = r["Properties"]["Rule"]
    check(rp.get("Recipients") == [{"Ref": "SupportAddress"}], f"{rule}: recipients {rp.get('Recipients')}")
    check(rp.get("Enabled") is True and rp.get("ScanEnabled") is True, f"{rule}: not enabled or not scanning")
    s3a = [a["S3Action"] for a in rp.get("Actions", []) if "S3Action" in a]
    check(len(s3a) == 1, f"{rule}: {len(s3a)} S3 actions")
    if not s3a:
        return
    bucket, prefix = s3a[0]["BucketName"].get("Ref"), s3a[0].get("ObjectKeyPrefix", "")
    check(prefix.endswith("/") and bucket in st.phys, f"{rule}: writes to {bucket}/{prefix}")
    check("InboundMailBucketPolicy" in as_list(r.get("DependsOn", [])), f"{rule}: created before SES may write")
    rule_set = r["Properties"]["RuleSetName"].get("Ref")
    # SES may put objects only under the prefix, only for this rule of this account.
    allows = [s for stmts in policy_for(st, bucket) for s in stmts if s["Effect"] == "Allow"]
    check(len(allows) == 1, f"{bucket}: {len(allows)} Allow statements, want SES's only")
    for s in allows:
        check(s.get("Principal") == {"Service": "ses.amazonaws.com"} and s.get("Action") == "s3:PutObject",
              f"{bucket}: allows {s.get('Action')} to {s.get('Principal')}")
        res = json.dumps(s.get("Resource"))
        check(f"/{prefix}*" in res, f"{bucket}: SES may write {res}, not only {prefix}")
        cond = s.get("Condition", {}).get("StringEquals", {})
        src = json.dumps(cond.get("aws:SourceArn"))
        check(cond.get("aws:SourceAccount") == {"Ref": "AWS::AccountId"}, f"{bucket}: no aws:SourceAccount condition")
        check(rule_set in names(cond.get("aws:SourceArn")) and src.endswith(f':receipt-rule/{rp["Name"]}"}}'),
              f"{bucket}: aws:SourceArn {src} is not rule {rp['Name']} of {rule_set}")
    check_private_bucket(st, bucket, check)
    b = st.resources[bucket]
    days = [x.get("ExpirationInDays") for x in b["Properties"].get("LifecycleConfiguration", {}).get("Rules", [])
            if x.get("Status") == "Enabled"]
    check(days and 0 < min(d for d in days if d) <= 30, f"{bucket}: mail not expired within 30 days ({days})")
    # The bucket's notification invokes the function for that prefix; the function reads only there.
    notes = b["Properties"].get("NotificationConfiguration", {}).get("LambdaConfigurations", [])
    fns = [(getatt(n["Function"]) or ("", ""))[0] for n in notes]
    check(len(notes) == 1, f"{bucket}: {len(notes)} notifications, want the inbound mail function")
    for n, fn in zip(notes, fns):
        rules = n.get("Filter", {}).get("S3Key", {}).get("Rules", [])
        check(n.get("Event") == "s3:ObjectCreated:*" and rules == [{"Name": "prefix", "Value": prefix}],
              f"{bucket}: notifies {fn} of {n.get('Event')} {rules}, want s3:ObjectCreated:* under {prefix}")
        reads = {res for acts, res in st.grants.get(fn, []) if "s3:GetObject" in acts}
        want = f"arn:aws:s3:::{st.phys[bucket]}/{prefix}*"
        check(reads == {want}, f"{fn}: reads {sorted(reads)}, want {want} (the bucket moto created)")
        perm = [q for q in st.resources.values() if q["Type"] == "AWS::Lambda::Permission"
                and q["Properties"].get("Principal") == "s3.amazonaws.com" and fn in names(q["Properties"]["FunctionName"])]
        check(len(perm) == 1, f"{fn}: S3 may not invoke it")
    check(re.fullmatch(r"oms-inbound-mail-[0-9a-f-]{36}", st.phys[bucket]) is not None,
          f"{bucket}: name {st.phys[bucket]} (built from the stack id)")
    st.summary.append(f"inbound mail {rule} ({address}, scan on) -> {bucket}/{prefix} (SES only, for this rule; "
                      f"expires in {min(days) if days else '?'} days*) -> {', '.join(fns)}, which reads only there")


# ----- publishing the console ------------------------------------------------------------------
def check_publish(st, check) -> None:
    """publish_console.publish against the emulated stack (a distribution made on moto's API)."""
    import publish_console

    outputs = {o["OutputKey"]: o["OutputValue"] for o in st.stack.get("Outputs", [])}
    bucket = getattr(st, "console_bucket", None)
    if not check(bucket and outputs.get("ConsoleBucketName") == st.phys.get(bucket),
                 f"ConsoleBucketName output {outputs.get('ConsoleBucketName')}, want {st.phys.get(bucket)}"):
        return
    check(outputs.get("ConsoleUrl", "").startswith("https://") and outputs["ConsoleUrl"].endswith("/console/"),
          f"ConsoleUrl {outputs.get('ConsoleUrl')}")
    cfg = publish_console.console_config(outputs)
    check(cfg.get("auth") == "cognito" and cfg.get("redirectUri") == outputs.get("ConsoleUrl"),
          f"ConsoleConfig {cfg}: redirect is not the ConsoleUrl output")
    client = next(r for r in st.resources.values() if r["Type"] == "AWS::Cognito::UserPoolClient")
    asked = set(cfg.get("scopes", "openid oms/agent").split())
    check(asked <= set(client["Properties"]["AllowedOAuthScopes"]), f"ConsoleConfig asks for {sorted(asked)}")
    check(cfg.get("apiBase") == outputs.get("ApiUrl"), f"ConsoleConfig apiBase {cfg.get('apiBase')}, ApiUrl output")
    s3, cf = st.client("s3"), st.client("cloudfront")
    dist = cf.create_distribution(DistributionConfig={
        "CallerReference": st.name, "Comment": "deploy test", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "b", "DomainName": f"{st.phys[bucket]}.s3.amazonaws.com",
                                               "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "b", "ViewerProtocolPolicy": "redirect-to-https",
                                 "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"},
    })["Distribution"]["Id"]
    outputs["ConsoleDistributionId"] = dist  # the template's distribution is not emulated
    s3.put_object(Bucket=st.phys[bucket], Key="console/old-module.js", Body=b"//")
    try:
        done = publish_console.publish(outputs, s3, cf, log=lambda *_: None)
        files = publish_console.console_files()
        for key, path, ctype in files:
            head = s3.head_object(Bucket=st.phys[bucket], Key=key)
            check(head["ContentType"] == ctype and head["ContentLength"] == path.stat().st_size,
                  f"{key}: {head['ContentType']}, {head['ContentLength']} bytes")
        check(all(c.startswith("text/javascript") for k, _, c in files if k.endswith(".js")), "a module not text/javascript")
        got = json.loads(s3.get_object(Bucket=st.phys[bucket], Key="console/config.json")["Body"].read())
        check(got == cfg, f"config.json {got}, want the ConsoleConfig output")
        check(done["deleted"] == ["console/old-module.js"], f"stale files {done['deleted']}")
        inv = cf.get_invalidation(DistributionId=dist, Id=done["invalidation"])["Invalidation"]
        check(inv["InvalidationBatch"]["Paths"]["Items"] == ["/console/*"], f"invalidation {inv['InvalidationBatch']}")
        # The receipt rule set hint: the command while the set is inactive, nothing to do once active.
        ses, rules = st.client("ses"), f"{st.name}-rules"
        before = publish_console.receipt_rule_hint({"InboundRuleSetName": rules}, ses, "us-east-1")
        check(f"aws ses set-active-receipt-rule-set --rule-set-name {rules} --region us-east-1" in before,
              f"receipt rule hint while inactive: {before!r}")
        ses.create_receipt_rule_set(RuleSetName=rules)
        ses.set_active_receipt_rule_set(RuleSetName=rules)
        after = publish_console.receipt_rule_hint({"InboundRuleSetName": rules}, ses, "us-east-1")
        check(after.endswith(f"{rules} is active"), f"receipt rule hint once active: {after!r}")
        ses.set_active_receipt_rule_set()
        ses.delete_receipt_rule_set(RuleSetName=rules)
        st.summary.append(f"publish     {len(files)} console files (content types, sizes) and config.json (= the "
                          f"ConsoleConfig output) to {bucket}, a stale file removed, /console/* invalidated; "
                          "the set-active-receipt-rule-set command until the set is active")
    finally:
        for o in s3.list_objects_v2(Bucket=st.phys[bucket]).get("Contents", []):
            s3.delete_object(Bucket=st.phys[bucket], Key=o["Key"])
