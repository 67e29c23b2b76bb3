"""/healthz, error pages, security headers, and the command-line set-up commands."""

from __future__ import annotations

from sqlalchemy import func, select

from coordinator.auth.models import Role, User
from coordinator.extensions import db
from coordinator.schemes.models import Scheme, Street
from tests.factories import make_user
from tests.helpers.web import login_as


def test_healthz_ok_when_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_503_when_database_is_unreachable(tmp_path):
    from config import TestConfig
    from coordinator import create_app

    class Broken(TestConfig):
        # A port nothing listens on: connecting fails, the app must say so and not crash.
        SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=2"
        INSTANCE_DIR = tmp_path

    app = create_app(Broken)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    # Public: nothing of the driver's own words (OperationalError, connection refused) is in the answer.
    assert response.get_json() == {"status": "unavailable", "database": "unreachable"}


def test_database_outage_gives_503_page(tmp_path):
    from config import TestConfig
    from coordinator import create_app

    class Broken(TestConfig):
        SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=2"
        INSTANCE_DIR = tmp_path

    app = create_app(Broken)
    client = app.test_client()
    client.get("/account/login")
    response = client.post("/account/login", data={"email": "a@b.org", "password": "x"})
    # CSRF fails first (400) without touching the database; a page that reads the database gives 503.
    assert response.status_code == 400
    with client.session_transaction() as session:
        session["_user_id"] = "1:token:login"  # account : credentials : login
    page = client.get("/")
    assert page.status_code == 503
    assert "cannot reach its database" in page.get_data(as_text=True)


def test_security_headers_on_every_response(client):
    for path in ("/account/login", "/healthz", "/no-such-page", "/static/app.css"):
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        response.close()


def test_login_is_where_a_new_user_looks_for_it(client):
    response = client.get("/login")
    assert response.status_code == 302 and response.headers["Location"] == "/account/login"
    onward = client.get("/login?next=/admin/users")
    assert onward.headers["Location"] == "/account/login?next=/admin/users"
    assert "Log in" in client.get("/login", follow_redirects=True).get_data(as_text=True)


def test_the_favicon_is_a_real_icon_where_browsers_look_for_it(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype in {"image/vnd.microsoft.icon", "image/x-icon"}
    from io import BytesIO

    from PIL import Image

    with Image.open(BytesIO(response.data)) as icon:
        assert icon.format == "ICO" and (16, 16) in icon.info["sizes"] and (32, 32) in icon.info["sizes"]
    response.close()


def test_not_found_page_is_friendly(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_error_pages_offer_exit_this_page_to_visitors_who_are_not_logged_in(client):
    # A mistyped sign-up address from a leaflet: the visitor may be a resident.
    assert "Exit this page" in client.get("/join/no-such-scheme").get_data(as_text=True)
    user = make_user()
    db.session.commit()
    login_as(client, user)
    assert "Exit this page" not in client.get("/no-such-page").get_data(as_text=True)


def test_pages_have_skip_link_and_landmarks(client):
    user = make_user()
    db.session.commit()
    login_as(client, user)
    html = client.get("/").get_data(as_text=True)
    assert 'href="#main"' in html and 'id="main"' in html
    assert '<nav aria-label="Main">' in html
    assert "Log out" in html and "Coordinators" not in html  # coordinators see no admin navigation


def test_forms_post_back_to_their_own_page_with_its_query(client):
    html = client.get("/account/login?next=%2Fleaflets%2F&x=%22%3E").get_data(as_text=True)
    # The query as it came, escaped for the attribute; a #fragment never reaches the server, so none is kept.
    assert '<form method="post" action="/account/login?next=%2Fleaflets%2F&amp;x=%22%3E" novalidate>' in html
    assert '<form method="post" action="/account/login" novalidate>' in client.get("/account/login").get_data(
        as_text=True)


def test_create_admin_from_environment_password(runner, monkeypatch):
    monkeypatch.setenv("COORDINATOR_ADMIN_PASSWORD", "a long admin passphrase")
    result = runner.invoke(args=["create-admin", "Chair@Example.org", "--name", "Chair"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "Chair@Example.org"))
    assert user.role == Role.ADMIN and user.password_hash.startswith("$argon2id$")
    again = runner.invoke(args=["create-admin", "chair@example.org"])
    assert again.exit_code != 0 and "already has an account" in again.output


def test_create_admin_prompts_for_password(runner, monkeypatch):
    monkeypatch.delenv("COORDINATOR_ADMIN_PASSWORD", raising=False)
    result = runner.invoke(args=["create-admin", "sec@example.org"], input="short\nshort\n")
    assert result.exit_code != 0 and "at least 10 characters" in result.output
    result = runner.invoke(args=["create-admin", "sec@example.org"], input="long enough pass\nlong enough pass\n")
    assert result.exit_code == 0, result.output


def test_seed_demo_is_idempotent_and_prints_working_logins(app, runner):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0
    assert db.session.scalar(select(func.count()).select_from(User)) == 3
    assert db.session.scalar(select(func.count()).select_from(Scheme)) == 2
    streets = db.session.scalar(select(func.count()).select_from(Street))
    assert 10 <= streets <= 20
    # The passwords printed by the latest run are the ones that work.
    lines = [line.split() for line in second.output.splitlines() if "password:" in line]
    assert {line[0] for line in lines} == {"admin", "coordinator"}
    for role, email, _, password in lines:
        client = app.test_client()
        user = db.session.scalar(select(User).where(User.email == email))
        login_as(client, user, password)
