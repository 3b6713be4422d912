#!/usr/bin/env python3
"""Writes docs/events/<type>.schema.json: one self-contained JSON Schema (draft 2020-12) per
integration event type, version 1. Run after changing an event's shape, then run the
compatibility test (tests/tests/integration_events.rs): a published version may gain optional
fields, never lose a required one or change its type (that is a new version).

Run: python3 dev/events/schemas.py
"""
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
VERSION = 1

TYPES = {
    "order.placed": "An order was placed (its stock is held; the workflow starts).",
    "order.confirmed": "An order was confirmed on its confirmation call (or released when the call did not happen in time).",
    "order.edited": "An order's lines or addresses were changed (by the customer or an agent).",
    "order.cancelled": "An order was cancelled (by the customer, an agent, a timeout, or a failed workflow); holds and authorizations are released.",
    "order.held": "An order was put on hold (fraud review or an agent).",
    "order.payment_required": "An order's payment was declined: it waits `payment_required`, its stock held, for the customer to give another payment method until a deadline (then `order.cancelled`).",
    "order.released": "A held order was released back into fulfillment.",
    "order.ready_to_ship": "The order's parcels are labelled (or its pickup is prepared): ready for the carrier or the customer.",
    "invoice.issued": "An invoice (a payment captured) or a credit note (a refund) was issued for the order, numbered without gaps per series; `data.documents` lists the order's documents, the newest last.",
    "payment.authorized": "The order's payment was authorized.",
    "payment.captured": "The order's payment was captured (at shipping).",
    "payment.refunded": "Money went back to the customer (a return, a goodwill refund, an exchange's difference).",
    "shipment.shipped": "The order's parcels were handed to the carrier.",
    "shipment.delivered": "Every parcel of the order was delivered.",
    "return.requested": "The customer (or an agent) opened a return.",
    "return.received": "Returned units were received at a location.",
    "return.refunded": "A return's units were refunded.",
    "case.opened": "A customer-service case (inquiry, complaint) was opened on the order.",
    "case.resolved": "A case on the order was resolved.",
}

STRING = {"type": "string"}
DATE_TIME = {"type": "string", "format": "date-time"}
DATE = {"type": "string", "format": "date"}
COUNT = {"type": "integer", "minimum": 0}


def obj(required, props):
    return {"type": "object", "required": sorted(required), "properties": props}


DEFS = {
    "money": obj(["amount", "currency"], {
        "amount": {"type": "integer", "description": "Minor units (cents)."},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
    }),
    "address": obj(["name", "line1", "city", "postalCode", "country"], {
        "name": STRING, "line1": STRING, "line2": STRING, "city": STRING, "region": STRING,
        "postalCode": STRING, "country": {"type": "string", "pattern": "^[A-Z]{2}$"}, "phone": STRING,
    }),
    "line": obj(["lineId", "sku", "name", "kind", "quantity", "unitPrice", "subtotal", "tax"], {
        "lineId": STRING, "sku": STRING, "name": STRING,
        "kind": {"type": "string", "description": "goods or service"},
        "quantity": {"type": "integer", "minimum": 1},
        "unitPrice": {"$ref": "#/$defs/money"}, "subtotal": {"$ref": "#/$defs/money"}, "tax": {"$ref": "#/$defs/money"},
        "returnable": {"type": "boolean"}, "returnWindowDays": COUNT,
    }),
    "shipment": obj(["shipmentId", "status", "serviceLevel", "lines"], {
        "shipmentId": STRING, "status": STRING, "serviceLevel": STRING, "carrier": STRING,
        "trackingNumber": STRING, "estimatedDelivery": DATE, "shippedAt": DATE_TIME, "deliveredAt": DATE_TIME,
        "lines": {"type": "array", "items": obj(["lineId", "sku", "quantity"], {
            "lineId": STRING, "sku": STRING, "quantity": {"type": "integer", "minimum": 1}})},
    }),
    "order": obj(["orderId", "status", "channel", "customerId", "email", "lines", "totals", "shippingAddress",
                  "delivery", "version", "createdAt", "updatedAt", "shipments"], {
        "orderId": STRING, "status": STRING, "channel": STRING, "customerId": STRING, "email": STRING,
        "lines": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/line"}},
        "totals": obj(["subtotal", "shipping", "tax", "total"], {
            k: {"$ref": "#/$defs/money"} for k in ["subtotal", "shipping", "tax", "total"]}),
        "shippingAddress": {"$ref": "#/$defs/address"},
        "billingAddress": {"$ref": "#/$defs/address"},
        "delivery": obj(["serviceLevel", "promisedBy", "cost"], {
            "serviceLevel": STRING, "pickupLocation": STRING, "promisedBy": DATE, "cost": {"$ref": "#/$defs/money"}}),
        "version": {"type": "integer", "minimum": 1},
        "createdAt": DATE_TIME, "updatedAt": DATE_TIME,
        "shipments": {"type": "array", "items": {"$ref": "#/$defs/shipment"}},
    }),
    "return": obj(["id", "orderId", "lines", "resolution", "status", "locationId", "version", "createdAt", "updatedAt"], {
        "id": STRING, "orderId": STRING, "resolution": STRING, "status": STRING, "locationId": STRING,
        "exchangeOrderId": STRING, "version": {"type": "integer", "minimum": 1},
        "createdAt": DATE_TIME, "updatedAt": DATE_TIME,
        "label": obj(["carrier", "trackingNumber"], {"carrier": STRING, "trackingNumber": STRING}),
        "lines": {"type": "array", "items": obj(
            ["lineId", "sku", "quantity", "reason", "receivedResellable", "receivedDamaged"], {
                "lineId": STRING, "sku": STRING, "quantity": {"type": "integer", "minimum": 1}, "reason": STRING,
                "receivedResellable": COUNT, "receivedDamaged": COUNT, "refunded": {"$ref": "#/$defs/money"}})},
        "exchangeLines": {"type": "array", "items": {"type": "object"}},
    }),
    "case": obj(["caseId", "kind", "status", "createdAt", "updatedAt"], {
        "caseId": STRING, "kind": {"type": "string", "description": "inquiry or complaint"},
        "status": {"type": "string", "description": "open, escalated or resolved"},
        "createdAt": DATE_TIME, "updatedAt": DATE_TIME,
    }),
    "payment": obj(["authorized", "captured", "refunded", "refundable", "ledger"], {
        "authorizationId": STRING,
        **{k: {"$ref": "#/$defs/money"} for k in ["authorized", "captured", "refunded", "refundable"]},
        "ledger": {"type": "array", "items": obj(["kind", "amount", "reference", "at"], {
            "kind": {"type": "string", "description": "authorized, captured, refunded or voided"},
            "amount": {"$ref": "#/$defs/money"}, "reference": STRING, "at": DATE_TIME})},
    }),
}


