"""The old import path of the bulletin tests' helpers and factories, only while the tests move to their new homes."""

from tests.bulletins.helpers import (  # noqa: F401
    body,
    confirmation_link,
    csv_bytes,
    everything_stored,
    fast_sending,
    mail_to,
    subscribers_of,
    token_in,
)
from tests.factories import bulletin_draft, make_bulletin, make_recipients, make_subscriber  # noqa: F401
from tests.helpers.hostile import HOSTILE_TEXTS  # noqa: F401
