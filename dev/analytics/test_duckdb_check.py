"""Self-test of duckdb_check.py: a small fabricated export, the summary the figure definitions of
docs/analytics/README.md give for it computed here in plain Python, and the check agreeing with
it (and reporting a tampered one).

    .venv/bin/python -m pytest dev/analytics -q
"""
import copy
import gzip
import json
import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import duckdb_check  # noqa: E402

LADDER = [1, 5, 15, 30, 60, 120, 240, 480, 720, 1440, 2880, 4320, 7200, 10080, 20160, 43200]


def fact(order, day, channel="web", currency="EUR", net=0, skus=None, cancelled=False,
         returned=False, accurate=True, rts=None, delivered=None, on_time=None):
    """One analytics fact as a DynamoDB JSON export line's Item."""
    skus = {} if cancelled or skus is None else skus
    item = {
        "PK": {"S": f"ANALYTICS#ORDER#{order}"},
        "SK": {"S": "FACT"},
        "entity": {"S": "analytics_fact"},
        "orderId": {"S": order},
        "version": {"N": "3"},
        "customerId": {"S": "cus-1"},
        "day": {"S": day},
        "placedAt": {"S": f"{day}T10:00:00Z"},
        "shard": {"N": "4"},
        "channel": {"S": channel},
        "locationId": {"S": "loc-1"},
        "currency": {"S": currency},
        "cancelled": {"BOOL": cancelled},
        "net": {"N": "0" if cancelled else str(net)},
        "units": {"N": "0" if cancelled else str(sum(skus.values()))},
        "returned": {"BOOL": returned},
        "accurate": {"BOOL": accurate and not cancelled},
    }
    if skus:
        item["skus"] = {"M": {sku: {"N": str(n)} for sku, n in skus.items()}}
    elif not cancelled or order.endswith("m"):
        item["skus"] = {"M": {}}
    if rts is not None:
        item["rtsMinutes"] = {"N": str(rts)}
    if delivered is not None:
        item["deliveredMinutes"] = {"N": str(delivered)}
        item["onTime"] = {"BOOL": bool(on_time)}
    return item


FACTS = [
    fact("o01", "2024-05-01", net=1999, skus={"DESK-LAMP": 2, "PEN": 1}, rts=12, delivered=1500,
         on_time=True),
    fact("o02", "2024-05-01", net=500, skus={"PEN": 5}, rts=1, delivered=2900, on_time=False),
    # cancelled, skus absent, nothing reached
    fact("o03", "2024-05-01", cancelled=True),
    # cancelled with an empty map ("m")
    fact("o04m", "2024-05-02", currency="USD", cancelled=True),
    fact("o05", "2024-05-02", channel="app", currency="USD", net=1001, skus={"MUG": 1},
         rts=61, returned=True, accurate=False),
    # ready to ship above the ladder's top (43200): last bucket
    fact("o06", "2024-05-02", currency="USD", net=2000, skus={"MUG": 3, "desk-lamp": 1},
         rts=50000, delivered=60000, on_time=False),
    fact("o07", "2024-05-03", channel="store", net=3, skus={"PEN": 1}, rts=5, delivered=5,
         on_time=True, returned=True),
    # rtsMinutes absent, not delivered
    fact("o08", "2024-05-03", channel="app", net=4, skus={"CABLE": 2}),
    fact("o09", "2024-05-04", channel="marketplace", net=7, skus={"CABLE": 1, "PEN": 2},
         rts=1440, delivered=1441, on_time=True),
    fact("o10", "2024-05-04", channel="call_center", net=1, skus={"A-SKU": 1, "NIL": 0}, rts=0),
    # the only GBP fact, cancelled: GBP is in neither netSales nor aov
    fact("o13", "2024-05-03", currency="GBP", cancelled=True),
    # a free order: net 0, in aov (0) but not in netSales
    fact("o14", "2024-05-04", channel="store", currency="CHF", net=0, skus={"PEN": 1}),
    # out of range (day before / after)
    fact("o11", "2024-04-30", net=999999, skus={"PEN": 100}, rts=3, delivered=3, on_time=True),
    fact("o12", "2024-05-05", net=888888, skus={"ZED": 50}, rts=3),
]

