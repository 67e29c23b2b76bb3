"""The four starter bulletins: each starter campaign with the helpline set it recommends, every helpline checked,
as a scheme of two coordinators would send it (made directly, since #ITSNOTOK is only offered in February)."""

from __future__ import annotations

from sqlalchemy import select

from coordinator.bulletins.models import Bulletin
from coordinator.content import services as content
from coordinator.content.models import CampaignVersion, ContentItem, ContentKind, VersionState
from coordinator.content.packs import import_pack
from coordinator.content.starter import STARTER_PACK
from coordinator.extensions import db


def starter_bulletins(scheme, admin) -> list[Bulletin]:
    """One draft bulletin per starter campaign for `scheme`, committed; the starter pack approved by `admin`."""
    import_pack(STARTER_PACK.read_bytes(), None, approve_as=admin, system_label="starter content")
    for item in db.session.scalars(select(ContentItem).where(ContentItem.kind == ContentKind.HELPLINE)):
        content.reverify_helpline(item, admin)
    bulletins = []
    campaigns = db.session.scalars(
        select(CampaignVersion).where(CampaignVersion.state == VersionState.APPROVED).order_by(CampaignVersion.id)
    )
    for version in campaigns:
        set_version = version.recommended_set_item.current_version
        usable, _left_out = content.usable_helplines(set_version)
        bulletin = Bulletin(
            scheme=scheme, subject=f"{version.title}: what you can do", created_by_label="tests",
            intro="Hello from your coordinators. Please pass this on to a neighbour who is not online.",
            campaign_version_ids=[version.id], helpline_set_version_id=set_version.id,
            helpline_version_ids=[v.id for v in usable],
        )
        db.session.add(bulletin)
        bulletins.append(bulletin)
    db.session.commit()
    return bulletins
