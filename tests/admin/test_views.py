"""Admin pages through the client: invitations, account actions, lists, schemes, and who may see them."""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from flask import url_for
from sqlalchemy import event, select

from coordinator.auth.models import Role, User
from coordinator.auth.services import hash_password
from coordinator.extensions import db
from coordinator.schemes.models import CoordinatorRole, Scheme, SchemeCoordinator
from tests.admin.helpers import HOSTILE, actions, count
from tests.factories import PASSWORD, make_admin, make_scheme, make_street, make_user
from tests.helpers.web import csrf_from, login_as, outbox_messages, post_form

LINK_RE = re.compile(r"http://127\.0\.0\.1:5000(/account/set-password/\S+)")


@pytest.fixture
def admin(app, client):
    admin = make_admin(name="Alex Admin", email="alex@example.org")
    db.session.commit()
    login_as(client, admin)
    return admin


def _invitation_path(message) -> str:
    match = LINK_RE.search(message.get_body(("plain",)).get_content())
    assert match, "no set-password link in the invitation"
    return match.group(1)


@contextmanager
def _statements():
    seen: list[str] = []

    def count_it(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count_it)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count_it)


# --- Invitations --------------------------------------------------------------------------------


def test_invite_sends_a_link_that_sets_a_password_and_logs_in(app, client, admin):
    scheme = make_scheme("Hayes Lane Watch")
    db.session.commit()
    response = post_form(
        client,
        "/admin/users/invite",
        {"email": "nia@example.org", "name": "Nia Obi", "scheme": str(scheme.id), "scheme_role": "deputy"},
    )
    assert response.status_code == 302
    nia = db.session.scalar(select(User).where(User.email == "nia@example.org"))
    assert response.headers["Location"] == f"/admin/users/{nia.id}"
    assert [(m.scheme_id, m.role) for m in db.session.scalars(select(SchemeCoordinator))] == [
        (scheme.id, CoordinatorRole.DEPUTY)
    ]
    [message] = outbox_messages(app)
    assert message["To"].addresses[0].addr_spec == "nia@example.org"
    assert "Alex Admin has invited you" in message.get_body(("plain",)).get_content()

    invitee = app.test_client()
    path = _invitation_path(message)
    assert "Welcome, Nia Obi" in invitee.get(path).get_data(as_text=True)
    new_password = "a long new password"
    done = post_form(invitee, path, {"password": new_password, "confirm": new_password})
    assert done.status_code == 302
    assert "Hello, Nia Obi" in invitee.get("/").get_data(as_text=True)
    # The link is spent; the password works from a fresh browser.
    assert invitee.get(path).status_code == 400
    fresh = app.test_client()
    login_as(fresh, nia, password=new_password)
    assert "Hayes Lane Watch" in fresh.get("/").get_data(as_text=True)


def test_invite_without_a_scheme(app, client, admin):
    response = post_form(
        client,
        "/admin/users/invite",
        {"email": "solo@example.org", "name": "Solo", "scheme": "0", "scheme_role": "main"},
    )
    assert response.status_code == 302
    assert count(SchemeCoordinator) == 0
    assert len(outbox_messages(app)) == 1


def test_invite_an_existing_email_is_a_field_error(app, client, admin):
    make_user(email="pat@example.org")
    db.session.commit()
    before = count(User)
    response = post_form(
        client, "/admin/users/invite", {"email": "PAT@example.org", "name": "Pat", "scheme": "0", "scheme_role": "main"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<a href="#email">That email already has an account.</a>' in page
    assert 'aria-invalid="true"' in page
    assert count(User) == before and outbox_messages(app) == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "", "name": "X"}, "Enter the coordinator&#39;s email address"),
        ({"email": "not-an-email", "name": "X"}, "Enter a valid email address"),
        ({"email": "x@example.org", "name": ""}, "Enter the coordinator&#39;s name"),
        ({"email": "x@example.org", "name": '=HYPERLINK("http://evil")'}, "without a formula"),
        ({"email": "x@example.org", "name": "X", "scheme": "99999"}, "Not a valid choice"),
    ],
)
def test_invite_form_errors(app, client, admin, data, message):
    response = post_form(client, "/admin/users/invite", {"scheme": "0", "scheme_role": "main", **data})
    assert message in response.get_data(as_text=True)
    assert count(User) == 1 and outbox_messages(app) == []


