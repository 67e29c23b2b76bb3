"""The old import path of the SMTP server, only while the tests move to tests/smtp.py."""

from tests.helpers.servers import free_port, wait_for  # noqa: F401
from tests.smtp import SMTPServer  # noqa: F401
