"""Writing a bulletin: the draft a coordinator composes, its checks, and the content it may carry.

A bulletin carries only what residents may be sent today: current approved campaigns, an approved helpline
set and the scheme's own approved local notices. `check_still_current()` asks that again when it is queued,
and `fix_helplines()` fixes the set's usable helplines then, so an approver sees what residents will get.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from sqlalchemy import select

from coordinator import audit, jobs
from coordinator.auth.models import User
from coordinator.bulletins.models import Bulletin, BulletinState
from coordinator.bulletins.transitions import BulletinError, BulletinProblems, check_may_work_on
from coordinator.content import services as content
from coordinator.content.models import CampaignVersion, HelplineSetVersion, LocalNoticeVersion, VersionState
from coordinator.extensions import db
from coordinator.mailheaders import check_header_text
from coordinator.schemes.models import Scheme, Street

MAX_SUBJECT = 150
MAX_INTRO = 600


@dataclass
class BulletinDraft:
    """What a coordinator typed and chose for a bulletin, before it is checked."""

    subject: str = ""
    intro: str = ""
    campaign_version_ids: list[int] = field(default_factory=list)
    helpline_set_version_id: int | None = None
    local_notice_version_ids: list[int] = field(default_factory=list)
    is_whole_scheme: bool = True
    street_ids: list[int] = field(default_factory=list)
    # The scheme's choice for every bulletin it sends: campaigns in full, or short (None: leave it as it is).
    is_full_text: bool | None = None


@dataclass(frozen=True)
class BulletinChoices:
    """What a bulletin of this scheme may use today: current approved campaigns, approved sets, the scheme's notices."""

    campaigns: list[CampaignVersion]
    helpline_sets: list[HelplineSetVersion]
    notices: list[LocalNoticeVersion]
    streets: list[Street]


def bulletin_choices(scheme: Scheme) -> BulletinChoices:
    """The campaigns, helpline sets, local notices and streets a bulletin of this scheme can choose from."""
    return BulletinChoices(
        campaigns=content.current_campaigns(),
        helpline_sets=content.approved_helpline_sets(),
        notices=content.local_notices_for_scheme(scheme),
        streets=list(scheme.streets),
    )


def _has_control_characters(text: str, allowed: str = "") -> bool:
    return any(unicodedata.category(c) in ("Cc", "Cf") and c not in allowed for c in text)


def check_subject(text: str) -> str:
    """The subject on one line; ValueError with a message when it is empty, too long or has line breaks."""
    subject = (text or "").strip()
    if not subject:
        raise ValueError("Enter a subject")
    # Refused, not tidied: a line break or mail code (=?...?=) in a subject is a mistake, or an attempt to add
    # mail headers.
    subject = " ".join(check_header_text(subject, "The subject").split())
    if len(subject) > MAX_SUBJECT:
        raise ValueError(f"The subject must be {MAX_SUBJECT} characters or fewer (it has {len(subject)})")
    return subject


def check_intro(text: str) -> str:
    """The introduction as plain text with its line breaks; ValueError when it is too long or has control characters."""
    intro = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    intro = "\n".join(line.rstrip() for line in intro.split("\n")).strip()
    while "\n\n\n" in intro:
        intro = intro.replace("\n\n\n", "\n\n")
    if _has_control_characters(intro, allowed="\n\t"):
        raise ValueError("The introduction contains a control character; type it again")
    if len(intro) > MAX_INTRO:
        raise ValueError(f"The introduction must be {MAX_INTRO} characters or fewer (it has {len(intro)})")
    return intro