def test_resend_invitation(app, client, admin):
    invited = make_user(password=None, email="wait@example.org")
    db.session.commit()
    page = client.get(f"/admin/users/{invited.id}").get_data(as_text=True)
    assert "Send the invitation again" in page
    response = post_form(client, f"/admin/users/{invited.id}/resend", page=f"/admin/users/{invited.id}")
    assert response.status_code == 302
    assert "A new invitation is on its way" in client.get(response.headers["Location"]).get_data(as_text=True)
    [message] = outbox_messages(app)
    assert app.test_client().get(_invitation_path(message)).status_code == 200


def test_resend_refused_once_a_password_is_set(app, client, admin):
    user = make_user()
    db.session.commit()
    assert "Send the invitation again" not in client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    response = post_form(
        client, f"/admin/users/{user.id}/resend", page=f"/admin/users/{user.id}", follow_redirects=True
    )
    assert "has already set a password" in response.get_data(as_text=True)
    assert outbox_messages(app) == []


# --- Account actions ----------------------------------------------------------------------------


def test_deactivate_ends_that_users_session_at_once(app, client, admin):
    user = make_user()
    db.session.commit()
    theirs = app.test_client()
    login_as(theirs, user)
    assert theirs.get("/").status_code == 200
    response = post_form(
        client, f"/admin/users/{user.id}/deactivate", page=f"/admin/users/{user.id}", follow_redirects=True
    )
    assert "is deactivated and logged out everywhere" in response.get_data(as_text=True)
    after = theirs.get("/")
    assert after.status_code == 302 and after.headers["Location"].startswith("/account/login")
    assert theirs.get(f"/schemes/{make_scheme(coordinators=[user]).id}").status_code == 302
    # And they cannot log in again until reactivated.
    failed = post_form(app.test_client(), "/account/login", {"email": user.email, "password": PASSWORD})
    assert failed.status_code == 200
    post_form(client, f"/admin/users/{user.id}/reactivate", page=f"/admin/users/{user.id}")
    login_as(app.test_client(), user)


def test_an_admin_cannot_deactivate_or_demote_themselves(client, admin):
    page = client.get(f"/admin/users/{admin.id}").get_data(as_text=True)
    assert "Deactivate this account" not in page and "Change the role" not in page
    response = post_form(
        client, f"/admin/users/{admin.id}/deactivate", page=f"/admin/users/{admin.id}", follow_redirects=True
    )
    assert "You cannot deactivate your own account" in response.get_data(as_text=True)
    response = post_form(
        client,
        f"/admin/users/{admin.id}/role",
        {"role": "coordinator"},
        page=f"/admin/users/{admin.id}",
        follow_redirects=True,
    )
    assert "You cannot take away your own admin role" in response.get_data(as_text=True)
    db.session.expire_all()
    assert admin.is_active_account and admin.role == Role.ADMIN
    assert client.get("/admin/").status_code == 200


def test_change_role_to_admin_and_back(app, client, admin):
    user = make_user()
    db.session.commit()
    theirs = app.test_client()
    login_as(theirs, user)
    assert theirs.get("/admin/").status_code == 403
    response = post_form(client, f"/admin/users/{user.id}/role", {"role": "admin"}, page=f"/admin/users/{user.id}")
    assert response.status_code == 302
    db.session.expire_all()
    assert user.role == Role.ADMIN
    assert actions("users.role_changed")[0].object_id == str(user.id)
    # A role change logs the person out; logging in again gives them the admin pages.
    assert theirs.get("/admin/").status_code == 302
    login_as(theirs, user)
    assert theirs.get("/admin/").status_code == 200
    post_form(client, f"/admin/users/{user.id}/role", {"role": "coordinator"}, page=f"/admin/users/{user.id}")
    db.session.expire_all()
    assert user.role == Role.COORDINATOR


