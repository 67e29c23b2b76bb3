"""Bounce and complaint messages as mail servers write them: RFC 3464 delivery status notifications (in the
shape Postfix sends) and RFC 5965 abuse reports (in the shape mailbox providers' feedback loops send)."""

from __future__ import annotations

import secrets


def dsn(
    to: str,
    recipient: str,
    status: str = "5.1.1",
    action: str = "failed",
    diagnostic: str | None = None,
    *,
    delivered_to: str | None = None,
    subject: str = "Doorstep scams: what to do",
) -> bytes:
    """A delivery status notification to the envelope sender `to`, about `recipient`."""
    boundary = f"{secrets.token_hex(8)}.1701950000/mx.example.net"
    diagnostic = diagnostic if diagnostic is not None else (
        f"smtp; 550 {status} <{recipient}>: Recipient address rejected: User unknown in virtual mailbox table")
    headers = [f"Delivered-To: {delivered_to}"] if delivered_to else []
    return "\r\n".join([
        *headers,
        "Return-Path: <>",
        "Date: Mon,  7 Dec 2026 13:01:02 +0000 (GMT)",
        "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)",
        "Subject: Undelivered Mail Returned to Sender",
        f"To: {to}",
        "Auto-Submitted: auto-replied",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"',
        f"Message-Id: <{secrets.token_hex(6)}@mx.example.net>",
        "",
        "This is a MIME-encapsulated message.",
        "",
        f"--{boundary}",
        "Content-Description: Notification",
        "Content-Type: text/plain; charset=us-ascii",
        "",
        "This is the mail system at host mx.example.net.",
        "",
        "I'm sorry to have to inform you that your message could not",
        "be delivered to one or more recipients.",
        "",
        f"<{recipient}>: host mx.example.net said: 550 {status} User unknown",
        "",
        f"--{boundary}",
        "Content-Description: Delivery report",
        "Content-Type: message/delivery-status",
        "",
        "Reporting-MTA: dns; mx.example.net",
        "X-Postfix-Queue-ID: 4Dq2kT0Y1Bz9sWc",
        "Arrival-Date: Mon,  7 Dec 2026 13:01:00 +0000 (GMT)",
        "",
        f"Final-Recipient: rfc822; {recipient}",
        f"Original-Recipient: rfc822;{recipient}",
        f"Action: {action}",
        f"Status: {status}",
        "Remote-MTA: dns; mx.example.net",
        f"Diagnostic-Code: {diagnostic}",
        "",
        f"--{boundary}",
        "Content-Description: Undelivered Message Headers",
        "Content-Type: text/rfc822-headers",
        "",
        "From: Hayes Lane Watch <watch@example.org>",
        f"To: {recipient}",
        f"Subject: {subject}",
        "",
        f"--{boundary}--",
        "",
    ]).encode()


def arf(return_path: str, recipient: str, *, feedback_type: str = "abuse", to: str = "fbl@watch.example",
        original_mail_from: bool = False) -> bytes:
    """An abuse report (ARF) from a mailbox provider about the message it received with this return path."""
    boundary = f"----=_Part_{secrets.token_hex(6)}"
    extra = [f"Original-Mail-From: <{return_path}>"] if original_mail_from else []
    return "\r\n".join([
        "From: Feedback Loop <fbl@mail.example.com>",
        f"To: {to}",
        "Subject: Complaint about a message from your server",
        "Date: Mon, 7 Dec 2026 14:00:00 +0000",
        f"Message-ID: <{secrets.token_hex(6)}@mail.example.com>",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/report; report-type=feedback-report; boundary="{boundary}"',
        "",
        f"--{boundary}",
        "Content-Type: text/plain; charset=us-ascii",
        "",
        "This is an email abuse report for an email message received from IP 192.0.2.1.",
        "",
        f"--{boundary}",
        "Content-Type: message/feedback-report",
        "",
        f"Feedback-Type: {feedback_type}",
        "User-Agent: ExampleFBL/1.0",
        "Version: 1",
        *extra,
        "Source-IP: 192.0.2.1",
        "Arrival-Date: Mon, 7 Dec 2026 13:02:00 +0000",
        "",
        f"--{boundary}",
        "Content-Type: message/rfc822",
        "Content-Disposition: inline",
        "",
        f"Return-Path: <{return_path}>",
        "From: Hayes Lane Watch <watch@example.org>",
        f"To: {recipient}",
        "Subject: Doorstep scams: what to do",
        "",
        "Never let a caller rush you.",
        "",
        f"--{boundary}--",
        "",
    ]).encode()


def auto_reply(to: str) -> bytes:
    """An out-of-office answer: not a report, and left for a person to read."""
    return "\r\n".join([
        "From: A Resident <resident@example.net>",
        f"To: {to}",
        "Subject: Out of office",
        "Auto-Submitted: auto-replied",
        "",
        "I am away until Monday.",
        "",
    ]).encode()
