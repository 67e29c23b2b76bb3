"""One campaign bulletin for many schemes (the admins' page and `flask bulletin send`): a bulletin per scheme.

Each scheme gets its own bulletin, with its own name, contact and unsubscribe links, made and queued through
the same services as a coordinator's own; bulletins made together share a batch, which an admin can approve
at once.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

from coordinator.auth.models import User
from coordinator.bulletins.approval import queue_bulletin
from coordinator.bulletins.drafts import BulletinDraft, check_intro, check_subject, create_bulletin
from coordinator.bulletins.models import Bulletin
from coordinator.bulletins.subscribers import count_recipients
from coordinator.bulletins.transitions import BulletinPermissionError, BulletinProblems
from coordinator.content import services as content
from coordinator.schemes.models import Scheme


@dataclass
class BatchReport:
    """What sending one campaign bulletin to several schemes did: a bulletin per scheme, or why not."""

    batch: str
    bulletins: list[Bulletin] = field(default_factory=list)
    skipped: list[tuple[Scheme, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The report as printable lines."""
        out = [
            f"{b.scheme.name}: bulletin #{b.id} {b.state.label}, {b.recipient_count or count_recipients(b.scheme):,} "
            "recipient(s)"
            for b in self.bulletins
        ]
        out += [f"{scheme.name}: no bulletin ({reason})" for scheme, reason in self.skipped]
        return out


def send_campaign_to_schemes(
    schemes: Sequence[Scheme],
    campaign_slugs: Sequence[str],
    helpline_set_slug: str,
    subject: str,
    intro: str,
    actor: User | None,
    *,
    actor_label: str | None = None,
) -> BatchReport:
    """One bulletin per scheme, each with its own name, contact and unsubscribe links, queued to send now.

    When the association requires approval they wait for an admin instead (the batch can be approved at once).
    Schemes with no confirmed subscriber get no bulletin. The caller commits, then starts the sending jobs.
    """
    if actor is not None and (not actor.is_admin or not actor.is_active_account):
        raise BulletinPermissionError("Only an admin can send a bulletin to several schemes.")
    errors: dict[str, list[str]] = {}
    campaign_ids = []
    current = {v.item.slug: v for v in content.current_campaigns()}
    for slug in campaign_slugs:
        if slug not in current:
            errors.setdefault("campaigns", []).append(f"No current, approved campaign has the slug {slug!r}")
        else:
            campaign_ids.append(current[slug].id)
    sets = {v.item.slug: v for v in content.approved_helpline_sets()}
    if helpline_set_slug not in sets:
        errors["helpline_set"] = [f"No approved helpline set has the slug {helpline_set_slug!r}"]
    for name, check, value in (("subject", check_subject, subject), ("intro", check_intro, intro)):
        try:
            check(value)
        except ValueError as exc:
            errors[name] = [str(exc)]
    if not campaign_slugs:
        errors["campaigns"] = ["Choose at least one campaign"]
    if not schemes:
        errors["schemes"] = ["There are no schemes to send to"]
    if errors:
        raise BulletinProblems(errors)
    report = BatchReport(batch=secrets.token_hex(8) if len(schemes) > 1 else "")
    draft = BulletinDraft(
        subject=subject,
        intro=intro,
        campaign_version_ids=campaign_ids,
        helpline_set_version_id=sets[helpline_set_slug].id,
    )
    for scheme in schemes:
        if not count_recipients(scheme):
            report.skipped.append((scheme, "no confirmed subscribers"))
            continue
        bulletin = create_bulletin(scheme, draft, actor, actor_label=actor_label, batch=report.batch)
        queue_bulletin(bulletin, actor, actor_label=actor_label)
        report.bulletins.append(bulletin)
    return report
