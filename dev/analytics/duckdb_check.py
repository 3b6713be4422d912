#!/usr/bin/env python3
"""Runs the analytics queries of docs/analytics/queries in DuckDB over a DynamoDB export and
compares what they give with the API's analytics summary.

    python dev/analytics/duckdb_check.py --export DIR --summary summary.json \\
        --from 2024-05-01 --to 2024-05-31 [--channel web]

DIR holds the export's data files, *.json.gz or *.json (DynamoDB JSON, one {"Item": {...}} a line),
as a DYNAMODB_JSON export writes them under AWSDynamoDB/<ExportId>/data/. summary.json is the
body of GET /v1/admin/analytics/summary for the same range and channel. Exit 0 printing
"duckdb agrees: N figures" (N: the values compared), or 1 printing each difference.

    python dev/analytics/duckdb_check.py --print-glue-type

prints the Glue (Hive) type string of the export table's single column `item`.

How oms_items is defined in DuckDB. The queries read a view oms_items with one struct column
`item`, as Athena's view over the Glue table does. DuckDB's read_json would infer a JSON object
as a STRUCT, so `skus.M` (SKU -> {"N": "2"}) would become a struct with one field per SKU seen;
the view gives read_json the column type explicitly instead, from the same attribute list as
the Glue type string (ATTRIBUTES below), so `item.skus.M` is MAP(VARCHAR, STRUCT(N VARCHAR)) as
in Athena. Attributes not listed are ignored, an absent attribute reads as NULL, and a listed
attribute of another DynamoDB type (another entity's `skus` as {"SS": [...]}) reads as a struct
whose listed descriptor is NULL, as with Athena's JSON SerDe. Numbers stay strings (DynamoDB
JSON writes them as strings) and the queries CAST them.
"""
import argparse
import glob
import json
import math
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
QUERIES = os.path.join(ROOT, "docs", "analytics", "queries")

# The attributes of the analytics fact the queries read, with their DynamoDB type descriptor:
# S (string), N (number, as a string), BOOL, or M of N (a map of numbers).
ATTRIBUTES = [
    ("PK", "S"),
    ("SK", "S"),
    ("entity", "S"),
    ("orderId", "S"),
    ("version", "N"),
    ("customerId", "S"),
    ("day", "S"),
    ("placedAt", "S"),
    ("shard", "N"),
    ("channel", "S"),
    ("locationId", "S"),
    ("currency", "S"),
    ("cancelled", "BOOL"),
    ("net", "N"),
    ("units", "N"),
    ("skus", "M"),
    ("returned", "BOOL"),
    ("accurate", "BOOL"),
    ("rtsMinutes", "N"),
    ("deliveredMinutes", "N"),
    ("onTime", "BOOL"),
]

RATE_TOLERANCE = 1e-9
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CHANNEL = re.compile(r"^[a-z_]*$")


def glue_type():
    """The Hive type string of the Glue column `item`."""
    hive = {"S": "struct<S:string>", "N": "struct<N:string>", "BOOL": "struct<BOOL:boolean>",
            "M": "struct<M:map<string,struct<N:string>>>"}
    return "struct<" + ",".join(f"{name}:{hive[t]}" for name, t in ATTRIBUTES) + ">"


def duckdb_type():
    """The same type in DuckDB's spelling, for read_json's columns."""
    duck = {"S": "STRUCT(S VARCHAR)", "N": "STRUCT(N VARCHAR)", "BOOL": "STRUCT(BOOL BOOLEAN)",
            "M": "STRUCT(M MAP(VARCHAR, STRUCT(N VARCHAR)))"}
    return "STRUCT(" + ", ".join(f'"{name}" {duck[t]}' for name, t in ATTRIBUTES) + ")"


def connect(export_dir):
    """A DuckDB connection with the view oms_items over the export's data files."""
    import duckdb

    # An export's data files are gzip'd; plain *.json (a test's small export) reads the same.
    files = sorted(
        f for ext in ("*.json.gz", "*.json") for f in glob.glob(os.path.join(export_dir, "**", ext), recursive=True)
    )
    if not files:
        raise SystemExit(f"duckdb_check: no *.json.gz or *.json under {export_dir}")
    con = duckdb.connect()
    file_list = "[" + ", ".join(sql_string(f) for f in files) + "]"
    con.execute(
        "CREATE VIEW oms_items AS SELECT \"Item\" AS item FROM read_json("
        f"{file_list}, format = 'newline_delimited', compression = 'auto_detect', "
        f"columns = {{'Item': {sql_string(duckdb_type())}}})"
    )
    return con


