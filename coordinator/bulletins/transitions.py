"""A bulletin's states: the moves between them, who may make them, and the one way a move is made.

Every change of a bulletin's state goes through `transition()`: it checks the move is in
BULLETIN_TRANSITIONS, makes it as a compare-and-set in the database (so two people, or a person and the
sending job, can never both make a move from the same state), and writes the audit entry `bulletins.<move>`;
coordinator/approvals.py does all three, as it does for content. Drafts, approval, the sending job's progress
and batches all make their moves here.
"""

from __future__ import annotations

from collections.abc import Mapping

from coordinator import approvals
from coordinator.auth.models import User
from coordinator.bulletins.models import Bulletin, BulletinState
from coordinator.content import services as content
from coordinator.schemes.models import Scheme

B = BulletinState
# Each move's name (in the audit log as bulletins.<name>) and the (from, to) pairs it may make.
BULLETIN_TRANSITIONS = approvals.Moves(Bulletin, "bulletins", {
    # Saved as a draft, then either sent for approval (when the association requires it) or queued.
    "submitted": {(B.DRAFT, B.AWAITING_APPROVAL)},
    "withdrawn": {(B.AWAITING_APPROVAL, B.DRAFT)},
    "changes_requested": {(B.AWAITING_APPROVAL, B.DRAFT)},
    "approved": {(B.AWAITING_APPROVAL, B.APPROVED), (B.AWAITING_APPROVAL, B.SCHEDULED)},
    "queued": {(B.DRAFT, B.APPROVED), (B.DRAFT, B.SCHEDULED)},
    # The sending job's moves.
    "started": {(B.APPROVED, B.SENDING), (B.SCHEDULED, B.SENDING)},
    "sent": {(B.SENDING, B.SENT)},
    "cancelled": {
        (state, B.CANCELLED) for state in (B.DRAFT, B.AWAITING_APPROVAL, B.APPROVED, B.SCHEDULED, B.SENDING)
    },
})


class BulletinError(Exception):
    """A bulletin rule was broken; the message is fit to show."""


class BulletinPermissionError(BulletinError):
    """The person may not do this to this bulletin."""


class BulletinProblems(BulletinError):
    """What was typed or chosen breaks the rules; `errors` maps each field name to messages fit to show."""

    def __init__(self, errors: Mapping[str, list[str]]):
        super().__init__("; ".join(m for messages in errors.values() for m in messages))
        self.errors = dict(errors)


def check_may_work_on(scheme: Scheme, actor: User | None) -> None:
    """BulletinPermissionError unless the person may write or send this scheme's bulletins."""
    # None is the command line acting for the association.
    if actor is None:
        return
    if not actor.is_active_account:
        raise BulletinPermissionError("This account is not active.")
    if not actor.is_admin and not content.is_coordinator_of(actor, scheme.id):
        raise BulletinPermissionError("Only the scheme's coordinators can write or send its bulletins.")


def transition(
    bulletin: Bulletin,
    name: str,
    to_state: BulletinState,
    actor: User | None,
    *,
    actor_label: str | None = None,
    summary: str = "",
    **details: object,
) -> None:
    """Make one move of the state machine as a compare-and-set; BulletinError if it is not allowed from here."""
    from_state = bulletin.state
    try:
        approvals.move(
            bulletin, BULLETIN_TRANSITIONS, name, to_state, actor=actor, actor_label=actor_label,
            summary=summary or f"Bulletin “{bulletin.subject}” of {bulletin.scheme.name} {name.replace('_', ' ')}",
            scheme_id=bulletin.scheme_id, previous_state=from_state.value, **details,
        )
    except approvals.MoveNotDeclared as exc:
        raise BulletinError(
            f"This bulletin is {from_state.label}; it cannot be {name.replace('_', ' ')} from there."
        ) from exc
    except approvals.StaleState as exc:
        raise BulletinError(
            "Someone changed this bulletin a moment ago. Reload the page to see where it stands."
        ) from exc