def _clean_draft(scheme: Scheme, draft: BulletinDraft) -> dict:
    """The draft's values checked against the rules and today's choices; BulletinProblems names every field wrong."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, object] = {}
    for name, check, value in (("subject", check_subject, draft.subject), ("intro", check_intro, draft.intro)):
        try:
            clean[name] = check(value)
        except ValueError as exc:
            errors[name] = [str(exc)]
    choices = bulletin_choices(scheme)

    campaign_ids = {v.id for v in choices.campaigns}
    chosen = list(dict.fromkeys(draft.campaign_version_ids or []))
    if not chosen:
        errors["campaigns"] = ["Choose at least one campaign"]
    elif any(vid not in campaign_ids for vid in chosen):
        errors["campaigns"] = ["Choose campaigns from the list: only current, approved campaigns can be sent"]
    clean["campaign_version_ids"] = [v.id for v in choices.campaigns if v.id in chosen]

    set_ids = {v.id for v in choices.helpline_sets}
    if draft.helpline_set_version_id is None:
        errors["helpline_set"] = ["Choose a helpline set"]
    elif draft.helpline_set_version_id not in set_ids:
        errors["helpline_set"] = ["Choose a helpline set from the list: only approved sets can be sent"]
    clean["helpline_set_version_id"] = draft.helpline_set_version_id

    notice_ids = {v.id for v in choices.notices}
    notices = list(dict.fromkeys(draft.local_notice_version_ids or []))
    if any(vid not in notice_ids for vid in notices):
        errors["notices"] = ["Choose notices from the list: only this scheme's approved notices can be sent"]
    clean["local_notice_version_ids"] = [v.id for v in choices.notices if v.id in notices]

    clean["is_whole_scheme"] = bool(draft.is_whole_scheme)
    street_ids = {s.id for s in choices.streets}
    streets = list(dict.fromkeys(draft.street_ids or []))
    if not draft.is_whole_scheme:
        if not streets:
            errors["streets"] = ["Choose at least one street, or send to everyone subscribed to the scheme"]
        elif any(sid not in street_ids for sid in streets):
            errors["streets"] = ["Choose streets from the list of this scheme's streets"]
    clean["street_ids"] = [s.id for s in choices.streets if s.id in streets] if not draft.is_whole_scheme else []
    if errors:
        raise BulletinProblems(errors)
    return clean


def create_bulletin(
    scheme: Scheme, draft: BulletinDraft, actor: User | None, *, actor_label: str | None = None, batch: str = ""
) -> Bulletin:
    """Save a new draft bulletin for a scheme (audited as bulletins.created); BulletinProblems when a value is wrong."""
    check_may_work_on(scheme, actor)
    clean = _clean_draft(scheme, draft)
    bulletin = Bulletin(
        scheme=scheme,
        batch=batch,
        created_by=actor,
        created_by_label=actor_label or (actor.email if actor else "command line"),
        state=BulletinState.DRAFT,
        **clean,
    )
    db.session.add(bulletin)
    db.session.flush()
    _choose_length(scheme, draft, actor)
    audit.record(
        "bulletins.created",
        bulletin,
        f"Bulletin “{bulletin.subject}” drafted for {scheme.name}",
        actor=actor,
        actor_label=None if actor is not None else (actor_label or "command line"),
        scheme_id=scheme.id,
        batch=batch or None,
    )
    return bulletin


def update_bulletin(bulletin: Bulletin, draft: BulletinDraft, actor: User) -> Bulletin:
    """Change a draft's subject, text, content or audience; only drafts change."""
    check_may_work_on(bulletin.scheme, actor)
    if not bulletin.is_editable:
        raise BulletinError(f"This bulletin is {bulletin.state.label}; only a draft can be changed.")
    clean = _clean_draft(bulletin.scheme, draft)
    for name, value in clean.items():
        setattr(bulletin, name, value)
    # Helplines are fixed again when it is next queued or submitted.
    bulletin.helpline_version_ids = []
    db.session.flush()
    _choose_length(bulletin.scheme, draft, actor)
    audit.record("bulletins.updated", bulletin, f"Bulletin “{bulletin.subject}” changed", actor=actor,
                 scheme_id=bulletin.scheme_id)
    return bulletin


def _choose_length(scheme: Scheme, draft: BulletinDraft, actor: User | None) -> None:
    # A scheme-wide choice made on the compose form: audited as the scheme's, once, when it changes.
    if draft.is_full_text is None or draft.is_full_text == scheme.is_bulletin_full_text:
        return
    scheme.is_bulletin_full_text = draft.is_full_text
    length = "in full" if draft.is_full_text else "short, with a link to each campaign's page"
    audit.record("schemes.bulletin_length_changed", scheme, f"{scheme.name}'s bulletins now show campaigns {length}",
                 actor=actor, scheme_id=scheme.id, changes={"is_bulletin_full_text": {
                     "old": not draft.is_full_text, "new": draft.is_full_text}})


