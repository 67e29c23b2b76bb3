"""Bulk actions through the coordinators list page: tick, press one button, see what happened."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from coordinator.audit.models import AuditEntry
from coordinator.auth.models import Role, User
from coordinator.extensions import db
from coordinator.schemes.models import CoordinatorRole, SchemeCoordinator
from tests.admin.helpers import HOSTILE, actions
from tests.factories import make_admin, make_scheme, make_user
from tests.helpers.web import csrf_from, login_as, outbox_messages

VISIBLE_RE = re.compile(r'<input type="hidden" name="visible" value="(\d+)">')


@pytest.fixture
def admin(app, client):
    admin = make_admin(name="Alex Admin", email="alex@example.org")
    db.session.commit()
    login_as(client, admin)
    return admin


def _list(client, query: str = "") -> tuple[str, list[str]]:
    """The list page as the admin sees it, and the ids it sends back as 'on this page'."""
    page = client.get(f"/admin/users{query}").get_data(as_text=True)
    return page, VISIBLE_RE.findall(page)


def _bulk(client, action: str, ticked: list, query: str = "", visible: list | None = None, **extra):
    """Tick people on the list page (with its filter in `query`) and press one action's button."""
    page, on_page = _list(client, query)
    data = {
        "csrf_token": csrf_from(page),
        "bulk_action": action,
        "ids": [str(i) for i in ticked],
        "visible": [str(i) for i in visible] if visible is not None else on_page,
        **extra,
    }
    return client.post(f"/admin/users/bulk{query}", data=data)


def _state(*users: User) -> list[tuple]:
    db.session.expire_all()
    return [
        (u.role, u.is_active_account, u.invited_at, sorted((m.scheme_id, m.role) for m in _places(u))) for u in users
    ]


def _places(user: User) -> list[SchemeCoordinator]:
    return list(db.session.scalars(select(SchemeCoordinator).where(SchemeCoordinator.user_id == user.id)))


# --- The page -----------------------------------------------------------------------------------


def test_the_list_has_a_box_per_row_and_sends_its_ids(client, admin):
    people = [make_user(name=f"Volunteer {i}") for i in range(3)]
    db.session.commit()
    page, on_page = _list(client)
    assert sorted(on_page) == sorted(str(u.id) for u in [admin, *people])
    for user in people:
        assert f'<input type="checkbox" name="ids" value="{user.id}" id="tick-{user.id}">' in page
        assert f'<label for="tick-{user.id}" class="visually-hidden">Tick {user.name}</label>' in page
    assert '<form method="post" action="/admin/users/bulk" novalidate>' in page
    for action in ("add", "move", "role", "resend", "reactivate", "deactivate"):
        assert f'name="bulk_action" value="{action}"' in page


def test_the_scheme_they_leave_is_chosen_from_the_schemes_on_the_page(client, admin):
    pat = make_user(name="Pat Okafor")
    make_scheme("Hayes Lane Watch", coordinators=[pat])
    make_scheme("Bourne Way Watch", coordinators=[make_user(name="Sam Reid")])
    empty = make_scheme("Empty Watch")
    db.session.commit()
    page, _ = _list(client, "?q=okafor")
    leave = re.search(r'<select[^>]*name="move_from">(.*?)</select>', page).group(1)
    assert ">Hayes Lane Watch<" in leave and "Bourne Way Watch" not in leave and "Empty Watch" not in leave
    join = re.search(r'<select[^>]*name="move_to">(.*?)</select>', page).group(1)
    assert f'<option value="{empty.id}">Empty Watch</option>' in join and "Bourne Way Watch" in join


def test_the_form_keeps_the_lists_filter_and_page(client, admin):
    for i in range(60):
        make_user(name=f"Volunteer {i:02d}", password=None)
    db.session.commit()
    page, on_page = _list(client, "?status=invited&page=2")
    assert 'action="/admin/users/bulk?page=2&amp;status=invited"' in page
    assert len(on_page) == 10
    response = _bulk(client, "resend", on_page[:2], query="?status=invited&page=2")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/users?status=invited&page=2"
    assert len(outbox_messages(client.application)) == 2


# --- Each action, happy path --------------------------------------------------------------------


def test_resend_invitations_to_the_ticked_people_without_a_password(app, client, admin):
    waiting = make_user(name="Wendy Waiting", email="wendy@example.org", password=None)
    active = make_user(name="Ann Active", email="ann@example.org")
    db.session.commit()
    response = _bulk(client, "resend", [waiting.id, active.id])
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Invitation sent again (1 account). Left as they were: ann@example.org has already set a password." in page
    assert [m["To"].addresses[0].addr_spec for m in outbox_messages(app)] == ["wendy@example.org"]
    assert [e.object_id for e in actions("users.invited")] == [str(waiting.id)]