def test_role_form_refuses_an_unknown_role(client, admin):
    user = make_user()
    db.session.commit()
    response = post_form(client, f"/admin/users/{user.id}/role", {"role": "owner"}, page=f"/admin/users/{user.id}")
    assert "Not a valid choice" in response.get_data(as_text=True)
    db.session.expire_all()
    assert user.role == Role.COORDINATOR


def test_add_to_and_remove_from_a_scheme_on_the_user_page(client, admin):
    user = make_user()
    scheme = make_scheme("Chislehurst Watch")
    db.session.commit()
    response = post_form(
        client,
        f"/admin/users/{user.id}/schemes",
        {"scheme": str(scheme.id), "scheme_role": "main"},
        page=f"/admin/users/{user.id}",
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "is now a coordinator of Chislehurst Watch" in page
    assert "Main coordinator" in page
    response = post_form(
        client,
        f"/admin/users/{user.id}/schemes/{scheme.id}/remove",
        page=f"/admin/users/{user.id}",
        follow_redirects=True,
    )
    assert "is no longer a coordinator of Chislehurst Watch" in response.get_data(as_text=True)
    assert count(SchemeCoordinator) == 0
    missing = post_form(
        client,
        f"/admin/users/{user.id}/schemes",
        {"scheme": "0", "scheme_role": "main"},
        page=f"/admin/users/{user.id}",
    )
    assert "Choose a scheme" in missing.get_data(as_text=True)


def test_unknown_ids_are_404(client, admin):
    scheme = make_scheme()
    db.session.commit()
    assert client.get("/admin/users/99999").status_code == 404
    assert client.get("/admin/schemes/99999").status_code == 404
    assert client.get("/admin/schemes/99999/edit").status_code == 404
    token = csrf_from(client.get("/admin/").get_data(as_text=True))
    assert client.post("/admin/users/99999/deactivate", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/admin/users/{admin.id}/schemes/99999/remove", data={"csrf_token": token}).status_code == 404
    assert (
        client.post(f"/admin/schemes/{scheme.id}/coordinators/99999/remove", data={"csrf_token": token}).status_code
        == 404
    )


def test_posts_without_a_csrf_token_are_refused(client, admin):
    user = make_user()
    db.session.commit()
    assert client.post(f"/admin/users/{user.id}/deactivate").status_code == 400
    db.session.expire_all()
    assert user.is_active_account


# --- Who may see the admin pages ----------------------------------------------------------------


def _admin_urls(app, user_id: int, scheme_id: int) -> list[tuple[str, str]]:
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("admin."):
                continue
            values = {name: (user_id if name == "user_id" else scheme_id) for name in rule.arguments}
            url = url_for(rule.endpoint, **values)
            urls += [(method, url) for method in sorted(rule.methods & {"GET", "POST"})]
    return urls


def test_a_coordinator_gets_403_on_every_admin_url(app, client):
    user = make_user()
    other = make_user(password=None)
    scheme = make_scheme(coordinators=[user, other])
    db.session.commit()
    login_as(client, user)
    token = csrf_from(client.get("/").get_data(as_text=True))
    urls = _admin_urls(app, other.id, scheme.id)
    assert len(urls) >= 20
    for method, url in urls:
        response = client.open(
            url,
            method=method,
            data={
                "csrf_token": token,
                "role": "admin",
                "email": "x@example.org",
                "name": "X",
                "scheme": str(scheme.id),
                "scheme_role": "main",
            },
        )
        assert response.status_code == 403, (method, url)
    db.session.expire_all()
    assert user.role == Role.COORDINATOR and other.is_active_account and count(User) == 2
    assert outbox_messages(app) == []


def test_anonymous_visitors_are_sent_to_log_in(app, client):
    user = make_user()
    scheme = make_scheme()
    db.session.commit()
    for method, url in _admin_urls(app, user.id, scheme.id):
        if method == "GET":
            response = client.get(url)
            assert response.status_code == 302 and "/account/login" in response.headers["Location"], url


# --- Lists --------------------------------------------------------------------------------------


def test_hostile_names_show_literally(client, admin):
    people = [make_user(name=name, email=f"hostile{i}@example.org") for i, name in enumerate(HOSTILE)]
    scheme = make_scheme(HOSTILE[0], coordinators=people, ward=HOSTILE[2])
    make_street(scheme, name=HOSTILE[1])
    db.session.commit()
    pages = [
        client.get("/admin/users").get_data(as_text=True),
        client.get(f"/admin/users/{people[0].id}").get_data(as_text=True),
        client.get(f"/admin/users/{people[2].id}").get_data(as_text=True),
        client.get(f"/admin/schemes/{scheme.id}").get_data(as_text=True),
        client.get("/admin/schemes").get_data(as_text=True),
        client.get("/admin/").get_data(as_text=True),
    ]
    for page in pages:
        assert "<script>alert(1)" not in page
        assert "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[0]
    # Form tokens are random and may hold "49": look only at what is not an attribute value.
    assert "{{ 7*7 }}" in pages[0] and "49" not in re.sub(r'value="[^"]*"', "", pages[0])
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in pages[0]
    assert "{{ 7*7 }}" in pages[3]


def test_users_list_searches_filters_and_pages_by_fifty(client, admin):
    scheme = make_scheme("Hayes Lane Watch")
    one_hash = hash_password(PASSWORD)
    for i in range(1, 121):
        user = make_user(name=f"Volunteer {i:03d}", email=f"v{i:03d}@example.org", password=None)
        if i % 2 == 0:
            user.password_hash = one_hash  # active; hashing once keeps the test quick
        if i <= 10:
            db.session.add(SchemeCoordinator(scheme_id=scheme.id, user_id=user.id, role=CoordinatorRole.DEPUTY))
    db.session.commit()
    first = client.get("/admin/users?q=VOLUNTEER").get_data(as_text=True)
    assert "120 accounts found, page 1 of 3" in first
    assert "Volunteer 050" in first and "Volunteer 051" not in first and "Alex Admin" not in first
    next_link = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    assert "page=2" in next_link and "q=VOLUNTEER" in next_link
    second = client.get(next_link).get_data(as_text=True)
    assert "Volunteer 051" in second and "Volunteer 100" in second and "Volunteer 101" not in second
    third = client.get("/admin/users?q=volunteer&page=3").get_data(as_text=True)
    assert third.count('<th scope="row"><a href="/admin/users/') == 20
    invited = client.get("/admin/users?status=invited").get_data(as_text=True)
    assert "60 accounts found, page 1 of 2" in invited and "Volunteer 002" not in invited
    in_scheme = client.get(f"/admin/users?scheme={scheme.id}&status=active").get_data(as_text=True)
    assert "5 accounts found" in in_scheme and "Hayes Lane Watch (deputy)" in in_scheme
    admins = client.get("/admin/users?role=admin").get_data(as_text=True)
    assert "1 account found" in admins and "Alex Admin" in admins
    assert "Page 1" not in admins  # one page: no pager


def test_users_list_with_bad_filter_values_still_answers(client, admin):
    response = client.get("/admin/users?scheme=abc&status=asleep&role=owner&page=-3")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "There is a problem" in page and "Alex Admin" in page


def test_users_list_query_count_does_not_grow_with_the_page(client, admin):
    def fill(n: int) -> None:
        scheme = make_scheme()
        for _ in range(n):
            user = make_user(password=None)  # no hashing: the list needs no passwords
            db.session.add(SchemeCoordinator(scheme_id=scheme.id, user_id=user.id, role=CoordinatorRole.MAIN))
        db.session.commit()

    fill(3)
    with _statements() as few:
        client.get("/admin/users")
    fill(45)
    with _statements() as many:
        page = client.get("/admin/users").get_data(as_text=True)
    assert page.count('<th scope="row"><a href="/admin/users/') == 49
    assert len(many) == len(few)


# --- Schemes ------------------------------------------------------------------------------------


def test_create_edit_and_search_schemes(client, admin):
    response = post_form(
        client,
        "/admin/schemes/new",
        {"name": "Hayes Lane Watch", "ward": "Hayes and Coney Hall", "postcode_district": "br2"},
    )
    assert response.status_code == 302
    scheme = db.session.scalar(select(Scheme))
    assert (scheme.slug, scheme.postcode_district) == ("hayes-lane-watch", "BR2")
    duplicate = post_form(client, "/admin/schemes/new", {"name": "HAYES LANE WATCH"})
    assert "Another scheme already has that name." in duplicate.get_data(as_text=True)
    bad = post_form(client, "/admin/schemes/new", {"name": "Somewhere", "postcode_district": "Bromley"})
    assert "Enter a postcode district like BR2 or SE9" in bad.get_data(as_text=True)
    assert count(Scheme) == 1
    edited = post_form(
        client,
        f"/admin/schemes/{scheme.id}/edit",
        {"name": "Hayes Lane & Bourne Way Watch", "ward": "Hayes and Coney Hall", "postcode_district": "BR2"},
        follow_redirects=True,
    )
    assert "Scheme Hayes Lane &amp; Bourne Way Watch saved." in edited.get_data(as_text=True)
    db.session.expire_all()
    assert scheme.slug == "hayes-lane-watch"
    assert [e.action for e in actions("schemes.changed")] == ["schemes.changed"]
    make_scheme("Chislehurst Common Watch", ward="Chislehurst")
    db.session.commit()
    found = client.get("/admin/schemes?q=coney").get_data(as_text=True)
    assert "Hayes Lane &amp; Bourne Way Watch" in found and "Chislehurst Common Watch" not in found
    assert "1 scheme found" in found


def test_schemes_list_shows_counts_without_a_query_per_scheme(client, admin):
    def fill(n: int) -> None:
        for _ in range(n):
            scheme = make_scheme()
            make_street(scheme, households=11)
            make_street(scheme, households=4)
        db.session.commit()

    fill(2)
    with _statements() as few:
        client.get("/admin/schemes")
    fill(60)
    with _statements() as many:
        page = client.get("/admin/schemes").get_data(as_text=True)
    assert len(many) == len(few)
    assert "62 schemes, page 1 of 2" in page
    assert page.count('<td class="num">15</td>') == 50
    assert 'rel="next"' in page


def test_assign_and_remove_coordinators_from_the_scheme_page(client, admin):
    user = make_user(name="Pat Okafor", email="pat@example.org")
    scheme = make_scheme("Hayes Lane Watch")
    db.session.commit()
    url = f"/admin/schemes/{scheme.id}"
    added = post_form(
        client,
        f"{url}/coordinators",
        {"email": "PAT@example.org", "scheme_role": "deputy"},
        page=url,
        follow_redirects=True,
    )
    page = added.get_data(as_text=True)
    assert "Pat Okafor is now a coordinator of Hayes Lane Watch." in page and "Deputy coordinator" in page
    again = post_form(client, f"{url}/coordinators", {"email": "pat@example.org", "scheme_role": "deputy"}, page=url)
    assert "already the deputy coordinator" in again.get_data(as_text=True)
    unknown = post_form(client, f"{url}/coordinators", {"email": "nobody@example.org", "scheme_role": "main"}, page=url)
    assert "No account has that email. Invite the coordinator first." in unknown.get_data(as_text=True)
    removed = post_form(client, f"{url}/coordinators/{user.id}/remove", page=url, follow_redirects=True)
    assert "Pat Okafor is no longer a coordinator of Hayes Lane Watch." in removed.get_data(as_text=True)
    assert count(SchemeCoordinator) == 0
    assert [e.action for e in actions("schemes.coordinator_added")] == ["schemes.coordinator_added"]
    assert len(actions("schemes.coordinator_removed")) == 1


# --- Dashboard ----------------------------------------------------------------------------------


def test_dashboard_shows_figures_invitations_and_recent_activity(client, admin):
    waiting = make_user(name="Wendy Waiting", password=None)
    make_user(active=False)
    scheme = make_scheme()
    make_street(scheme, households=33)
    db.session.commit()
    page = client.get("/admin/").get_data(as_text=True)
    assert f'<a href="/admin/users/{waiting.id}">Wendy Waiting</a>' in page
    assert re.search(r"Coordinators invited, no password yet</a></th><td class=\"num\">1</td>", page)
    assert re.search(r"Coordinators deactivated</a></th><td class=\"num\">1</td>", page)
    assert re.search(r"Households</th><td class=\"num\">33</td>", page)
    # The admin's own login is the latest activity.
    assert "alex@example.org logged in" in page
