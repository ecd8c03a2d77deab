"""A local stand-in for Africa's Talking's messaging API that records every SMS it is asked
to send (``bench.topology``'s workers send to it through the real SDK)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs


@dataclass(frozen=True)
class Sms:
    """One SMS the stub was asked to send."""

    message_id: str
    to: str
    text: str


class StubServer(ThreadingHTTPServer):
    """The stub's server: a worker killed mid-call leaves a broken pipe, nothing to report."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """Quiet."""


class AtStub(BaseHTTPRequestHandler):
    """``POST /version1/messaging``: accepts every SMS after ``delay`` seconds and records it."""

    sent: ClassVar[list[Sms]] = []
    lock = threading.Lock()
    delay = 0.02

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        form = parse_qs(self.rfile.read(length).decode())
        text = form.get("message", [""])[0]
        to = form.get("to", [""])[0]
        time.sleep(self.delay)  # the provider call: a kill may land here
        with self.lock:
            message_id = f"ATXid_soak{len(self.sent) + 1}"
            self.sent.append(Sms(message_id, to, text))
        body = json.dumps(
            {
                "SMSMessageData": {
                    "Message": "Sent to 1/1",
                    "Recipients": [
                        {"statusCode": 101, "status": "Success", "messageId": message_id}
                    ],
                }
            }
        ).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""