def schema(kind, description):
    data_required = ["order"]
    data_props = {"order": {"$ref": "#/$defs/order"}}
    if kind.startswith("return."):
        data_required.append("returns")
        data_props["returns"] = {"type": "array", "items": {"$ref": "#/$defs/return"}}
    if kind.startswith("case."):
        data_required.append("cases")
        data_props["cases"] = {"type": "array", "items": {"$ref": "#/$defs/case"},
                               "description": "The order's cases as they stand (the changed one has the newest updatedAt)"}
    if kind.startswith("payment.") or kind == "return.refunded":
        data_required.append("payment")
        data_props["payment"] = {"$ref": "#/$defs/payment"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://github.com/oms/oms/docs/events/{kind}.schema.json",
        "title": f"{kind} (version {VERSION})",
        "description": description + " The envelope is the same for every type; `data.order` is the order in the"
        " integration projection as read when the event was published (its version is at least `sequence`).",
        "type": "object",
        "required": ["id", "type", "version", "occurredAt", "orderId", "customerId", "sequence", "data"],
        "properties": {
            "id": {"type": "string", "minLength": 1, "description": "The same on every delivery: deduplicate on it."},
            "type": {"const": kind},
            "version": {"const": VERSION},
            "occurredAt": DATE_TIME,
            "orderId": STRING,
            "customerId": STRING,
            "sequence": {"type": "integer", "minimum": 1,
                         "description": "The order version the change committed: drop an event older than one you hold."},
            "data": obj(data_required, data_props),
        },
        "$defs": DEFS,
    }


INVENTORY = "inventory.changed"


def inventory_schema():
    """The stock event: its envelope names the SKU and the location instead of an order."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://github.com/oms/oms/docs/events/{INVENTORY}.schema.json",
        "title": f"{INVENTORY} (version {VERSION})",
        "description": "A SKU's available-to-promise at a location moved (holds, cancels, shipping, receipts,"
        " counts), for marketplaces and other channels; at most one per SKU and location per stream batch."
        " `data` is the level as read when published.",
        "type": "object",
        "required": ["id", "type", "version", "occurredAt", "sku", "locationId", "sequence", "data"],
        "properties": {
            "id": {"type": "string", "minLength": 1,
                   "description": "inventory.<sku>.<location>.<sequence>: the same level is the same event."},
            "type": {"const": INVENTORY},
            "version": {"const": VERSION},
            "occurredAt": DATE_TIME,
            "sku": STRING,
            "locationId": STRING,
            "sequence": {"type": "integer", "minimum": 1,
                         "description": "Grows with every change of the location's stock: keep the highest."},
            "data": obj(["available", "onHand", "held", "allocated"], {
                "available": {"type": "integer", "description": "Available to promise: on hand less held and allocated."},
                "onHand": COUNT, "held": COUNT, "allocated": COUNT,
            }),
        },
    }


def main():
    out = ROOT / "docs" / "events"
    out.mkdir(parents=True, exist_ok=True)
    for kind, description in TYPES.items():
        (out / f"{kind}.schema.json").write_text(json.dumps(schema(kind, description), indent=2) + "\n")
    (out / f"{INVENTORY}.schema.json").write_text(json.dumps(inventory_schema(), indent=2) + "\n")
    print(f"wrote {len(TYPES) + 1} schemas to {out}")


if __name__ == "__main__":
    main()
