"""Servers a test runs on loopback: a free port for one, and waiting until something it does has happened."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable


def free_port() -> int:
    """A TCP port on loopback that nothing listens on just now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(check: Callable[[], object], seconds: float, what: str, diagnose: Callable[[], str] = str) -> object:
    """Poll `check` until it returns something true; fail after `seconds` naming `what` we waited for."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds} s for {what}, in vain.\n{diagnose()}")
        time.sleep(0.05)
