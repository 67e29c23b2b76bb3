"""The association's clock: every date a person sees or types is a London date, whatever the server's time zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

LOCAL_TIME = ZoneInfo("Europe/London")


def today() -> date:
    """Today's date in London."""
    return datetime.now(LOCAL_TIME).date()