def draft_from_bulletin(bulletin: Bulletin) -> BulletinDraft:
    """A saved bulletin as form values; content that has a newer approved version is offered as that version."""

    def current_id(version_id: int) -> int | None:
        version = content.get_version(version_id)
        current = version.item.current_version if version is not None else None
        return current.id if current is not None else None

    return BulletinDraft(
        subject=bulletin.subject,
        intro=bulletin.intro,
        campaign_version_ids=[v for v in map(current_id, bulletin.campaign_version_ids) if v is not None],
        helpline_set_version_id=current_id(bulletin.helpline_set_version_id),
        local_notice_version_ids=[v for v in map(current_id, bulletin.local_notice_version_ids) if v is not None],
        is_whole_scheme=bulletin.is_whole_scheme,
        street_ids=list(bulletin.street_ids),
        is_full_text=bulletin.scheme.is_bulletin_full_text,
    )


def check_still_current(bulletin: Bulletin) -> None:
    """Refuse content changed since the bulletin was saved: residents only ever get current approved content."""
    problems = []
    current_campaigns = {v.id for v in content.current_campaigns()}
    for version_id in bulletin.campaign_version_ids:
        if version_id not in current_campaigns:
            version = content.get_version(version_id)
            title = version.title if version is not None else f"#{version_id}"
            problems.append(f"The campaign “{title}” is no longer current: it changed, ended or was withdrawn.")
    set_version = bulletin.helpline_set_version
    if set_version is None or set_version.state != VersionState.APPROVED:
        problems.append("The helpline set has changed since this bulletin was saved.")
    current_notices = {v.id for v in content.local_notices_for_scheme(bulletin.scheme)}
    for version_id in bulletin.local_notice_version_ids:
        if version_id not in current_notices:
            version = content.get_version(version_id)
            title = version.title if version is not None else f"#{version_id}"
            problems.append(f"The local notice “{title}” has changed or was withdrawn.")
    if problems:
        raise BulletinError(" ".join(problems) + " Edit the bulletin, check your choices and save it again.")


def fix_helplines(bulletin: Bulletin) -> None:
    """Fix the helplines the bulletin carries: its set's usable ones now, so an approver sees what residents get."""
    usable, _left_out = content.usable_helplines(bulletin.helpline_set_version)
    bulletin.helpline_version_ids = [v.id for v in usable]


def record_test_message(bulletin: Bulletin, actor: User) -> str:
    """Send a test copy to the person themselves once the caller commits (audited); returns the address."""
    check_may_work_on(bulletin.scheme, actor)
    audit.record("bulletins.test_sent", bulletin, f"Test of bulletin “{bulletin.subject}” sent to {actor.email}",
                 actor=actor, scheme_id=bulletin.scheme_id)
    # Imported here: the sending job reads drafts (through progress), so drafts cannot import it first.
    from coordinator.bulletins.sending import send_test_message

    jobs.after_commit(send_test_message, bulletin.id, actor.id)
    return actor.email


# --- Finding bulletins ------------------------------------------------------------------------------------------


def scheme_bulletins(scheme: Scheme) -> list[Bulletin]:
    """A scheme's bulletins, newest first."""
    return list(db.session.scalars(
        select(Bulletin).where(Bulletin.scheme_id == scheme.id).order_by(Bulletin.created_at.desc(), Bulletin.id.desc())
    ))


def get_scheme_bulletin(scheme: Scheme, bulletin_id: int) -> Bulletin | None:
    """A bulletin of this scheme; None for any other id."""
    return db.session.scalar(select(Bulletin).where(Bulletin.id == bulletin_id, Bulletin.scheme_id == scheme.id))


def recent_bulletins(limit: int = 50) -> list[Bulletin]:
    """The latest bulletins of every scheme, newest first, for admins."""
    return list(db.session.scalars(select(Bulletin).order_by(Bulletin.created_at.desc(), Bulletin.id.desc())
                                   .limit(limit)))
