"""A real SMTP server for the bulletin tests: aiosmtpd on a free loopback port, with scripted answers."""

from __future__ import annotations

import email
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from email import policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    """A TCP port on loopback that nothing listens on just now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(check: Callable[[], object], seconds: float, what: str) -> object:
    """Poll `check` until it returns something true; fail after `seconds`, naming what we waited for."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds} s for {what}, in vain")
        time.sleep(0.02)


class SMTPServer:
    """Accepts mail and keeps every message; `script_rcpt(address, [...])` makes it answer RCPT TO differently.

    A scripted answer is used once per RCPT for that address, in order ("451 ..." then "250 ..."); `refuse`
    answers 550 to an address for good. `connections` counts the SMTP sessions (one per EHLO/HELO).
    """

    def __init__(self, keep_messages: bool = True) -> None:
        self.port = free_port()
        self.keep_messages = keep_messages
        self.lock = threading.Lock()
        self.received: list[tuple[tuple[str, ...], bytes]] = []
        self.recipients: list[str] = []
        self.scripts: dict[str, list[str]] = {}
        self.refused: set[str] = set()
        # A reply to MAIL FROM other than 250, e.g. "553 ..." for a sender address the server will not take.
        self.refuse_sender = ""
        self.connections = 0
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    def script_rcpt(self, address: str, replies: list[str]) -> None:
        with self.lock:
            self.scripts[address] = list(replies)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with self.lock:
            self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.refuse_sender:
            return self.refuse_sender
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            script = self.scripts.get(address)
            reply = script.pop(0) if script else None
            refused = address in self.refused
        if reply is None and refused:
            reply = "550 5.1.1 No such mailbox here"
        if reply is not None and not reply.startswith("250"):
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.recipients.extend(envelope.rcpt_tos)
            if self.keep_messages:
                self.received.append((tuple(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        """Every message received, parsed with the email package's default policy."""
        with self.lock:
            raw = [content for _, content in self.received]
        return [email.message_from_bytes(content, policy=policy.default) for content in raw]

    def raw_messages(self) -> list[tuple[tuple[str, ...], bytes]]:
        with self.lock:
            return list(self.received)

    def count(self) -> int:
        with self.lock:
            return len(self.recipients)

    def per_recipient(self) -> Counter:
        """How many messages each envelope recipient received."""
        with self.lock:
            return Counter(self.recipients)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()
