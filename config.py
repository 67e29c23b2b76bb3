"""Configuration: one class per environment, every value read from the environment.

`create_app()` picks the class named by `COORDINATOR_ENV` (development, production, test);
`make run` uses development. Production refuses to start without a real `SECRET_KEY`.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import ClassVar

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("COORDINATOR_INSTANCE", BASE_DIR / "instance"))


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _database_url(default_sqlite: Path) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return f"sqlite:///{default_sqlite}"
    # Hosting platforms hand out postgres:// or postgresql://; SQLAlchemy needs the driver named (psycopg 3).
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def development_secret_key(instance_dir: Path) -> str:
    """Make a secret once and keep it in instance/, so development sessions survive restarts."""
    instance_dir.mkdir(parents=True, exist_ok=True)
    key_file = instance_dir / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


class Config:
    """Settings shared by every environment."""

    ENV_NAME = "base"
    INSTANCE_DIR = INSTANCE_DIR
    SECRET_KEY: str | None = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = _database_url(INSTANCE_DIR / "coordinator.sqlite3")
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict] = {"pool_pre_ping": True}

    # Sessions: signed cookie, HttpOnly, SameSite=Lax. The idle timeout is checked against a time inside the signed
    # cookie (coordinator/auth/sessions.py), so the cookie itself lives to the absolute lifetime: a browser still
    # sends it after the idle timeout, and a form typed meanwhile is kept for its account. Every login (and its
    # remember-me cookie) ends at the absolute lifetime, or when it logs out.
    SESSION_COOKIE_NAME = "nwc_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    SESSION_IDLE_LIFETIME = timedelta(minutes=_int("SESSION_IDLE_MINUTES", 30))
    SESSION_ABSOLUTE_LIFETIME = timedelta(hours=_int("SESSION_ABSOLUTE_HOURS", 12))
    PERMANENT_SESSION_LIFETIME = SESSION_ABSOLUTE_LIFETIME
    SESSION_REFRESH_EACH_REQUEST = True
    REMEMBER_COOKIE_NAME = "nwc_remember"
    REMEMBER_COOKIE_DURATION = SESSION_ABSOLUTE_LIFETIME
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session; a long form is never lost to it
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024

    # Rate limits (Flask-Limiter): memory by default, Redis when REDIS_URL is set.
    REDIS_URL = os.environ.get("REDIS_URL", "")
    RATELIMIT_STORAGE_URI = REDIS_URL or "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_LIMIT_PER_ADDRESS = os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "20 per 5 minutes")
    # Wrong passwords for one account: from one address, refused past the limit; from everywhere together, answered
    # more slowly past it (doubling from half a second up to LOGIN_SLOWDOWN_MAX_SECONDS), never refused.
    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per 5 minutes")
    LOGIN_SLOWDOWN_MAX_SECONDS = _int("LOGIN_SLOWDOWN_MAX_SECONDS", 5)
    # How many proxies (nginx, a load balancer) stand in front of the app. Rate limits and the audit log key on
    # the address the last of them saw, taken from X-Forwarded-For; 0 trusts no such header, since anyone can send
    # one. Never more than the proxies really there: one too many lets a visitor choose their own address.
    TRUSTED_PROXIES = _int("TRUSTED_PROXIES", 0)

    # Signed links in emails.
    INVITATION_MAX_AGE = timedelta(days=_int("INVITATION_DAYS", 7))
    # A delivery round's link, printed on its sheet as a QR code (coordinator/leaflets/rounds.py says why 28).
    DELIVERY_ROUND_LINK_DAYS = _int("DELIVERY_ROUND_LINK_DAYS", 28)
    PASSWORD_RESET_MAX_AGE = timedelta(hours=_int("PASSWORD_RESET_HOURS", 2))

    # Mail: SMTP when MAIL_SERVER is set, otherwise .eml files in instance/outbox/.
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = _int("MAIL_PORT", 25)
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "watch@localhost")
    MAIL_OUTBOX_DIR = INSTANCE_DIR / "outbox"

    # Background work: "thread" runs jobs in-process after the response; "eager" runs them at once (tests);
    # REDIS_URL switches to RQ.
    JOBS_MODE = os.environ.get("JOBS_MODE", "")
    # How often the database is swept for work the queue lost (a restarted Redis keeps nothing).
    JOBS_SWEEP_SECONDS = _int("JOBS_SWEEP_SECONDS", 60)
    # Leaflet renders in the embedded mode run in separate processes, replaced after this many renders
    # (WeasyPrint grows ~0.3 MB a render in a long-lived process). 0 processes means the web process's share of
    # the cores (cores / WEB_CONCURRENCY), up to 4.
    RENDER_PROCESSES = _int("RENDER_PROCESSES", 0)
    RENDER_TASKS_PER_PROCESS = _int("RENDER_TASKS_PER_PROCESS", 200)
    RENDER_TIMEOUT = _int("RENDER_TIMEOUT", 300)
    # How much lower the render processes' CPU priority is than the web's (0 to 19; see `man nice`).
    RENDER_NICE = _int("RENDER_NICE", 10)
    # A warm-up before a campaign launch renders in an RQ work-horse this much below the pages (0 to 19).
    WARMUP_NICE = _int("WARMUP_NICE", 19)

    # The daily email to admins of the helplines to verify goes on the first sweep after this hour (UK time);
    # 24 turns it off.
    HELPLINE_REMINDER_HOUR = _int("HELPLINE_REMINDER_HOUR", 8)
    # Coordinators are emailed about a campaign opening today on the first sweep after this hour (UK time); 24 turns
    # the emails off.
    CAMPAIGN_EMAIL_HOUR = _int("CAMPAIGN_EMAIL_HOUR", 7)

    # Links in emails and printed matter point here.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")

    CSV_MAX_BYTES = 2 * 1024 * 1024

    # Rendered leaflets are cached under instance/leaflet-cache/ by a key over every input, up to this size.
    LEAFLET_CACHE_MAX_MB = _int("LEAFLET_CACHE_MAX_MB", 500)

    # Residents' sign-up: how long a confirmation link works, and how often the public form may be sent.
    SUBSCRIPTION_CONFIRM_MAX_AGE = timedelta(days=_int("SUBSCRIPTION_CONFIRM_DAYS", 7))
    SIGNUP_LIMIT_PER_ADDRESS = os.environ.get("SIGNUP_LIMIT_PER_ADDRESS", "5 per minute;30 per hour")
    SIGNUP_LIMIT_PER_EMAIL = os.environ.get("SIGNUP_LIMIT_PER_EMAIL", "5 per hour")

    # Bulletins: "try later" (4xx) retries, hard failures before an address is bouncing, a sending job's lease.
    BULLETIN_RETRY_BASE_SECONDS = _int("BULLETIN_RETRY_BASE_SECONDS", 60)
    BULLETIN_RETRY_MAX_ATTEMPTS = _int("BULLETIN_RETRY_MAX_ATTEMPTS", 8)
    BULLETIN_HARD_BOUNCE_LIMIT = _int("BULLETIN_HARD_BOUNCE_LIMIT", 3)
    BULLETIN_LEASE_SECONDS = _int("BULLETIN_LEASE_SECONDS", 60)
    # Bounces and complaints (coordinator/bulletins/bounces.py). With BOUNCE_ADDRESS set (bounces@watch.example)
    # each bulletin copy goes out with the envelope sender bounces+<token>@watch.example, and the mailbox behind
    # it is read over IMAP when BOUNCE_IMAP_HOST is set (by the worker's sweep, or the command). Empty: the
    # sender address stays the envelope sender, as before, and nothing is read.
    BOUNCE_ADDRESS = os.environ.get("BOUNCE_ADDRESS", "")
    BOUNCE_IMAP_HOST = os.environ.get("BOUNCE_IMAP_HOST", "")
    BOUNCE_IMAP_PORT = _int("BOUNCE_IMAP_PORT", 993)
    # "ssl" (IMAPS, port 993), "starttls" (port 143) or "none" (only for a server on this machine).
    BOUNCE_IMAP_SECURITY = os.environ.get("BOUNCE_IMAP_SECURITY", "ssl")
    BOUNCE_IMAP_USERNAME = os.environ.get("BOUNCE_IMAP_USERNAME", "")
    BOUNCE_IMAP_PASSWORD = os.environ.get("BOUNCE_IMAP_PASSWORD", "")
    BOUNCE_IMAP_FOLDER = os.environ.get("BOUNCE_IMAP_FOLDER", "INBOX")
    # Soft bounces (a full mailbox, a server down for days) mark an address bouncing after this many in this many days.
    BOUNCE_SOFT_LIMIT = _int("BOUNCE_SOFT_LIMIT", 3)
    BOUNCE_SOFT_DAYS = _int("BOUNCE_SOFT_DAYS", 30)
    # DKIM signing of every message (bulletins and transactional mail): on when a selector and a key file are set;
    # the domain defaults to the From address's.
    DKIM_SELECTOR = os.environ.get("DKIM_SELECTOR", "")
    DKIM_DOMAIN = os.environ.get("DKIM_DOMAIN", "")
    DKIM_PRIVATE_KEY_PATH = os.environ.get("DKIM_PRIVATE_KEY_PATH", "")


class DevelopmentConfig(Config):
    """`make run`: SQLite in instance/, outbox folder, a secret kept in instance/."""

    ENV_NAME = "development"


class TestConfig(Config):
    """The test suite: an isolated database per test, jobs run at once, cheap hashing."""

    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_SQLALCHEMY_URI", "sqlite://")
    JOBS_MODE = "eager"
    # The PostgreSQL run of `make test` sets REDIS_URL, so rate limits are kept in Redis there.
    RATELIMIT_STORAGE_URI = os.environ.get("REDIS_URL") or "memory://"
    MAIL_SERVER = ""
    # Sweeps in tests find only what the test made; the reminder's own tests choose an hour.
    HELPLINE_REMINDER_HOUR = 24


class ProductionConfig(Config):
    """Real deployments: secure cookies, a secret from the environment or nothing starts."""

    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "test": TestConfig,
}
