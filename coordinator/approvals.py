"""The approval grammar content versions and bulletins share: declared moves, compare-and-set, four eyes, audit.

A domain keeps its state in an enum column named `state` and declares its moves once, as data (`Moves`: each
move's name and the (from, to) pairs it may make). `move()` is the one way such a state changes: it refuses a
move that is not declared, makes it as `UPDATE ... WHERE state = <the state this object holds>` so two people (or
a person and a job) can never both move the same row from the same state, and writes the audit entry
`<domain>.<move>` in the same step. Who may make a move, and what else a move stamps, stays with the domain;
`is_refused_by_four_eyes()` is the one four-eyes rule both domains ask.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from sqlalchemy import func, select, update
from sqlalchemy.orm.attributes import set_committed_value

from coordinator import audit
from coordinator.auth.models import Role, User
from coordinator.extensions import db
from coordinator.settings import get_settings

State = enum.Enum
Pair = tuple[State, State]


class ApprovalError(Exception):
    """A move could not be made; each domain says why in its own words."""


class MoveNotDeclared(ApprovalError):
    """The move is not one the domain declared from the state the object is in."""


class StaleState(ApprovalError):
    """The row had already left the state this object holds: someone else moved it first. Nothing changed."""


@dataclass(frozen=True)
class Moves:
    """One domain's state machine as data: the model whose `state` moves, and each move's (from, to) pairs.

    Iterating it gives every declared (from, to) pair.
    """

    model: type
    # The audit log's action for a move is "<audit_prefix>.<move name>".
    audit_prefix: str
    by_name: Mapping[str, Iterable[Pair]]
    _names: Mapping[Pair, tuple[str, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {name: frozenset(pairs) for name, pairs in self.by_name.items()})
        names: dict[Pair, tuple[str, ...]] = {}
        for name, pairs in self.by_name.items():
            for pair in pairs:
                names[pair] = (*names.get(pair, ()), name)
        object.__setattr__(self, "_names", names)

    def __iter__(self) -> Iterator[Pair]:
        return iter(self._names)

    def __contains__(self, pair: object) -> bool:
        return pair in self._names

    def allows(self, name: str, from_state: State, to_state: State) -> bool:
        """Whether `name` is declared as a move from `from_state` to `to_state`."""
        return (from_state, to_state) in self.by_name.get(name, ())

    def name_of(self, from_state: State, to_state: State) -> str | None:
        """The one move declared from `from_state` to `to_state`; None when there is none, or more than one."""
        names = self._names.get((from_state, to_state), ())
        return names[0] if len(names) == 1 else None


def move(
    obj: object,
    moves: Moves,
    name: str,
    to_state: State,
    *,
    actor: User | None,
    actor_label: str | None = None,
    summary: str,
    **details: object,
) -> State:
    """Make one declared move as a compare-and-set and write its one audit entry; returns the state it left.

    MoveNotDeclared when `name` is not declared from where the object stands; StaleState when the row had
    already left that state (the object's state is then reloaded and nothing is written). `actor` None is the
    command line or a job acting for the association: `actor_label` names it ("system" when not given).
    """
    from_state = obj.state
    if not moves.allows(name, from_state, to_state):
        raise MoveNotDeclared(f"{name} is not a move from {from_state.value} to {to_state.value}")
    # Whatever the domain stamped on the object (who, when) is written before the state, in the same transaction.
    db.session.flush()
    model = moves.model
    result = db.session.execute(
        update(model).where(model.id == obj.id, model.state == from_state).values(state=to_state),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount != 1:
        db.session.expire(obj, ["state"])
        raise StaleState(f"{model.__name__} {obj.id} is no longer {from_state.value}")
    # The database already holds the new state: the object learns it without a second UPDATE at the next flush.
    set_committed_value(obj, "state", to_state)
    audit.record(
        f"{moves.audit_prefix}.{name}",
        obj,
        summary,
        actor=actor,
        actor_label=None if actor is not None else (actor_label or "system"),
        **details,
    )
    return from_state


# --- Four eyes ----------------------------------------------------------------------------------


def is_refused_by_four_eyes(author_id: int | None, approver: User) -> bool:
    """Whether four eyes stop this approver: the setting is on, they wrote it, and another active admin exists."""
    # A sole admin may approve their own work: refusing them would leave it waiting for no one.
    return (
        author_id is not None
        and author_id == approver.id
        and get_settings().is_four_eyes_required
        and _other_active_admin_exists(approver)
    )


def _other_active_admin_exists(user: User) -> bool:
    return db.session.scalar(
        select(func.count()).select_from(User).where(
            User.role == Role.ADMIN, User.is_active_account.is_(True), User.id != user.id
        )
    ) > 0

