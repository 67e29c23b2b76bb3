"""Approving content: the one state machine every version goes through, and the verbs the pages call.

Every state change goes through `transition()`: it checks the move is declared from the current state (TRANSITIONS),
checks who may make it (only admins approve; four eyes), stamps who and when, makes the move as a compare-and-set
with its audit entry `content.<transition>` (coordinator/approvals.py) and queues the submitter's email. Services
flush; the view or command commits, then sends queued mail.
"""

from __future__ import annotations

from coordinator import approvals
from coordinator.auth.models import User
from coordinator.content.models import ContentItem, ContentVersion, VersionState
from coordinator.content.services import (
    ContentError,
    ContentPermissionError,
    can_edit,
)
from coordinator.db import utcnow
from coordinator.extensions import db
from coordinator.links import public_url
from coordinator.mail import queue_mail

REASON_MAX = 1000

S = VersionState
# Each move's name (in the audit log as content.<name>) and the one (from, to) pair it makes.
TRANSITIONS = approvals.Moves(ContentVersion, "content", {
    "submitted": {(S.DRAFT, S.SUBMITTED)},
    "withdrawn": {(S.SUBMITTED, S.DRAFT)},
    "approved": {(S.SUBMITTED, S.APPROVED)},
    "changes_requested": {(S.SUBMITTED, S.CHANGES_REQUESTED)},
    "revised": {(S.CHANGES_REQUESTED, S.DRAFT)},
    "retired": {(S.APPROVED, S.RETIRED)},
})
ADMIN_ONLY_TRANSITIONS = frozenset({"approved", "changes_requested"})


def transition(
    version: ContentVersion,
    to_state: VersionState,
    actor: User | None,
    reason: str | None = None,
    *,
    system_label: str | None = None,
) -> ContentVersion:
    """Move a version to `to_state`, if that move is allowed from where it is and for this person.

    `actor` None is the command line acting for the association (`system_label` names it); it may
    only submit, as a content-pack import does.
    """
    name = TRANSITIONS.name_of(version.state, to_state)
    if name is None:
        raise ContentError(
            f"Version {version.number} of “{version.title}” is {version.state.label}; "
            f"it cannot be made {to_state.label} from there."
        )
    _check_may_make(version, name, actor, system_label)
    reason = (reason or "").strip()
    previous = None
    now = utcnow()
    # A translation says which language it is, as its title may be the original's (a helpline's name).
    language = f" ({version.item.language} translation)" if version.item.language else ""
    summary = f"{version.kind.label} “{version.title}”{language} version {version.number} {name.replace('_', ' ')}"
    if name == "submitted":
        version.submitted_by, version.submitted_at = actor, now
    elif name == "approved":
        _check_four_eyes(version, actor)
        previous = version.item.current_version
        version.approved_by, version.approved_at = actor, now
    elif name == "changes_requested":
        if not reason:
            raise ContentError("Say what needs to change, so the person who submitted it knows what to do.")
        if len(reason) > REASON_MAX:
            raise ContentError(f"Keep the reason to {REASON_MAX:,} characters or fewer.")
        version.changes_requested_by, version.changes_requested_at = actor, now
        version.change_request_reason = reason
    elif name == "retired":
        version.retired_at = now
    try:
        approvals.move(
            version, TRANSITIONS, name, to_state, actor=actor, actor_label=system_label, summary=summary,
            item_id=version.item_id, kind=version.kind.value, number=version.number, reason=reason or None,
        )
    except approvals.StaleState as exc:
        raise ContentError(
            f"Someone changed version {version.number} of “{version.title}” a moment ago. "
            "Reload the page to see where it stands."
        ) from exc
    if name == "approved" and previous is not None and previous is not version:
        # The newer approval replaces the older one: "current" is always the latest approved version.
        transition(previous, S.RETIRED, actor, reason=f"replaced by version {version.number}")
    if name in ("approved", "changes_requested"):
        _notify_submitter(version, name, actor, reason)
    db.session.flush()
    return version


def _check_may_make(version: ContentVersion, name: str, actor: User | None, system_label: str | None) -> None:
    if actor is None:
        if name == "submitted" and system_label:
            return
        raise ContentPermissionError("Log in to change content.")
    if not actor.is_active_account:
        raise ContentPermissionError("This account is not active.")
    if name in ADMIN_ONLY_TRANSITIONS and not actor.is_admin:
        raise ContentPermissionError("Only an admin can approve content or ask for changes.")
    if name == "retired" and not can_edit(version.item, actor):
        raise ContentPermissionError("Only an admin can retire this content.")
    if name in ("submitted", "withdrawn", "revised") and not can_edit(version.item, actor):
        raise ContentPermissionError("You cannot change this content.")


def _check_four_eyes(version: ContentVersion, approver: User) -> None:
    if approvals.is_refused_by_four_eyes(version.submitted_by_id, approver):
        raise ContentPermissionError(
            "You submitted this version, so another admin must approve it. Four eyes see everything we print."
        )


def submit_version(version: ContentVersion, actor: User | None, *, system_label: str | None = None) -> ContentVersion:
    """Send a draft for approval."""
    return transition(version, S.SUBMITTED, actor, system_label=system_label)


def withdraw_version(version: ContentVersion, actor: User) -> ContentVersion:
    """Take a submitted version back to draft, to change it before anyone approves it."""
    return transition(version, S.DRAFT, actor)


def approve_version(version: ContentVersion, actor: User) -> ContentVersion:
    """Approve a submitted version; it replaces the item's previously approved one."""
    return transition(version, S.APPROVED, actor)


def request_changes(version: ContentVersion, actor: User, reason: str) -> ContentVersion:
    """Send a submitted version back to its author with the reason."""
    return transition(version, S.CHANGES_REQUESTED, actor, reason=reason)


def decide_version(version: ContentVersion, actor: User, decision: str, reason: str = "") -> ContentVersion:
    """The review form's one call: "approve" or "request_changes" (with a reason)."""
    if decision == "approve":
        return approve_version(version, actor)
    if decision == "request_changes":
        return request_changes(version, actor, reason)
    raise ContentError("Choose whether to approve this version or ask for changes.")


def retire_item(item: ContentItem, actor: User) -> ContentVersion:
    """Stop offering an item: its approved version is retired and nothing replaces it."""
    version = item.current_version
    if version is None:
        raise ContentError(f"“{item.title}” has no approved version to retire.")
    return transition(version, S.RETIRED, actor, reason="retired")


def _notify_submitter(version: ContentVersion, name: str, actor: User | None, reason: str) -> None:
    person = version.submitted_by
    if person is None or not person.is_active_account or (actor is not None and person.id == actor.id):
        return
    template = "content_approved" if name == "approved" else "content_changes_requested"
    queue_mail(
        template,
        person.email,
        template,
        to_name=person.name,
        name=person.name,
        kind_label=version.kind.label,
        title=version.title,
        number=version.number,
        decided_by=actor.name if actor else "An admin",
        reason=reason,
        link=public_url("content.item", item_id=version.item_id),
    )
