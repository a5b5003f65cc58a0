"""A real HTTP receiver on 127.0.0.1 (ephemeral port) that checks signatures like a CRM would."""
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from apps.webhooks.services import signature_verify


@pytest.fixture(autouse=True)
def allow_loopback_receivers(settings):
    """The receiver listens on 127.0.0.1, which webhooks refuse unless private addresses are allowed."""
    settings.WEBHOOK_ALLOW_PRIVATE = True


@dataclass
class Received:
    headers: dict
    body: bytes
    verified: bool


@dataclass
class Receiver:
    url: str
    secret: str = ""
    statuses: list[int] = field(default_factory=list)  # answered in order; 200 once exhausted
    requests: list[Received] = field(default_factory=list)


@pytest.fixture
def receiver():
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server API)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            verified = signature_verify(
                secret=state.secret, timestamp=self.headers.get("X-CSP-Timestamp", ""), body=body,
                signature=self.headers.get("X-CSP-Signature", ""),
            )
            state.requests.append(Received(headers=dict(self.headers), body=body, verified=verified))
            code = state.statuses.pop(0) if state.statuses else 200
            payload = b"ok" if code < 300 else b"nope"
            self.send_response(code)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/csp"
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def subscription(db, receiver):
    from apps.webhooks.services import subscription_create

    sub = subscription_create(name="crm", url=receiver.url, events=["job.finished"])
    receiver.secret = sub.secret
    return sub
