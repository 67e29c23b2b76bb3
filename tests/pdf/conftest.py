"""Fixtures for the PDF tests: a sentinel file that must never reach a PDF, and a local web server."""

from __future__ import annotations

import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


class Sentinel:
    """Files holding a unique token: if the token shows up in a PDF, a local file leaked into it."""

    def __init__(self, folder: Path):
        self.token = f"SENTINEL{uuid.uuid4().hex}"
        self.folder = folder
        self.svg = folder / "sentinel.svg"
        self.svg.write_text(
            '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="40">'
            f'<text x="0" y="20" font-size="12">{self.token}</text></svg>'
        )
        self.txt = folder / "sentinel.txt"
        self.txt.write_text(self.token)
        self.css = folder / "sentinel.css"
        self.css.write_text(f'body::after {{ content: "{self.token}"; }}')


@pytest.fixture
def sentinel(tmp_path) -> Sentinel:
    return Sentinel(tmp_path)


class LocalServer:
    """A real HTTP server on 127.0.0.1 that serves the sentinel and records every request it gets."""

    def __init__(self, token: str):
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                if self.path.startswith("/redirect"):
                    self.send_response(302)
                    self.send_header("Location", "file:///etc/passwd")
                    self.end_headers()
                    return
                if self.path.endswith(".css"):
                    body, kind = f'body::after {{ content: "{token}"; }}', "text/css"
                elif self.path.endswith(".svg"):
                    body = f'<svg xmlns="http://www.w3.org/2000/svg" width="400" height="40"><text y="20">{token}</text></svg>'
                    kind = "image/svg+xml"
                else:
                    body, kind = token, "text/plain"
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def local_server(sentinel):
    server = LocalServer(sentinel.token)
    yield server
    server.close()