def test_an_action_that_applies_to_nobody_ticked_says_so(app, client, admin):
    make_user(email="ann@example.org")
    db.session.commit()
    ann = db.session.scalar(select(User).where(User.email == "ann@example.org"))
    response = _bulk(client, "resend", [ann.id])
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Nothing was changed: ann@example.org has already set a password." in page
    assert outbox_messages(app) == [] and actions("users.bulk_invited") == []


def test_deactivate_then_reactivate_in_bulk(app, client, admin):
    one, two = make_user(), make_user()
    db.session.commit()
    theirs = app.test_client()
    login_as(theirs, one)
    response = _bulk(client, "deactivate", [one.id, two.id])
    assert response.status_code == 302
    assert "Deactivated and logged out everywhere (2 accounts)." in client.get("/admin/users").get_data(as_text=True)
    db.session.expire_all()
    assert not one.is_active_account and not two.is_active_account
    assert theirs.get("/").status_code == 302  # their session ended at once
    assert len(actions("users.deactivated")) == 2 and len(actions("users.bulk_deactivated")) == 1

    _bulk(client, "reactivate", [one.id, two.id])
    db.session.expire_all()
    assert one.is_active_account and two.is_active_account
    assert len(actions("users.reactivated")) == 2


def test_change_role_in_bulk(client, admin):
    one, two = make_user(), make_user()
    db.session.commit()
    response = _bulk(client, "role", [one.id, two.id], new_role="admin")
    assert response.status_code == 302
    db.session.expire_all()
    assert one.role == Role.ADMIN and two.role == Role.ADMIN
    assert sorted(e.object_id for e in actions("users.role_changed")) == sorted([str(one.id), str(two.id)])


def test_add_to_a_scheme_in_bulk(client, admin):
    one, two = make_user(), make_user()
    scheme = make_scheme("Hayes Lane Watch")
    db.session.commit()
    response = _bulk(client, "add", [one.id, two.id], add_scheme=str(scheme.id), add_place="deputy")
    assert response.status_code == 302
    page = client.get("/admin/users").get_data(as_text=True)
    assert "Added to Hayes Lane Watch as deputy coordinator (2 accounts)." in page
    assert page.count("Hayes Lane Watch (deputy)") == 2
    assert len(actions("schemes.coordinator_added")) == 2


def test_move_between_schemes_in_bulk(client, admin):
    one, two, stay = make_user(), make_user(), make_user()
    source = make_scheme("Old Watch", coordinators=[one, two, stay])
    target = make_scheme("New Watch")
    db.session.commit()
    response = _bulk(
        client, "move", [one.id, two.id], move_from=str(source.id), move_to=str(target.id), move_place="keep"
    )
    assert response.status_code == 302
    assert [(m.scheme_id, m.role) for m in _places(one)] == [(target.id, CoordinatorRole.MAIN)]
    assert [(m.scheme_id, m.role) for m in _places(two)] == [(target.id, CoordinatorRole.DEPUTY)]
    assert [m.scheme_id for m in _places(stay)] == [source.id]
    assert len(actions("schemes.coordinator_removed")) == 2 and len(actions("schemes.coordinator_added")) == 2


# --- Refusals: nothing changes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "extra"),
    [
        ("resend", {}),
        ("deactivate", {}),
        ("reactivate", {}),
        ("role", {"new_role": "admin"}),
        ("add", {"add_scheme": "SCHEME", "add_place": "main"}),
        ("move", {"move_from": "SCHEME", "move_to": "OTHER", "move_place": "deputy"}),
    ],
)
def test_ids_outside_the_page_or_nonexistent_refuse_every_action(app, client, admin, action, extra):
    on_page = [make_user(password=None) for _ in range(2)]
    gone = make_user(password=None, active=False)
    scheme, other = make_scheme(coordinators=[*on_page, gone]), make_scheme()
    db.session.commit()
    extra = {k: {"SCHEME": str(scheme.id), "OTHER": str(other.id)}.get(v, v) for k, v in extra.items()}
    before = _state(*on_page, gone)
    entries = len(actions("users.invited"))

    # The page the admin saw held only the first two; the third id was added to the selection.
    outside = _bulk(client, action, [on_page[0].id, gone.id], visible=[u.id for u in on_page], **extra)
    page = outside.get_data(as_text=True)
    assert outside.status_code == 200
    assert "1 selected account is not on the page you were looking at. Nothing was changed" in page
    # The boxes stay ticked for another go.
    assert f'value="{on_page[0].id}" id="tick-{on_page[0].id}" checked' in page

    missing = _bulk(client, action, [on_page[0].id, 99999], visible=[on_page[0].id, 99999], **extra)
    assert "1 selected account no longer exists. Nothing was changed" in missing.get_data(as_text=True)

    assert _state(*on_page, gone) == before
    assert len(actions("users.invited")) == entries and outbox_messages(app) == []
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action.startswith("users.bulk_"))) is None


