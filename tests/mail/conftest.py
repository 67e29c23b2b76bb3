"""Mail fixtures: the bulletin tests' real SMTP server (aiosmtpd on loopback) and their two schemes."""

from tests.bulletins.conftest import smtp_server, two_schemes  # noqa: F401  (fixtures, used by name)
