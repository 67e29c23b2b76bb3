"""Factories for test objects, one module per domain; import them from here: `from tests.factories import make_user`."""

from tests.factories.bulletins import bulletin_draft, make_bulletin, make_recipients, make_subscriber
from tests.factories.content import (
    campaign_fields,
    helpline_fields,
    make_campaign,
    make_content,
    make_helpline,
    make_helpline_set,
    make_notice,
    settle,
)
from tests.factories.leaflets import NATURAL_SETS, current, load_starter, starter_choice, verify_helplines
from tests.factories.people import PASSWORD, make_admin, make_user
from tests.factories.schemes import make_coordinated_scheme, make_scheme, make_street

__all__ = [
    "NATURAL_SETS",
    "PASSWORD",
    "bulletin_draft",
    "campaign_fields",
    "current",
    "helpline_fields",
    "load_starter",
    "make_admin",
    "make_bulletin",
    "make_campaign",
    "make_content",
    "make_coordinated_scheme",
    "make_helpline",
    "make_helpline_set",
    "make_notice",
    "make_recipients",
    "make_scheme",
    "make_street",
    "make_subscriber",
    "make_user",
    "settle",
    "starter_choice",
    "verify_helplines",
]
