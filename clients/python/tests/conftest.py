"""Test servers for the SDK: real HTTP servers (stdlib) in threads, scripted per test."""
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

SDK = Path(__file__).resolve().parents[1]
if str(SDK) not in sys.path:  # tests run from a checkout without installing the package
    sys.path.insert(0, str(SDK))


class ScriptedServer:
    """Answers each request with the next step of ``script``; the last step repeats.

    A step is ``(status, headers, body)`` or ``"drop"`` (close the connection without an answer)
    or ``("sleep", seconds, step)``.
    """

    def __init__(self, script):
        self.script = list(script)
        self.requests = []  # (method, path, headers, body)
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                with server.lock:
                    server.requests.append((self.command, self.path, dict(self.headers), raw))
                    index = min(len(server.requests) - 1, len(server.script) - 1)
                    step = server.script[index]
                if callable(step):
                    step = step(self.command, self.path, raw)
                if isinstance(step, tuple) and step and step[0] == "sleep":
                    import time

                    time.sleep(step[1])
                    step = step[2]
                if step == "drop":
                    self.close_connection = True
                    try:
                        self.connection.shutdown(2)
                    except OSError:
                        pass
                    return
                status, headers, body = step
                payload = json.dumps(body).encode() if body is not None else b""
                try:
                    self.send_response(status)
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def count(self) -> int:
        with self.lock:
            return len(self.requests)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve():
    servers = []

    def start(*script):
        server = ScriptedServer(script)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


class FakeTime:
    """Injectable clock and sleep: sleeping advances the clock, instantly."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time():
    return FakeTime()