def sql_string(text):
    return "'" + text.replace("'", "''") + "'"


def render(sql, params):
    """The query with its placeholders replaced, as the runner in Athena does it."""
    for name, value in params.items():
        sql = sql.replace("{{" + name + "}}", value)
    left = re.findall(r"\{\{\s*\w+\s*\}\}", sql)
    if left:
        raise SystemExit(f"duckdb_check: placeholder(s) with no value: {', '.join(left)}")
    return sql


def run(con, name, params):
    with open(os.path.join(QUERIES, name), encoding="utf-8") as f:
        cursor = con.execute(render(f.read(), params))
    columns = [d[0].lower() for d in cursor.description]
    return [dict(zip(columns, row)) for row in cursor.fetchall()]


def integer(value):
    return None if value is None else int(value)


def sql_summary(con, params):
    """The API summary's SQL-produced fields, from the queries."""
    names = sorted(os.path.basename(p) for p in glob.glob(os.path.join(QUERIES, "*.sql")))
    results = {name: run(con, name, params) for name in names}
    known = {"summary.sql", "sales_by_currency.sql", "fulfillment.sql", "top_skus.sql",
             "timeseries_orders.sql"}
    missing = known - set(results)
    if missing:
        raise SystemExit(f"duckdb_check: queries missing from {QUERIES}: {sorted(missing)}")

    (s,) = results["summary.sql"]
    summary = {
        "orders": integer(s["orders"]),
        "cancelled": integer(s["cancelled"]),
        "units": integer(s["units"]),
        # netSales lists the currencies whose net sales are not 0; aov those that have a
        # non-cancelled fact (whose aov is not NULL).
        "netSales": [{"amount": integer(r["net_sales"]), "currency": r["currency"]}
                     for r in results["sales_by_currency.sql"] if r["net_sales"] != 0],
        "aov": [{"amount": integer(r["aov"]), "currency": r["currency"]}
                for r in results["sales_by_currency.sql"] if r["aov"] is not None],
        "returns": integer(s["returns"]),
        "returnRate": s["return_rate"],
        "accurate": integer(s["accurate"]),
        "accuracy": s["accuracy"],
        "delivered": integer(s["delivered"]),
        "onTime": integer(s["on_time"]),
        "onTimeRate": s["on_time_rate"],
        "fulfillment": {
            r["metric"]: {"count": integer(r["n"]), "p50Minutes": integer(r["p50_minutes"]),
                          "p90Minutes": integer(r["p90_minutes"])}
            for r in results["fulfillment.sql"]
        },
        "topSkus": [{"sku": r["sku"], "units": integer(r["units"])}
                    for r in results["top_skus.sql"]],
    }

    # The per-day series is not in the API summary: its rows must add up to the summary's.
    consistency = []
    days = results["timeseries_orders.sql"]
    for field in ("orders", "cancelled", "units"):
        total = sum(int(r[field] or 0) for r in days)
        if total != summary[field]:
            consistency.append(f"timeseries_orders.sql: {field} add up to {total}, "
                               f"summary.sql says {summary[field]}")
    return summary, consistency


class Comparison:
    def __init__(self):
        self.figures = 0
        self.differences = []

    def differ(self, path, expected, actual):
        self.differences.append(f"{path}: duckdb {json.dumps(expected)}, API {json.dumps(actual)}")

    def value(self, path, expected, actual, rate=False):
        self.figures += 1
        if expected is None or actual is None:
            if expected is not actual:
                self.differ(path, expected, actual)
            return
        if isinstance(actual, bool) or not isinstance(actual, (int, float)):
            self.differ(path, expected, actual)
        elif rate:
            if not math.isclose(expected, actual, rel_tol=0, abs_tol=RATE_TOLERANCE):
                self.differ(path, expected, actual)
        elif actual != expected or (isinstance(actual, float) and not actual.is_integer()):
            self.differ(path, expected, actual)

    def text(self, path, expected, actual):
        self.figures += 1
        if expected != actual:
            self.differ(path, expected, actual)

    def field(self, api, key, path):
        if not isinstance(api, dict) or key not in api:
            self.differences.append(f"{path}: missing from the API summary")
            return None, False
        return api[key], True


