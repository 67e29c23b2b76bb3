"""The approval grammar content and bulletins share: only declared moves, compare-and-set, four eyes, one audit entry."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from coordinator import approvals
from coordinator.audit.models import AuditEntry
from coordinator.bulletins import approval as bulletin_approval
from coordinator.bulletins.models import Bulletin, BulletinState
from coordinator.bulletins.transitions import BULLETIN_TRANSITIONS, BulletinError
from coordinator.content import approval
from coordinator.content import services as content
from coordinator.content.models import ContentVersion, VersionState
from coordinator.extensions import db
from coordinator.settings import get_settings
from tests.factories import make_admin, make_campaign, make_helpline, make_helpline_set, make_scheme, make_user

S = VersionState


@pytest.fixture(autouse=True)
def _in_app(app):
    yield app


def audit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry))


def stored_state(version: ContentVersion) -> VersionState:
    return db.session.scalar(select(ContentVersion.state).where(ContentVersion.id == version.id))


def someone_else_moves(version: ContentVersion, to_state: VersionState) -> None:
    # Another admin's request, committed a moment ago: the row changes and this session's object does not know.
    db.session.execute(
        update(ContentVersion).where(ContentVersion.id == version.id).values(state=to_state),
        execution_options={"synchronize_session": False},
    )


@pytest.mark.parametrize(
    "name, to_state",
    [
        ("approved", S.APPROVED),  # a declared move, but not from a draft
        ("submitted", S.APPROVED),  # a declared name with a pair it does not make
        ("published", S.SUBMITTED),  # no such move at all
    ],
)
def test_a_move_not_declared_is_refused_and_changes_nothing(name, to_state):
    version = make_campaign(make_admin(), S.DRAFT)
    before = audit_count()
    with pytest.raises(approvals.MoveNotDeclared):
        approvals.move(version, approval.TRANSITIONS, name, to_state, actor=make_admin(), summary="x")
    assert version.state == S.DRAFT and stored_state(version) == S.DRAFT
    assert audit_count() == before


def test_a_stale_compare_and_set_changes_nothing_and_says_so():
    author, approver = make_admin(), make_admin()
    version = make_campaign(author, S.SUBMITTED)
    someone_else_moves(version, S.DRAFT)  # withdrawn by its author while the approver read it
    before = audit_count()
    with pytest.raises(approvals.StaleState):
        approvals.move(version, approval.TRANSITIONS, "approved", S.APPROVED, actor=approver, summary="x")
    assert stored_state(version) == S.DRAFT
    assert version.state == S.DRAFT  # the object learns where the row really stands
    assert audit_count() == before


def test_content_says_in_its_own_words_that_someone_moved_the_version_first():
    author, approver = make_admin(), make_admin()
    version = make_campaign(author, S.SUBMITTED)
    someone_else_moves(version, S.DRAFT)
    with pytest.raises(content.ContentError, match="Someone changed version 1 .* a moment ago"):
        approval.approve_version(version, approver)
    assert stored_state(version) == S.DRAFT


def test_a_bulletin_says_in_its_own_words_that_someone_moved_it_first():
    admin = make_admin()
    helpline_set = make_helpline_set([make_helpline(admin)], admin)
    bulletin = Bulletin(scheme=make_scheme(), subject="Dark evenings", helpline_set_version=helpline_set)
    db.session.add(bulletin)
    db.session.flush()
    db.session.execute(
        update(Bulletin).where(Bulletin.id == bulletin.id).values(state=BulletinState.SENT),
        execution_options={"synchronize_session": False},
    )
    with pytest.raises(BulletinError, match="Someone changed this bulletin a moment ago"):
        bulletin_approval.cancel_bulletin(bulletin, admin)
    assert db.session.scalar(select(Bulletin.state).where(Bulletin.id == bulletin.id)) == BulletinState.SENT


def test_four_eyes_refuse_the_author_while_the_setting_is_on_and_another_admin_exists():
    author, colleague = make_admin(), make_admin()
    assert approvals.is_refused_by_four_eyes(author.id, author)
    assert not approvals.is_refused_by_four_eyes(author.id, colleague)
    get_settings().is_four_eyes_required = False
    assert not approvals.is_refused_by_four_eyes(author.id, author)


def test_four_eyes_let_a_sole_admin_approve_their_own_work():
    author = make_admin()
    make_admin(active=False)
    make_user()
    assert not approvals.is_refused_by_four_eyes(author.id, author)
    assert not approvals.is_refused_by_four_eyes(None, author)


def test_every_successful_move_writes_exactly_one_audit_entry():
    author, approver = make_admin(), make_admin()
    version = make_campaign(author, S.DRAFT)
    for name, to_state, actor in [
        ("submitted", S.SUBMITTED, author),
        ("changes_requested", S.CHANGES_REQUESTED, approver),
        ("revised", S.DRAFT, author),
        ("submitted", S.SUBMITTED, author),
        ("approved", S.APPROVED, approver),
        ("retired", S.RETIRED, approver),
    ]:
        before = audit_count()
        left = version.state
        assert approvals.move(version, approval.TRANSITIONS, name, to_state, actor=actor, summary=name) == left
        assert stored_state(version) == to_state and version.state == to_state
        assert audit_count() == before + 1
        entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert entry.action == f"content.{name}" and entry.actor == actor


def test_each_domain_declares_its_moves_as_data():
    assert approval.TRANSITIONS.name_of(S.SUBMITTED, S.APPROVED) == "approved"
    assert (S.APPROVED, S.DRAFT) not in approval.TRANSITIONS
    # Two bulletin moves share a pair (withdrawn and changes requested), so the name is always given.
    pair = (BulletinState.AWAITING_APPROVAL, BulletinState.DRAFT)
    assert BULLETIN_TRANSITIONS.name_of(*pair) is None
    assert BULLETIN_TRANSITIONS.allows("withdrawn", *pair) and BULLETIN_TRANSITIONS.allows("changes_requested", *pair)