def test_an_admin_cannot_deactivate_or_demote_themselves_in_bulk(client, admin):
    other = make_user()
    db.session.commit()
    refused = _bulk(client, "deactivate", [admin.id, other.id]).get_data(as_text=True)
    assert "Your own account is ticked: you cannot deactivate it" in refused
    refused = _bulk(client, "role", [admin.id, other.id], new_role="coordinator").get_data(as_text=True)
    assert "Your own account is ticked: you cannot take the admin role away from it" in refused
    db.session.expire_all()
    assert admin.is_active_account and admin.role == Role.ADMIN
    assert other.is_active_account and other.role == Role.COORDINATOR
    assert actions("users.deactivated") == [] and actions("users.role_changed") == []
    assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize(
    ("action", "extra", "message", "anchor"),
    [
        ("role", {}, "Choose the new role", "new_role"),
        ("role", {"new_role": "owner"}, "Not a valid choice", "new_role"),
        ("add", {}, "Choose the scheme to add them to", "add_scheme"),
        ("add", {"add_scheme": "424242"}, "Not a valid choice", "add_scheme"),
        ("move", {"move_to": "SCHEME"}, "Choose the scheme they leave", "move_from"),
        ("move", {"move_from": "SCHEME", "move_to": "SCHEME"}, "Choose a different scheme", "move_to"),
        ("explode", {}, "Choose what to do with the people ticked", "bulk_action"),
    ],
)
def test_missing_or_bad_choices_are_shown_at_the_field(client, admin, action, extra, message, anchor):
    user = make_user()
    scheme = make_scheme()
    db.session.commit()
    extra = {k: str(scheme.id) if v == "SCHEME" else v for k, v in extra.items()}
    response = _bulk(client, action, [user.id], **extra)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'<a href="#{anchor}">{message}' in page
    assert f'id="{anchor}"' in page  # the summary's link has somewhere to go
    assert f'value="{user.id}" id="tick-{user.id}" checked' in page
    assert _places(user) == [] and actions("users.role_changed") == []


def test_nothing_ticked_or_junk_ids_are_refused(client, admin):
    user = make_user()
    db.session.commit()
    nothing = _bulk(client, "deactivate", []).get_data(as_text=True)
    assert '<a href="#ids">Tick at least one person in the list</a>' in nothing
    junk = _bulk(client, "deactivate", ["abc", str(2**40), "-3"]).get_data(as_text=True)
    assert "The people ticked were not sent correctly. Nothing was changed" in junk
    db.session.expire_all()
    assert user.is_active_account


def test_a_coordinator_gets_403(app, client):
    coordinator = make_user()
    other = make_user(password=None)
    db.session.commit()
    login_as(client, coordinator)
    token = csrf_from(client.get("/").get_data(as_text=True))
    for action, extra in (("deactivate", {}), ("role", {"new_role": "admin"}), ("resend", {})):
        response = client.post(
            "/admin/users/bulk",
            data={
                "csrf_token": token,
                "bulk_action": action,
                "ids": [str(other.id)],
                "visible": [str(other.id)],
                **extra,
            },
        )
        assert response.status_code == 403
    db.session.expire_all()
    assert other.is_active_account and other.role == Role.COORDINATOR and outbox_messages(app) == []


def test_a_post_without_a_csrf_token_is_refused(client, admin):
    user = make_user()
    db.session.commit()
    response = client.post(
        "/admin/users/bulk", data={"bulk_action": "deactivate", "ids": [str(user.id)], "visible": [str(user.id)]}
    )
    assert response.status_code == 400
    db.session.expire_all()
    assert user.is_active_account and actions("users.deactivated") == []


def test_hostile_names_show_literally_in_the_outcome(client, admin):
    people = [make_user(name=name, email=f"h{i}@example.org", active=False) for i, name in enumerate(HOSTILE)]
    scheme = make_scheme(HOSTILE[0])
    db.session.commit()
    _bulk(client, "add", [u.id for u in people], add_scheme=str(scheme.id), add_place="main")
    page = client.get("/admin/users").get_data(as_text=True)
    assert "Added to &lt;script&gt;alert(1)&lt;/script&gt; as main coordinator (3 accounts)." in page
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert 'for="tick-' in page and "Tick {{ 7*7 }}" in page


# --- The ward filter ----------------------------------------------------------------------------


def test_filter_by_ward(client, admin):
    hayes = make_user(name="Harriet Hayes")
    chis = make_user(name="Charles Chislehurst")
    make_scheme(coordinators=[hayes], ward="Hayes and Coney Hall")
    make_scheme(coordinators=[chis], ward="Chislehurst")
    db.session.commit()
    page = client.get("/admin/users").get_data(as_text=True)
    assert '<option value="Chislehurst">Chislehurst</option>' in page
    found = client.get("/admin/users?ward=Hayes+and+Coney+Hall").get_data(as_text=True)
    assert "1 account found" in found and "Harriet Hayes" in found and "Charles Chislehurst" not in found
    assert "Clear the search" in found
    unknown = client.get("/admin/users?ward=Atlantis")
    assert unknown.status_code == 200 and "Not a valid choice" in unknown.get_data(as_text=True)
