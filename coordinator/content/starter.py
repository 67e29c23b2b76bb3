"""Starter content: the four campaigns, eleven helplines and three helpline sets a new install begins with.

They ship as a content pack (`starter_pack.json`, beside this file) and load through the same
import as any other pack. Campaign facts (names, dates, web addresses, hashtags, slogans) and
helpline facts are exactly those of the association's source material; the campaign copy is the
toolkit's own. #ITSNOTOK comes back every year from 1 to 14 February: its awareness week (4 to 10
February in 2018) falls in the first two weeks of February, so the window holds the week whichever days it
takes, with time to deliver leaflets before it. The other three run all year round. Each campaign recommends
the helpline set the builder preselects for it (#ITSNOTOK and #MeToo "Sexual violence", the other two
"Domestic abuse").
Starter helplines carry no verification: each shows "verify before use" until an admin confirms it.
"""

from __future__ import annotations

from pathlib import Path

from coordinator.auth.models import User
from coordinator.content.packs import PackReport, has_approved_content, import_pack

STARTER_PACK = Path(__file__).with_name("starter_pack.json")


def load_starter_content(admin: User) -> PackReport | None:
    """Load the starter pack approved by `admin` on a library with nothing approved yet; None if it has content."""
    if has_approved_content():
        return None
    return import_pack(STARTER_PACK.read_bytes(), None, approve_as=admin, system_label="starter content")
