"""gunicorn as production runs it: its settings file, workers built after the fork, headers on every answer."""

from __future__ import annotations

import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(port: int, path: str) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response
    finally:
        conn.close()


def test_gunicorn_serves_the_app_from_its_settings_file(tmp_path):
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env.update(COORDINATOR_ENV="production", SECRET_KEY=secrets.token_urlsafe(32), COORDINATOR_INSTANCE=str(tmp_path),
               GUNICORN_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="2", GUNICORN_THREADS="8")
    log = (tmp_path / "gunicorn.log").open("wb")
    server = subprocess.Popen([str(GUNICORN), "-c", "gunicorn.conf.py", "coordinator:create_app()"], cwd=ROOT, env=env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()
            try:
                health = _get(port, "/healthz")
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn never answered"
                time.sleep(0.2)
        assert health.status == 200
        login = _get(port, "/account/login")
        assert login.status == 200
        policy = login.getheader("Content-Security-Policy")
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert login.getheader("X-Frame-Options") == "DENY"
        assert login.getheader("Strict-Transport-Security"), "production cookies are Secure, so HTTPS is insisted on"
        workers = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True, check=True).stdout.split()
        assert len(workers) == 2, f"WEB_CONCURRENCY workers: {workers}"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
        log.close()
