"""The one real SMTP server of the tests: aiosmtpd on a free loopback port, with scripted answers.

It keeps every message it accepts, repeats included (the background-work tests count deliveries), unless
made with `keep_messages=False` for runs of thousands where only the recipients are counted.
"""

from __future__ import annotations

import asyncio
import email
import threading
from collections import Counter
from email import policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.helpers.servers import free_port


class SMTPServer:
    """Accepts mail and keeps every message; `script_rcpt(address, [...])` makes it answer RCPT TO differently.

    A scripted answer is used once per RCPT for that address, in order ("451 ..." then "250 ..."); `refuse`
    answers 550 to an address for good. `connections` counts the SMTP sessions (one per EHLO/HELO); `delay`
    makes each message slow to be accepted.
    """

    def __init__(self, keep_messages: bool = True) -> None:
        self.port = free_port()
        self.keep_messages = keep_messages
        self.delay = 0.0
        self.lock = threading.Lock()
        self.received: list[tuple[tuple[str, ...], bytes]] = []
        # Parsed once, as they arrive: a test may compare the messages it read earlier with those it reads later.
        self.parsed: list[EmailMessage] = []
        self.recipients: list[str] = []
        self.scripts: dict[str, list[str]] = {}
        self.refused: set[str] = set()
        # A reply to MAIL FROM other than 250, e.g. "553 ..." for a sender address the server will not take.
        self.refuse_sender = ""
        self.connections = 0
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    def script_rcpt(self, address: str, replies: list[str]) -> None:
        """Answer the next RCPT TO for `address` with these replies, one each time, in order."""
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
        # Kept before the reply: a client that dies while waiting for "250" has still had its message taken.
        with self.lock:
            self.recipients.extend(envelope.rcpt_tos)
            if self.keep_messages:
                self.received.append((tuple(envelope.rcpt_tos), bytes(envelope.content)))
                self.parsed.append(email.message_from_bytes(envelope.content, policy=policy.default))
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        """Every message received, parsed with the email package's default policy."""
        with self.lock:
            return list(self.parsed)

    def raw_messages(self) -> list[tuple[tuple[str, ...], bytes]]:
        """Every message received as (envelope recipients, bytes as sent)."""
        with self.lock:
            return list(self.received)

    def message_ids(self) -> list[str]:
        """The Message-ID of every message received, repeats included."""
        return [str(message["Message-ID"]) for message in self.messages()]

    def count(self) -> int:
        """How many deliveries were accepted: one per envelope recipient."""
        with self.lock:
            return len(self.recipients)

    def per_recipient(self) -> Counter:
        """How many messages each envelope recipient received."""
        with self.lock:
            return Counter(self.recipients)

    def start(self) -> None:
        """Listen on the port."""
        self.controller.start()

    def stop(self) -> None:
        """Stop listening."""
        self.controller.stop()
