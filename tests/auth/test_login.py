"""Logging in and out."""

from __future__ import annotations

from coordinator.audit.models import AuditEntry
from coordinator.auth import login_limits
from coordinator.extensions import db
from tests.factories import PASSWORD, make_admin, make_user
from tests.helpers.web import csrf_from, login_as, post_form


def test_coordinator_logs_in_and_sees_home(client):
    user = make_user(name="Zoë Adeyemi")
    db.session.commit()
    login_as(client, user)
    page = client.get("/").get_data(as_text=True)
    assert "Hello, Zoë Adeyemi" in page
    assert db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "auth.login")).one().actor_id == user.id


def test_wrong_password_and_unknown_email_get_the_same_answer(client):
    user = make_user()
    db.session.commit()
    wrong = post_form(client, "/account/login", {"email": user.email, "password": "not it at all"})
    unknown = post_form(client, "/account/login", {"email": "nobody@example.org", "password": "not it at all"})
    assert wrong.status_code == unknown.status_code == 200
    message = "The email address or password is not right."
    assert message in wrong.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)
    failed = db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "auth.login_failed")).all()
    assert len(failed) == 2


def test_email_is_case_insensitive(client):
    make_user(email="Mixed.Case@Example.org")
    db.session.commit()
    response = post_form(client, "/account/login", {"email": "  mixed.case@EXAMPLE.ORG ", "password": PASSWORD})
    assert response.status_code == 302


def test_inactive_account_cannot_log_in(client):
    user = make_user(active=False)
    db.session.commit()
    response = post_form(client, "/account/login", {"email": user.email, "password": PASSWORD})
    assert "The email address or password is not right." in response.get_data(as_text=True)


def test_missing_or_wrong_csrf_token_is_refused(client):
    user = make_user()
    db.session.commit()
    missing = client.post("/account/login", data={"email": user.email, "password": PASSWORD})
    assert missing.status_code == 400
    client.get("/account/login")
    wrong = client.post("/account/login", data={"email": user.email, "password": PASSWORD, "csrf_token": "forged"})
    assert wrong.status_code == 400
    assert "form has expired" in wrong.get_data(as_text=True)


def test_next_is_followed_only_within_the_site(client):
    user = make_user()
    db.session.commit()
    page = client.get("/account/login").get_data(as_text=True)
    ok = client.post(
        "/account/login?next=/account/password",
        data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_from(page)},
    )
    assert ok.headers["Location"] == "/account/password"
    client.post("/account/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"):
        page = client.get("/account/login").get_data(as_text=True)
        response = client.post(
            f"/account/login?next={target}",
            data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_from(page)},
        )
        assert response.headers["Location"] == "/", target
        client.post("/account/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})


def test_logins_are_rate_limited_per_account(client):
    user = make_user()
    db.session.commit()
    codes = [
        post_form(client, "/account/login", {"email": user.email, "password": f"guess {i}"}).status_code
        for i in range(6)
    ]
    assert codes[:5] == [200] * 5
    assert codes[5] == 429
    # Even the right password is refused from this address while the limit holds.
    assert post_form(client, "/account/login", {"email": user.email, "password": PASSWORD}).status_code == 429


def test_the_owner_still_logs_in_while_someone_hammers_the_account_from_elsewhere(app, monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr(login_limits, "sleep", waits.append)  # the answers' waits, asked for but not waited
    user = make_user()
    db.session.commit()

    for n in range(1, 5):
        attacker = app.test_client()
        attacker.environ_base["REMOTE_ADDR"] = f"203.0.113.{n}"
        codes = [post_form(attacker, "/account/login", {"email": user.email, "password": f"guess {n}.{i}"}).status_code
                 for i in range(5)]
        assert codes == [200] * 5
        # An address that keeps failing for this account is refused, the right password too.
        assert post_form(attacker, "/account/login", {"email": user.email, "password": PASSWORD}).status_code == 429
    assert waits and waits == sorted(waits)  # past five failures the answers come ever more slowly

    owner = app.test_client()
    owner.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    response = post_form(owner, "/account/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302 and client_is_home(owner)
    assert waits[-1] == app.config["LOGIN_SLOWDOWN_MAX_SECONDS"]  # slowed, as everyone is, but let in


def client_is_home(client) -> bool:
    """The client is logged in: the home page answers instead of sending it to log in."""
    return client.get("/").status_code == 200


def test_logins_are_rate_limited_per_address(app, client):
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "3 per minute"
    codes = [
        post_form(client, "/account/login", {"email": f"n{i}@example.org", "password": "x"}).status_code
        for i in range(4)
    ]
    assert codes == [200, 200, 200, 429]


def test_session_cookie_flags(client):
    user = make_user()
    db.session.commit()
    page = client.get("/account/login").get_data(as_text=True)
    response = client.post(
        "/account/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_from(page), "remember": "y"},
    )
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("nwc_session="))
    remember_cookie = next(c for c in cookies if c.startswith("nwc_remember="))
    for cookie in (session_cookie, remember_cookie):
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie


def test_production_refuses_to_start_without_secret(monkeypatch, tmp_path):
    import pytest

    from config import ProductionConfig
    from coordinator import create_app

    class NoSecret(ProductionConfig):
        SECRET_KEY = None
        INSTANCE_DIR = tmp_path

    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(NoSecret)


def test_production_cookies_are_secure(tmp_path):
    from config import ProductionConfig
    from coordinator import create_app

    class Prod(ProductionConfig):
        SECRET_KEY = "x" * 40
        INSTANCE_DIR = tmp_path
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path}/p.sqlite3"

    app = create_app(Prod)
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]


def test_development_keeps_one_secret_in_instance(tmp_path):
    from config import DevelopmentConfig
    from coordinator import create_app

    class Dev(DevelopmentConfig):
        SECRET_KEY = None
        INSTANCE_DIR = tmp_path
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path}/d.sqlite3"

    first = create_app(Dev).config["SECRET_KEY"]
    second = create_app(Dev).config["SECRET_KEY"]
    assert first == second and len(first) >= 40
    assert (tmp_path / "secret_key").read_text().strip() == first


def test_coordinator_gets_403_on_admin_pages(client):
    user = make_user()
    make_admin()
    db.session.commit()
    login_as(client, user)
    assert client.get("/admin/").status_code == 403
    assert client.get("/admin/users").status_code == 403


def test_anonymous_is_sent_to_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