def compare(expected, api):
    """Compares the SQL summary with the API's, field by field."""
    c = Comparison()
    for key in ("orders", "cancelled", "units", "returns", "accurate", "delivered", "onTime"):
        actual, present = c.field(api, key, key)
        if present:
            c.value(key, expected[key], actual)
    for key in ("returnRate", "accuracy", "onTimeRate"):
        actual, present = c.field(api, key, key)
        if present:
            c.value(key, expected[key], actual, rate=True)

    for key in ("netSales", "aov"):
        actual, present = c.field(api, key, key)
        if not present:
            continue
        if not isinstance(actual, list):
            c.differ(key, expected[key], actual)
            continue
        got = {a.get("currency"): a for a in actual if isinstance(a, dict)}
        order = [a.get("currency") for a in actual if isinstance(a, dict)]
        if order != sorted(order, key=lambda x: (x is None, x or "")):
            c.differences.append(f"{key}: not sorted by currency: {order}")
        for want in expected[key]:
            path = f"{key}[{want['currency']}]"
            if want["currency"] not in got:
                c.figures += 1
                c.differences.append(f"{path}: duckdb {json.dumps(want['amount'])}, "
                                     f"API has no {want['currency']}")
                continue
            amount, present = c.field(got[want["currency"]], "amount", f"{path}.amount")
            if present:
                c.value(f"{path}.amount", want["amount"], amount)
        for currency in got.keys() - {w["currency"] for w in expected[key]}:
            c.differences.append(f"{key}[{currency}]: API has it, duckdb has no {currency}")

    fulfillment, present = c.field(api, "fulfillment", "fulfillment")
    if present:
        for metric in ("readyToShip", "delivered"):
            path = f"fulfillment.{metric}"
            actual, present = c.field(fulfillment, metric, path)
            if not present:
                continue
            for key in ("count", "p50Minutes", "p90Minutes"):
                value, present = c.field(actual, key, f"{path}.{key}")
                if present:
                    c.value(f"{path}.{key}", expected["fulfillment"][metric][key], value)

    top, present = c.field(api, "topSkus", "topSkus")
    if present:
        if not isinstance(top, list):
            c.differ("topSkus", expected["topSkus"], top)
        else:
            for i in range(max(len(top), len(expected["topSkus"]))):
                path = f"topSkus[{i}]"
                if i >= len(top):
                    c.figures += 2
                    c.differences.append(f"{path}: duckdb {json.dumps(expected['topSkus'][i])}, "
                                         "API has none")
                elif i >= len(expected["topSkus"]):
                    c.differences.append(f"{path}: API {json.dumps(top[i])}, duckdb has none")
                else:
                    want = expected["topSkus"][i]
                    sku, present = c.field(top[i], "sku", f"{path}.sku")
                    if present:
                        c.text(f"{path}.sku", want["sku"], sku)
                    units, present = c.field(top[i], "units", f"{path}.units")
                    if present:
                        c.value(f"{path}.units", want["units"], units)
    return c


def check(export_dir, summary_path, date_from, date_to, channel=""):
    """(figures compared, differences) for the export against the API summary in the file."""
    if not DAY.match(date_from) or not DAY.match(date_to):
        raise SystemExit("duckdb_check: --from and --to are days, YYYY-MM-DD")
    if not CHANNEL.match(channel):
        raise SystemExit("duckdb_check: --channel is a channel name (a-z and _)")
    with open(summary_path, encoding="utf-8") as f:
        api = json.load(f)
    params = {"from": date_from, "to": date_to, "channel": channel}
    con = connect(export_dir)
    try:
        expected, consistency = sql_summary(con, params)
    finally:
        con.close()
    c = compare(expected, api)
    return c.figures, consistency + c.differences


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--export", help="folder of the export's *.json.gz data files")
    parser.add_argument("--summary", help="the API's analytics summary, JSON")
    parser.add_argument("--from", dest="date_from", help="first day, YYYY-MM-DD")
    parser.add_argument("--to", dest="date_to", help="last day, YYYY-MM-DD")
    parser.add_argument("--channel", default="", help="one channel (default: all)")
    parser.add_argument("--print-glue-type", action="store_true",
                        help="print the Glue column type of `item` and exit")
    args = parser.parse_args(argv)
    if args.print_glue_type:
        print(glue_type())
        return 0
    for name in ("export", "summary", "date_from", "date_to"):
        if getattr(args, name) is None:
            parser.error("--export, --summary, --from and --to are required")

    figures, differences = check(args.export, args.summary, args.date_from, args.date_to,
                                 args.channel)
    if differences:
        for line in differences:
            print(line)
        print(f"duckdb disagrees: {len(differences)} difference(s) in {figures} figures")
        return 1
    print(f"duckdb agrees: {figures} figures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
