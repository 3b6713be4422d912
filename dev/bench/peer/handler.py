"""The Python peer for the cold-start benchmark: what `placement` does for `GET /v1/orders`,
written the way a Python Lambda would be (boto3 client built at init, connection opened at init
with the same warm-up read), behind a minimal runtime-API loop like the one Lambda's Python
runtime runs. Started by `oms-bench cold-start` exactly as the Rust binaries are."""

import json
import os
import urllib.request

import boto3

API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation"
TABLE = os.environ["TABLE_NAME"]
dynamodb = boto3.client("dynamodb", endpoint_url=os.environ.get("DYNAMODB_ENDPOINT"))
try:
    dynamodb.get_item(TableName=TABLE, Key={"PK": {"S": "WARMUP"}, "SK": {"S": "WARMUP"}})
except Exception:  # best effort, as in the Rust functions
    pass


def number(v):
    return int(v["N"])


def summary(item):
    totals = item.get("totals", {}).get("M", {}).get("total", {}).get("M", {})
    return {
        "orderId": item["id"]["S"],
        "status": item["status"]["S"],
        "email": item["email"]["S"],
        "channel": item["channel"]["S"],
        "total": {"amount": number(totals.get("amount", {"N": "0"})), "currency": totals.get("currency", {"S": ""})["S"]},
        "lineCount": len(item.get("lines", {}).get("L", [])),
        "createdAt": item["createdAt"]["S"],
    }


def handle(event):
    claims = event.get("requestContext", {}).get("authorizer", {}).get("jwt", {}).get("claims", {})
    sub = claims.get("sub")
    if not sub:
        return {"statusCode": 401, "headers": {"content-type": "application/problem+json"}, "body": json.dumps({"title": "Unauthorized", "status": 401})}
    query = dict(p.split("=", 1) for p in (event.get("rawQueryString") or "").split("&") if "=" in p)
    limit = max(1, min(100, int(query.get("limit", "20"))))
    res = dynamodb.query(
        TableName=TABLE,
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :pk AND GSI1SK BETWEEN :lo AND :hi",
        ExpressionAttributeValues={":pk": {"S": "CUSTOMER#" + sub}, ":lo": {"S": "ORDER#"}, ":hi": {"S": "ORDER#~"}},
        ScanIndexForward=False,
        Limit=limit + 1,
    )
    orders = [summary(i) for i in res.get("Items", [])][:limit]
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps({"orders": orders})}


while True:
    with urllib.request.urlopen(API + "/next") as r:
        request_id = r.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(r.read())
    body = json.dumps(handle(event)).encode()
    urllib.request.urlopen(urllib.request.Request(API + "/" + request_id + "/response", data=body, method="POST")).read()
