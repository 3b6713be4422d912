"""Fixtures for the console's browser tests.

The runner is started by dev/console-test.sh, which passes its address in OMS_BASE_URL. The
scenario is seeded once per run through the public API, as a storefront and an agent would: a
customer with a phone number places orders (with Idempotency-Keys), one is driven to delivered
through the carrier-events route (so its payment is captured), one is put on hold, one waits
for a confirmation call, a complaint case is opened and the customer sends an inquiry.

Chromium is Debian's (/usr/bin/chromium, or CHROMIUM), driven headless by Playwright; axe-core
comes from dev/console/node_modules (npm, pinned). Screenshots go to target/console-screenshots/.
"""

from __future__ import annotations

import json
import os
import random
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "target" / "console-screenshots"
AXE_JS = ROOT / "dev" / "console" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def base_url() -> str:
    url = os.environ.get("OMS_BASE_URL")
    if not url:
        pytest.exit("OMS_BASE_URL is not set: run ./dev/console-test.sh (it starts the runner)", returncode=2)
    return url.rstrip("/")


# --- HTTP ------------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    body: object
    headers: dict

    def json(self):
        return self.body


def call(method: str, path: str, token: str | None = None, body=None, headers: dict | None = None, raw: bytes | None = None) -> Reply:
    h = {"accept": "application/json"}
    if token:
        h["authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        h["content-type"] = "application/json"
        data = json.dumps(body).encode()
    if raw is not None:
        data = raw
    h.update(headers or {})
    req = urllib.request.Request(base_url() + path, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            text = r.read()
            status, hdrs = r.status, dict(r.headers)
    except urllib.error.HTTPError as e:
        text, status, hdrs = e.read(), e.code, dict(e.headers)
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = text.decode(errors="replace")
    return Reply(status, parsed, {k.lower(): v for k, v in hdrs.items()})


def token(sub: str, scope: str = "") -> str:
    r = call("POST", "/dev/token", body={"sub": sub, "scope": scope})
    assert r.status == 200, r
    return r.body["token"]


def wait_for(what: str, fn, timeout: float = 20.0, every: float = 0.25):
    """Polls fn() until it returns something truthy; fails with `what` after timeout seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


# --- The scenario ----------------------------------------------------------------------------


@dataclass
class Scenario:
    run: str
    customer: str
    name: str
    email: str
    phone: str
    address: dict
    phone_digits: str = ""
    orders: dict = field(default_factory=dict)  # role -> order id
    cases: dict = field(default_factory=dict)  # role -> case id
    problems: list = field(default_factory=list)  # backend calls that did not answer as the brief says
    agent: str = "agent-ann"


def _place(s: Scenario, cust_token: str, lines: list[dict]) -> str:
    key = str(uuid.uuid4())
    body = {
        "lines": lines,
        "shippingAddress": s.address,
        "email": s.email,
        "serviceLevel": "standard",
        "paymentToken": "tok_visa",
        "channel": "web",
    }
    r = call("POST", "/v1/orders", cust_token, body, {"idempotency-key": key})
    assert r.status == 201, f"placing {lines}: {r.status} {r.body}"
    again = call("POST", "/v1/orders", cust_token, body, {"idempotency-key": key})
    assert again.status == 201 and again.body["orderId"] == r.body["orderId"], "a replayed placement answers the same order"
    return r.body["orderId"]


def _status(order_id: str, agent: str) -> str | None:
    r = call("GET", f"/v1/admin/orders/{order_id}", agent)
    return r.body.get("status") if r.status == 200 else None


def _wait_status(order_id: str, agent: str, wanted: set[str], timeout: float = 20.0) -> str:
    return wait_for(f"order {order_id} to reach {sorted(wanted)}", lambda: (st := _status(order_id, agent)) in wanted and st, timeout)


def deliver(order_id: str, agent: str) -> None:
    """Drives every shipment through the carrier: in transit (payment captured), delivered."""
    order = call("GET", f"/v1/admin/orders/{order_id}", agent).body
    for shipment in order["shipments"]:
        for status in ("in_transit", "delivered"):
            r = call("POST", "/dev/carrier-events", body={"trackingNumber": shipment["trackingNumber"], "status": status})
            assert r.status == 200, r
    _wait_status(order_id, agent, {"delivered"})


@pytest.fixture(scope="session")
def scenario() -> Scenario:
    run = f"{random.randrange(16**6):06x}"
    digits = f"{random.randrange(10000):04d}"
    s = Scenario(
        run=run,
        customer=f"cust-ann-{run}",
        name="Ann Lee",
        email=f"ann.lee.{run}@example.com",
        phone=f"+1 (212) 555-{digits}",
        address={
            "name": "Ann Lee",
            "line1": "350 5th Ave",
            "city": "New York",
            "region": "NY",
            "postalCode": "10118",
            "country": "US",
            "phone": f"+1 (212) 555-{digits}",
        },
    )
    s.phone_digits = "+1212555" + digits
    cust = token(s.customer)
    agent = token("seed-agent", "oms/agent")
    admin = token("seed-admin", "oms/admin")

    rule = {
        "enabled": True,
        "minTotal": {"amount": 40000, "currency": "USD"},
        "firstOrder": False,
        "withServices": True,
        "timeoutMinutes": 120,
        "onTimeout": "release",
    }
    r = call("PUT", "/v1/admin/settings/confirmation-calls", admin, rule)
    if r.status != 200:
        s.problems.append(f"PUT /v1/admin/settings/confirmation-calls -> {r.status} {r.body}")

    s.orders["delivered"] = _place(s, cust, [{"sku": "DESK-LAMP", "quantity": 1}, {"sku": "MUG-CLASSIC", "quantity": 1}])
    s.orders["editable"] = _place(s, cust, [{"sku": "MUG-CLASSIC", "quantity": 2}])
    s.orders["held"] = _place(s, cust, [{"sku": "SOCKS-3PK", "quantity": 1}])
    s.orders["spare"] = _place(s, cust, [{"sku": "TSHIRT-BLK-M", "quantity": 1}])
    s.orders["confirm"] = _place(s, cust, [{"sku": "TV-55", "quantity": 1}])
    for role in ("delivered", "editable", "held", "spare"):
        _wait_status(s.orders[role], agent, {"ready_to_ship"})
    try:
        _wait_status(s.orders["confirm"], agent, {"awaiting_confirmation"}, timeout=10)
    except AssertionError as e:
        s.problems.append(f"a 499.99 order with the confirmation-call rule on: {e}")

    # Another customer's order pairs the desk lamp with headphones: a conversation tip for Ann.
    bo = Scenario(run=run, customer=f"cust-bo-{run}", name="Bo Kim", email=f"bo.kim.{run}@example.com", phone="",
                  address={**s.address, "name": "Bo Kim", "phone": None})
    bo.address.pop("phone")
    _place(bo, token(bo.customer), [{"sku": "DESK-LAMP", "quantity": 1}, {"sku": "HEADPHONES-X1", "quantity": 1}])
    # An open cart.
    r = call("POST", "/v1/carts", cust, {"email": s.email})
    assert r.status in (200, 201), r
    r = call("PUT", f"/v1/carts/{r.body['cartId']}/items/SOCKS-3PK", cust, {"quantity": 2})
    assert r.status == 200, r

    deliver(s.orders["delivered"], agent)
    r = call("POST", f"/v1/admin/orders/{s.orders['delivered']}/notes", agent, {"text": "Prefers calls after 5 pm."})
    assert r.status == 200, r
    r = call("POST", f"/v1/admin/orders/{s.orders['held']}/hold", agent, {"reason": "Fraud review: billing address check"})
    assert r.status == 200 and r.body["status"] == "on_hold", r

    r = call("POST", "/v1/admin/cases", agent, {
        "orderId": s.orders["delivered"],
        "kind": "complaint",
        "subject": "Mug arrived chipped",
        "description": "Customer called: the handle of the mug is chipped.",
    })
    assert r.status == 201, r
    s.cases["complaint"] = r.body["id"]

    r = call("POST", f"/v1/orders/{s.orders['editable']}/inquiries", cust, {
        "kind": "inquiry",
        "subject": "Can I get the mugs gift-wrapped?",
        "message": "Hello, the mugs are a present. Could you wrap them? Thanks, Ann",
    })
    if r.status == 201:
        s.cases["inquiry"] = r.body.get("id") or r.body["caseId"]
    else:
        s.problems.append(f"POST /v1/orders/{{id}}/inquiries -> {r.status} {r.body}")

    # An inquiry mailed to the support address, naming the held order in its subject.
    mail = (
        f"From: Ann Lee <{s.email}>\r\n"
        "To: support@example.com\r\n"
        f"Subject: Question about order {s.orders['held']}\r\n"
        f"Message-ID: <{uuid.uuid4()}@example.com>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        "Hello, why is my order for socks on hold? Ann\r\n"
    )
    r = call("POST", "/dev/inbound-mail", raw=mail.encode(), headers={"content-type": "message/rfc822"})
    if r.status == 202 and isinstance(r.body, dict) and r.body.get("orderId") == s.orders["held"]:
        s.cases["mailed"] = r.body["caseId"]
    else:
        s.problems.append(f"POST /dev/inbound-mail -> {r.status} {r.body}")

    # The customer profile is kept from the table's stream: wait until search finds all orders.
    def indexed():
        r = call("GET", f"/v1/admin/customers?q={urllib.request.quote(s.email)}", agent)
        if r.status != 200:
            return None
        return any(c.get("customerId") == s.customer and c.get("orderCount", 0) >= 5 for c in r.body.get("customers", []))

    try:
        wait_for("the customer to be searchable with 5 orders", indexed, timeout=15)
    except AssertionError as e:
        s.problems.append(f"GET /v1/admin/customers?q=<email>: {e}")
    if s.problems:
        print("\nscenario: backend answers that differ from the brief:\n  " + "\n  ".join(s.problems))
    return s


# --- Browser -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.exit(f"{CHROMIUM} not found: apt-get install chromium (dev/console-test.sh does)", returncode=2)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        yield b
        b.close()


@pytest.fixture()
def page(browser):
    # bypass_csp lets the test inject axe-core into a page whose CSP allows only its own scripts.
    ctx = browser.new_context(
        locale="en-US",
        timezone_id="America/New_York",
        viewport={"width": 1280, "height": 900},
        bypass_csp=True,
    )
    ctx.set_default_timeout(10_000)
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" and "Failed to load resource" not in m.text else None)
    pg.js_errors = errors
    yield pg
    ctx.close()
    assert not [e for e in errors if "status of 4" not in e], f"JavaScript errors: {errors}"


@pytest.fixture()
def agent_page(page, scenario):
    sign_in(page, scenario.agent)
    return page


def console_url(hash_: str = "") -> str:
    return f"{base_url()}/console/{hash_}"


def sign_in(page, user: str, role: str = "oms/agent") -> None:
    page.goto(console_url())
    page.get_by_label("User name").fill(user)
    page.get_by_label("Role").select_option(role)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", level=1, name="Find a customer").wait_for()


def axe_check(page, name: str) -> None:
    """Screenshot to target/console-screenshots/<name>.png, then axe-core: zero violations."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(content=AXE_JS.read_text())
    violations = page.evaluate(
        """async () => {
            const r = await axe.run(document, { resultTypes: ['violations'] });
            return r.violations.map(v => ({
              id: v.id, impact: v.impact, help: v.help,
              nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + (n.failureSummary || '').replace(/\\s+/g, ' '))
            }));
        }"""
    )
    assert violations == [], f"axe on {name}:\n" + json.dumps(violations, indent=2)
    # At a desktop width nothing needs sideways scrolling: no table is cut off.
    overflow = page.evaluate(
        """() => [...document.querySelectorAll('.table-wrap, body')]
              .filter(e => e.checkVisibility() && e.scrollWidth > e.clientWidth + 1)
              .map(e => (e.closest('section')?.id || e.tagName) + ' ' + e.scrollWidth + '>' + e.clientWidth)"""
    )
    assert overflow == [], f"{name}: content wider than its box: {overflow}"
