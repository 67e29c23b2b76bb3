"""Wrong passwords for one account: refused from the address that keeps sending them, slowed from everywhere else.

A plain per-account limit lets anyone lock a coordinator out by typing five wrong passwords for their email. So the
limit (LOGIN_LIMIT_PER_ACCOUNT, 5 per 5 minutes) counts failures in two ways, in the rate limiter's storage
(memory, or Redis shared by every process):

- per account and address: past the limit, that address is refused for that account (429) until the window ends;
- per account from everywhere: past the limit, every answer for that account comes more slowly (half a second,
  doubling with each further failure, up to LOGIN_SLOWDOWN_MAX_SECONDS), right password or wrong, but nobody is
  refused. The owner logging in from their usual address still gets in while someone elsewhere hammers it.

The per-address limit on every login (LOGIN_LIMIT_PER_ADDRESS, the decorator on the view) still bounds how many
accounts one address may try. The wait holds a thread but never a database connection.
"""

from __future__ import annotations

from time import sleep

from flask import current_app
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many
from werkzeug.exceptions import TooManyRequests

from coordinator.auth.services import normalise_email
from coordinator.extensions import db, limiter

FIRST_SLOWDOWN_SECONDS = 0.5


def _limits() -> list[RateLimitItem]:
    return parse_many(current_app.config["LOGIN_LIMIT_PER_ACCOUNT"])


def _keys(item: RateLimitItem, email: str) -> tuple[str, str]:
    account = normalise_email(email)
    return (item.key_for("login-failures", account),
            item.key_for("login-failures", account, get_remote_address()))


def slowdown_seconds(failures: int, limit: int) -> float:
    """How long an answer waits once an account has had `failures` wrong passwords against a limit of `limit`."""
    if failures < limit:
        return 0.0
    ceiling = float(current_app.config["LOGIN_SLOWDOWN_MAX_SECONDS"])
    return min(ceiling, FIRST_SLOWDOWN_SECONDS * 2 ** min(failures - limit, 16))


def before_checking_password(email: str) -> None:
    """Refuse this address if it keeps failing for this account; otherwise wait as long as the account's failures ask."""
    storage = limiter.storage
    wait = 0.0
    for item in _limits():
        account_key, pair_key = _keys(item, email)
        if storage.get(pair_key) >= item.amount:
            raise TooManyRequests(retry_after=int(item.get_expiry()))
        wait = max(wait, slowdown_seconds(storage.get(account_key), item.amount))
    if wait:
        # Nothing may be held open across the wait: a connection taken from the pool would stay out of it.
        db.session.rollback()
        sleep(wait)


def failed_login(email: str) -> None:
    """Count a wrong password (or unknown email) for this account, from this address and from everywhere."""
    for item in _limits():
        for key in _keys(item, email):
            limiter.storage.incr(key, item.get_expiry())


def logged_in(email: str) -> None:
    """The owner got in: their own address's failures for the account are forgotten (the account's are not)."""
    for item in _limits():
        limiter.storage.clear(_keys(item, email)[1])
