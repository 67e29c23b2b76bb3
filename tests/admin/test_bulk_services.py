"""Bulk actions on a selection of the coordinators list, without HTTP: selection checks, each action, audit."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from coordinator.admin import bulk_actions, services
from coordinator.admin.services import AdminError
from coordinator.audit.models import AuditEntry
from coordinator.auth.models import Role, User
from coordinator.extensions import db
from coordinator.schemes.models import CoordinatorRole, SchemeCoordinator
from tests.admin.helpers import actions, queued_mail
from tests.factories import make_admin, make_scheme, make_user


@pytest.fixture
def me(app) -> User:
    return make_admin(name="Alex Admin", email="alex@example.org")


def _places(user: User) -> dict[int, CoordinatorRole]:
    stmt = select(SchemeCoordinator).where(SchemeCoordinator.user_id == user.id)
    return {m.scheme_id: m.role for m in db.session.scalars(stmt)}


def _snapshot() -> list[tuple]:
    """Everything a bulk action could change, to show that a refused one changed nothing."""
    db.session.expire_all()
    users = [(u.id, u.role, u.is_active_account, u.invited_at) for u in db.session.scalars(select(User))]
    places = sorted((m.user_id, m.scheme_id, m.role) for m in db.session.scalars(select(SchemeCoordinator)))
    entries = len(db.session.scalars(select(AuditEntry)).all())
    return [users, places, entries, len(queued_mail())]


ALL_ACTIONS = {
    "resend": lambda ids, visible, by, scheme, other: bulk_actions.bulk_resend_invitations(ids, visible, by),
    "deactivate": lambda ids, visible, by, scheme, other: bulk_actions.bulk_deactivate(ids, visible, by),
    "reactivate": lambda ids, visible, by, scheme, other: bulk_actions.bulk_reactivate(ids, visible, by),
    "role": lambda ids, visible, by, scheme, other: bulk_actions.bulk_change_role(ids, visible, Role.ADMIN, by),
    "add": lambda ids, visible, by, scheme, other: bulk_actions.bulk_add_to_scheme(
        ids, visible, scheme.id, CoordinatorRole.DEPUTY, by
    ),
    "move": lambda ids, visible, by, scheme, other: bulk_actions.bulk_move_to_scheme(
        ids, visible, scheme.id, other.id, None, by
    ),
}


# --- The selection ------------------------------------------------------------------------------


@pytest.mark.parametrize("action", sorted(ALL_ACTIONS))
def test_an_id_outside_the_page_refuses_the_whole_action(me, action):
    on_page = [make_user(password=None, active=False) for _ in range(3)]
    elsewhere = make_user(password=None, active=False)
    scheme, other = make_scheme(coordinators=[*on_page, elsewhere]), make_scheme()
    db.session.commit()
    before = _snapshot()
    ids = [on_page[0].id, elsewhere.id]
    with pytest.raises(AdminError, match="1 selected account is not on the page you were looking at. Nothing"):
        ALL_ACTIONS[action](ids, [u.id for u in on_page], me, scheme, other)
    db.session.rollback()
    assert _snapshot() == before


@pytest.mark.parametrize("action", sorted(ALL_ACTIONS))
def test_a_nonexistent_id_refuses_the_whole_action(me, action):
    people = [make_user(password=None, active=False) for _ in range(2)]
    scheme, other = make_scheme(coordinators=people), make_scheme()
    db.session.commit()
    before = _snapshot()
    ids = [people[0].id, people[1].id, 987654]
    with pytest.raises(AdminError, match="1 selected account no longer exists. Nothing was changed"):
        ALL_ACTIONS[action](ids, ids, me, scheme, other)
    db.session.rollback()
    assert _snapshot() == before


def test_an_empty_selection_or_an_overlong_page_is_refused(me):
    people = [make_user() for _ in range(3)]
    with pytest.raises(AdminError, match="Tick at least one person"):
        bulk_actions.bulk_deactivate([], [u.id for u in people], me)
    too_many = list(range(1, services.PER_PAGE + 2))
    with pytest.raises(AdminError, match="one page of the list"):
        bulk_actions.bulk_deactivate([people[0].id], too_many, me)
    assert all(u.is_active_account for u in people)


def test_selected_accounts_come_back_by_name_once_each(me):
    zoe = make_user(name="Zoë Adams")
    bea = make_user(name="bea Lowe")
    assert bulk_actions.selected_accounts([zoe.id, bea.id, zoe.id], [bea.id, zoe.id]) == [bea, zoe]


# --- Each action --------------------------------------------------------------------------------


def test_resend_invitations_goes_only_to_those_without_a_password(me):
    waiting = make_user(name="Wendy Waiting", password=None, email="wendy@example.org")
    active = make_user(name="Ann Active", email="ann@example.org")
    gone = make_user(name="Gus Gone", password=None, active=False, email="gus@example.org")
    ids = [waiting.id, active.id, gone.id]
    outcome = bulk_actions.bulk_resend_invitations(ids, ids, me)
    assert outcome.changed == [waiting]
    assert [mail.to_address for mail in queued_mail()] == ["wendy@example.org"]
    assert waiting.invited_at is not None and active.invited_at is None
    assert outcome.summary() == (
        "Invitation sent again (1 account). Left as they were: ann@example.org has already set a password; "
        "gus@example.org is deactivated."
    )
    [invited] = actions("users.invited")
    assert invited.object_id == str(waiting.id) and invited.actor_id == me.id
    [summary] = actions("users.bulk_invited")
    assert summary.details["user_ids"] == [waiting.id]
    assert sorted(summary.details["skipped_ids"]) == sorted([active.id, gone.id])


def test_deactivate_ends_sessions_and_skips_those_already_deactivated(me):
    one, two = make_user(email="one@example.org"), make_user(email="two@example.org")
    gone = make_user(active=False, email="gone@example.org")
    tokens = {one.id: one.session_token, two.id: two.session_token}
    ids = [one.id, two.id, gone.id]
    outcome = bulk_actions.bulk_deactivate(ids, ids, me)
    assert sorted(u.id for u in outcome.changed) == sorted([one.id, two.id])
    assert not one.is_active_account and not two.is_active_account
    assert one.session_token != tokens[one.id] and two.session_token != tokens[two.id]
    assert "gone@example.org is already deactivated" in outcome.summary()
    assert sorted(e.object_id for e in actions("users.deactivated")) == sorted([str(one.id), str(two.id)])
    assert len(actions("users.bulk_deactivated")) == 1


def test_an_admin_cannot_deactivate_themselves_in_bulk(me):
    other = make_user()
    db.session.commit()
    before = _snapshot()
    with pytest.raises(AdminError, match="Your own account is ticked: you cannot deactivate it"):
        bulk_actions.bulk_deactivate([other.id, me.id], [other.id, me.id], me)
    db.session.rollback()
    assert _snapshot() == before


def test_reactivate(me):
    gone, active = make_user(active=False), make_user(email="still@example.org")
    outcome = bulk_actions.bulk_reactivate([gone.id, active.id], [gone.id, active.id], me)
    assert outcome.changed == [gone] and gone.is_active_account
    assert "still@example.org is already active" in outcome.summary()
    assert [e.object_id for e in actions("users.reactivated")] == [str(gone.id)]


def test_change_role_both_ways_and_never_demote_oneself(me):
    one, two = make_user(), make_user()
    ids = [one.id, two.id]
    outcome = bulk_actions.bulk_change_role(ids, ids, Role.ADMIN, me)
    assert one.role == Role.ADMIN and two.role == Role.ADMIN and len(outcome.changed) == 2
    assert len(actions("users.role_changed")) == 2
    # Making oneself an admin again is harmless and simply skipped ...
    again = bulk_actions.bulk_change_role([me.id, one.id], [me.id, one.id], Role.ADMIN, me)
    assert again.changed == [] and again.summary().startswith("Nothing was changed")
    # ... but demoting a selection that holds one's own account is refused for everyone in it.
    db.session.commit()
    before = _snapshot()
    with pytest.raises(AdminError, match="cannot take the admin role away from it"):
        bulk_actions.bulk_change_role([one.id, me.id], [one.id, me.id], Role.COORDINATOR, me)
    db.session.rollback()
    assert _snapshot() == before
    bulk_actions.bulk_change_role(ids, ids, Role.COORDINATOR, me)
    assert one.role == Role.COORDINATOR and two.role == Role.COORDINATOR


def test_add_to_scheme_adds_changes_place_and_skips_those_already_there(me):
    scheme = make_scheme("Hayes Lane Watch")
    new, deputy, main = make_user(), make_user(), make_user(email="main@example.org")
    db.session.add_all(
        [
            SchemeCoordinator(scheme_id=scheme.id, user_id=deputy.id, role=CoordinatorRole.DEPUTY),
            SchemeCoordinator(scheme_id=scheme.id, user_id=main.id, role=CoordinatorRole.MAIN),
        ]
    )
    db.session.flush()
    ids = [new.id, deputy.id, main.id]
    outcome = bulk_actions.bulk_add_to_scheme(ids, ids, scheme.id, CoordinatorRole.MAIN, me)
    assert sorted(u.id for u in outcome.changed) == sorted([new.id, deputy.id])
    assert _places(new) == {scheme.id: CoordinatorRole.MAIN} and _places(deputy) == {scheme.id: CoordinatorRole.MAIN}
    assert "main@example.org is already the main coordinator of Hayes Lane Watch" in outcome.summary()
    assert len(actions("schemes.coordinator_added")) == 1 and len(actions("schemes.coordinator_changed")) == 1
    [summary] = actions("users.bulk_added_to_scheme")
    assert summary.details["scheme_id"] == scheme.id and summary.details["role"] == "main"


def test_add_to_a_missing_scheme_is_refused(me):
    user = make_user()
    db.session.commit()
    before = _snapshot()
    for scheme_id in (None, 0, 424242):
        with pytest.raises(AdminError, match="Choose the scheme to add them to"):
            bulk_actions.bulk_add_to_scheme([user.id], [user.id], scheme_id, CoordinatorRole.MAIN, me)
    assert _snapshot() == before


def test_move_between_schemes_keeps_or_sets_the_place(me):
    source, target = make_scheme("Old Watch"), make_scheme("New Watch")
    main, deputy = make_user(), make_user()
    outsider = make_user(email="outsider@example.org")
    both = make_user()
    db.session.add_all(
        [
            SchemeCoordinator(scheme_id=source.id, user_id=main.id, role=CoordinatorRole.MAIN),
            SchemeCoordinator(scheme_id=source.id, user_id=deputy.id, role=CoordinatorRole.DEPUTY),
            SchemeCoordinator(scheme_id=source.id, user_id=both.id, role=CoordinatorRole.DEPUTY),
            SchemeCoordinator(scheme_id=target.id, user_id=both.id, role=CoordinatorRole.DEPUTY),
        ]
    )
    db.session.flush()
    ids = [main.id, deputy.id, outsider.id, both.id]
    outcome = bulk_actions.bulk_move_to_scheme(ids, ids, source.id, target.id, None, me)
    assert sorted(u.id for u in outcome.changed) == sorted([main.id, deputy.id, both.id])
    assert _places(main) == {target.id: CoordinatorRole.MAIN}
    assert _places(deputy) == {target.id: CoordinatorRole.DEPUTY}
    assert _places(both) == {target.id: CoordinatorRole.DEPUTY}
    assert _places(outsider) == {}
    assert "outsider@example.org is not a coordinator of Old Watch" in outcome.summary()
    assert outcome.summary().startswith("Moved from Old Watch to New Watch (3 accounts).")
    assert len(actions("schemes.coordinator_removed")) == 3
    assert len(actions("schemes.coordinator_added")) == 2  # "both" was already a deputy there
    [summary] = actions("users.bulk_moved")
    assert (summary.details["from_scheme_id"], summary.details["to_scheme_id"]) == (source.id, target.id)

    # Back again, all as deputies this time.
    back = [main.id, deputy.id]
    bulk_actions.bulk_move_to_scheme(back, back, target.id, source.id, CoordinatorRole.DEPUTY, me)
    assert _places(main) == {source.id: CoordinatorRole.DEPUTY} == _places(deputy)


def test_move_needs_two_different_existing_schemes(me):
    scheme = make_scheme()
    user = make_user()
    db.session.add(SchemeCoordinator(scheme_id=scheme.id, user_id=user.id, role=CoordinatorRole.MAIN))
    db.session.flush()
    db.session.commit()
    before = _snapshot()
    with pytest.raises(AdminError, match="Choose two different schemes"):
        bulk_actions.bulk_move_to_scheme([user.id], [user.id], scheme.id, scheme.id, None, me)
    with pytest.raises(AdminError, match="Choose the scheme they join"):
        bulk_actions.bulk_move_to_scheme([user.id], [user.id], scheme.id, 424242, None, me)
    with pytest.raises(AdminError, match="Choose the scheme they leave"):
        bulk_actions.bulk_move_to_scheme([user.id], [user.id], None, scheme.id, None, me)
    assert _snapshot() == before


def test_nothing_changed_writes_no_summary_entry(me):
    active = make_user()
    outcome = bulk_actions.bulk_reactivate([active.id], [active.id], me)
    assert outcome.changed == [] and actions("users.bulk_reactivated") == []


# --- The ward filter ----------------------------------------------------------------------------


def test_users_query_filters_by_the_ward_of_their_schemes(me):
    hayes_a, hayes_b, chis = make_user(), make_user(), make_user()
    make_scheme(coordinators=[hayes_a], ward="Hayes and Coney Hall")
    make_scheme(coordinators=[hayes_b, chis], ward="Hayes and Coney Hall")
    make_scheme(coordinators=[chis], ward="Chislehurst")
    make_scheme(ward="")
    found = list(db.session.scalars(services.users_query(services.UserFilter(ward="Hayes and Coney Hall"))))
    assert sorted(u.id for u in found) == sorted([hayes_a.id, hayes_b.id, chis.id])
    found = list(db.session.scalars(services.users_query(services.UserFilter(ward="Chislehurst"))))
    assert [u.id for u in found] == [chis.id]
    assert services.ward_choices() == ["Chislehurst", "Hayes and Coney Hall"]
