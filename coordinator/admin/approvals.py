"""The approval queue: every content version, local notice and bulletin awaiting an admin's decision, in one list."""

from __future__ import annotations

from dataclasses import dataclass

from coordinator.language_tags import english_name


@dataclass
class QueueEntry:
    """One item awaiting an admin's decision, whatever its kind."""

    kind: str
    title: str
    detail: str
    submitted_by: str
    submitted_at: object
    review_endpoint: str
    review_args: dict


def _kind(version) -> str:
    """"campaign", or "campaign: Polish translation" for a translation, which an admin reviews beside its original."""
    language = version.item.language if version.item.translation_of_id else None
    if not language:
        return version.kind.label
    return f"{version.kind.label}: {english_name(language)} translation"


def approval_queue() -> list[QueueEntry]:
    """Every item awaiting approval (content, local notices, bulletins), oldest submission first."""
    from coordinator.bulletins.approval import bulletins_awaiting_approval
    from coordinator.content.services import versions_awaiting_approval

    entries = [
        QueueEntry(
            kind=_kind(version),
            title=version.title,
            detail=f"version {version.number}" + (f", {version.item.scheme.name}" if version.item.scheme else ""),
            submitted_by=version.submitted_by.name if version.submitted_by else "",
            submitted_at=version.submitted_at,
            review_endpoint="content.review_version",
            review_args={"version_id": version.id},
        )
        for version in versions_awaiting_approval()
    ]
    entries += [
        QueueEntry(
            kind="bulletin",
            title=bulletin.subject,
            detail=bulletin.scheme.name if bulletin.scheme else "",
            submitted_by=bulletin.submitted_by.name if bulletin.submitted_by else bulletin.author_label,
            submitted_at=bulletin.submitted_at,
            review_endpoint="bulletins.bulletin_detail",
            review_args={"scheme_id": bulletin.scheme_id, "bulletin_id": bulletin.id},
        )
        for bulletin in bulletins_awaiting_approval()
    ]
    return sorted(entries, key=lambda e: (e.submitted_at is None, e.submitted_at))
