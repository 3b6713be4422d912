#!/usr/bin/env python3
"""A webhook receiver for tests: verifies every delivery with the Standard Webhooks reference
library (`standardwebhooks`, PyPI) and answers with the status set for its path.

  POST /<path>            a delivery: verified against the secrets given, logged, answered
  POST /_secrets          {"secrets": ["whsec_..."]}: the secrets that verify from now on
  POST /_status           {"path": "/fail", "status": 204}: the answer for a path (default 204)
  GET  /_log              every delivery so far: path, verified, headers, event

Run: .venv/bin/python dev/events/webhook_receiver.py PORT
"""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook

STATE = {"secrets": [], "status": {}, "log": []}
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # quiet
        pass

    def reply(self, status, body=b""):
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/_log":
            with LOCK:
                body = json.dumps(STATE["log"]).encode()
            return self.reply(200, body)
        self.reply(404)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        if self.path == "/_secrets":
            with LOCK:
                STATE["secrets"] = json.loads(body)["secrets"]
            return self.reply(204)
        if self.path == "/_status":
            req = json.loads(body)
            with LOCK:
                STATE["status"][req["path"]] = req["status"]
            return self.reply(204)
        headers = {k.lower(): v for k, v in self.headers.items()}
        verified, error = False, None
        with LOCK:
            secrets = list(STATE["secrets"])
        for secret in secrets:
            try:
                Webhook(secret).verify(body, headers)
                verified = True
                break
            except Exception as e:  # noqa: BLE001
                error = str(e)
        with LOCK:
            status = STATE["status"].get(self.path, 204)
            STATE["log"].append({
                "path": self.path,
                "verified": verified,
                "error": error,
                "id": headers.get("webhook-id"),
                "signatures": len(headers.get("webhook-signature", "").split()),
                "event": json.loads(body) if verified else None,
                "status": status,
            })
        self.reply(status)


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    print("ready", flush=True)
    server.serve_forever()