# Items of other entities in the same export: to be ignored (some carry attributes of the same
# names with other DynamoDB types).
OTHERS = [
    {"PK": {"S": "ORDER#o01"}, "SK": {"S": "ORDER"}, "entity": {"S": "order"},
     "day": {"S": "2024-05-01"}, "channel": {"S": "web"}, "currency": {"S": "EUR"},
     "net": {"N": "123456"}, "units": {"N": "9"}, "cancelled": {"BOOL": True},
     "skus": {"SS": ["PEN", "MUG"]}, "lines": {"L": [{"M": {"sku": {"S": "PEN"}}}]}},
    {"PK": {"S": "STOCK#PEN"}, "SK": {"S": "LOC#loc-1"}, "entity": {"S": "stock"},
     "onHand": {"N": "40"}, "skus": {"M": {"PEN": {"S": "forty"}}}},
    {"PK": {"S": "ANALYTICS#DAY#2024-05-01"}, "SK": {"S": "ROLLUP"},
     "entity": {"S": "analytics_rollup"}, "day": {"S": "2024-05-01"}, "units": {"N": "77"}},
]


def bucket(minutes):
    return next((b for b in LADDER if b >= minutes), LADDER[-1])


def percentile(values, pct):
    if not values:
        return None
    k = max(1, -(-pct * len(values) // 100))  # ceil(pct/100 * n), at least 1
    return bucket(sorted(values)[k - 1])


def rate(numerator, denominator):
    return None if denominator == 0 else numerator / denominator


def expected_summary(items, date_from, date_to, channel=""):
    """The API summary's figures, straight from the definitions in docs/analytics/README.md."""
    facts = [i for i in items
             if i["entity"]["S"] == "analytics_fact"
             and date_from <= i["day"]["S"] <= date_to
             and (channel == "" or i["channel"]["S"] == channel)]
    n = lambda i, k: int(i[k]["N"]) if k in i else None  # noqa: E731
    flag = lambda i, k: k in i and i[k]["BOOL"]  # noqa: E731
    kept = [i for i in facts if not flag(i, "cancelled")]
    currencies = sorted({i["currency"]["S"] for i in facts})
    net_sales, aov = [], []
    for cur in currencies:
        net = sum(n(i, "net") for i in facts if i["currency"]["S"] == cur)
        count = sum(1 for i in kept if i["currency"]["S"] == cur)
        if net != 0:  # a currency whose net sales are 0 is left out
            net_sales.append({"amount": net, "currency": cur})
        if count > 0:  # as is one with no non-cancelled fact
            aov.append({"amount": (2 * net + count) // (2 * count), "currency": cur})
    rts = [n(i, "rtsMinutes") for i in facts if "rtsMinutes" in i]
    dlv = [n(i, "deliveredMinutes") for i in facts if "deliveredMinutes" in i]
    skus = {}
    for i in facts:
        for sku, v in i.get("skus", {}).get("M", {}).items():
            skus[sku] = skus.get(sku, 0) + int(v["N"])
    returns = sum(1 for i in facts if flag(i, "returned"))
    accurate = sum(1 for i in facts if flag(i, "accurate"))
    on_time = sum(1 for i in facts if flag(i, "onTime"))
    return {
        "from": date_from, "to": date_to, "channel": channel or None,
        "orders": len(facts),
        "cancelled": len(facts) - len(kept),
        "units": sum(n(i, "units") for i in facts),
        "netSales": net_sales,
        "aov": aov,
        "returns": returns,
        "returnRate": rate(returns, len(kept)),
        "accurate": accurate,
        "accuracy": rate(accurate, len(kept)),
        "delivered": len(dlv),
        "onTime": on_time,
        "onTimeRate": rate(on_time, len(dlv)),
        "fulfillment": {
            "readyToShip": {"count": len(rts), "p50Minutes": percentile(rts, 50),
                            "p90Minutes": percentile(rts, 90)},
            "delivered": {"count": len(dlv), "p50Minutes": percentile(dlv, 50),
                          "p90Minutes": percentile(dlv, 90)},
        },
        "topSkus": [{"sku": s, "units": u}
                    for s, u in sorted(skus.items(), key=lambda e: (-e[1], e[0])) if u != 0][:10],
        # API fields the SQL does not produce: ignored by the check
        "byChannel": [{"channel": "web", "orders": 1}],
        "byLocation": [],
    }


@pytest.fixture
def export(tmp_path):
    """The fabricated export, laid out as DynamoDB writes one (two data files and an empty one)."""
    data = tmp_path / "AWSDynamoDB" / "01714521600000-abcd1234" / "data"
    data.mkdir(parents=True)
    items = FACTS + OTHERS
    for name, part in (("a1b2.json.gz", items[::2]), ("c3d4.json.gz", items[1::2]),
                       ("e5f6.json.gz", [])):
        with gzip.open(data / name, "wt", encoding="utf-8") as f:
            for item in part:
                f.write(json.dumps({"Item": item}) + "\n")
    return tmp_path


def write(tmp_path, summary):
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(summary))
    return str(path)


def test_fixture_covers_the_edge_cases():
    s = expected_summary(FACTS + OTHERS, "2024-05-01", "2024-05-04")
    assert s["orders"] == 12 and s["cancelled"] == 3
    assert [a["currency"] for a in s["netSales"]] == ["EUR", "USD"]
    assert [a["currency"] for a in s["aov"]] == ["CHF", "EUR", "USD"]
    assert s["fulfillment"]["readyToShip"]["p90Minutes"] == 43200  # 50000 in the last bucket
    assert s["fulfillment"]["readyToShip"]["count"] == 7  # o03, o04m, o08, o13, o14 never did
    assert s["aov"][2]["amount"] == 1501  # (1001 + 2000) / 2 = 1500.5 rounds away from zero
    assert s["topSkus"][0] == {"sku": "PEN", "units": 10}
    assert "NIL" not in [t["sku"] for t in s["topSkus"]]  # 0 units: left out


@pytest.mark.parametrize("date_from,date_to,channel", [
    ("2024-05-01", "2024-05-04", ""),
    ("2024-04-01", "2024-06-30", ""),
    ("2024-05-02", "2024-05-02", ""),
    ("2024-05-01", "2024-05-04", "app"),
    ("2024-05-01", "2024-05-04", "web"),
    ("2024-06-01", "2024-06-30", ""),  # no facts at all: nulls and zeros
])
def test_duckdb_agrees_with_the_definitions(export, tmp_path, date_from, date_to, channel):
    summary = expected_summary(FACTS + OTHERS, date_from, date_to, channel)
    figures, differences = duckdb_check.check(str(export), write(tmp_path, summary),
                                              date_from, date_to, channel)
    assert differences == []
    assert figures >= 16  # 10 scalars and 6 fulfillment values even with no facts


def test_a_tampered_summary_is_reported(export, tmp_path, capsys):
    summary = expected_summary(FACTS + OTHERS, "2024-05-01", "2024-05-04")
    tampered = copy.deepcopy(summary)
    tampered["orders"] += 1
    tampered["returnRate"] += 1e-6
    tampered["aov"][2]["amount"] = 1500
    tampered["fulfillment"]["readyToShip"]["p90Minutes"] = 20160
    tampered["topSkus"][0], tampered["topSkus"][1] = tampered["topSkus"][1], tampered["topSkus"][0]
    del tampered["onTime"]
    args = ["--export", str(export), "--summary", write(tmp_path, tampered),
            "--from", "2024-05-01", "--to", "2024-05-04"]
    assert duckdb_check.main(args) == 1
    out = capsys.readouterr().out
    for needle in ("orders:", "returnRate:", "aov[USD].amount:", "fulfillment.readyToShip.p90Minutes:",
                   "topSkus[0].sku:", "onTime: missing"):
        assert needle in out, out
    # a rate within the tolerance is equal
    close = copy.deepcopy(summary)
    close["returnRate"] += 1e-12
    assert duckdb_check.main(args[:3] + [write(tmp_path, close)] + args[4:]) == 0
    assert "duckdb agrees:" in capsys.readouterr().out


def test_command_line(export, tmp_path):
    summary = expected_summary(FACTS + OTHERS, "2024-05-01", "2024-05-04", "app")
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "duckdb_check.py")
    done = subprocess.run(
        [sys.executable, script, "--export", str(export), "--summary", write(tmp_path, summary),
         "--from", "2024-05-01", "--to", "2024-05-04", "--channel", "app"],
        capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("duckdb agrees: ")


def test_readme_carries_the_glue_type():
    readme = os.path.join(duckdb_check.ROOT, "docs", "analytics", "README.md")
    with open(readme, encoding="utf-8") as f:
        assert duckdb_check.glue_type() in f.read()


def test_the_template_glue_table_reads_exports_with_the_same_type():
    template = os.path.join(duckdb_check.ROOT, "infra", "template.yaml")
    with open(template, encoding="utf-8") as f:
        text = f.read()
    assert f'Type: "{duckdb_check.glue_type()}"' in text, "AnalyticsExportTable's column type differs"
