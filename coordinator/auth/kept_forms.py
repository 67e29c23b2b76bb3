"""What someone typed into a form that could not be taken because they had been logged out.

After 30 minutes without a request the session ends, and with it the form's CSRF token: the next press of a
form's button is refused. A volunteer may well spend longer than that on a bulletin, so the refused form's
fields are kept in the (signed) session, and after logging in again one button sends them to the same page,
with a fresh token, exactly as if the form had been sent then.

Only a form sent from one of our own pages is kept (the browser says so in Sec-Fetch-Site or Origin): a form
posted from another site is refused as before, so nobody else can put words in someone's mouth. It is kept for
the account whose session just ended (the old cookie's signature still says whose it was), so someone else
logging in on the same computer is not offered it. Passwords and uploaded files are never kept, and a form too
large for the session cookie is not kept at all.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Request, current_app, session
from flask_login import current_user
from itsdangerous import BadSignature

from coordinator.auth.services import is_safe_next

SESSION_KEY = "kept_form"
# The session is a cookie (at most 4 KB with its signature); compressed fields up to this size leave room.
MAX_COMPRESSED_BYTES = 2_500
# Forms of the account pages (logging in, passwords) are never kept.
NEVER_KEPT_UNDER = "/account/"


@dataclass(frozen=True)
class KeptForm:
    """A refused form: where it was going and its fields, in order, without the old CSRF token."""

    path: str
    fields: tuple[tuple[str, str], ...]


def _account_of_refused_form(request: Request) -> str | None:
    """The id of the account the form was typed in: the one logged in, or the one whose session has just ended."""
    if current_user.is_authenticated:
        return str(current_user.id)
    cookie = request.cookies.get(current_app.config["SESSION_COOKIE_NAME"])
    serializer = current_app.session_interface.get_signing_serializer(current_app)
    if not cookie or serializer is None:
        return None
    try:
        ended = serializer.loads(cookie)  # no max_age: the session is over, but it was ours and it was theirs
    except BadSignature:
        return None
    user_id = str(ended.get("_user_id", "")).partition(":")[0]
    return user_id if user_id.isdigit() else None


def _is_same_origin(request: Request) -> bool:
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin"
    origin = request.headers.get("Origin")
    return origin is not None and urlsplit(origin).netloc == request.host


def keep_refused_form(request: Request, path: str) -> bool:
    """Keep a refused POST's fields for after the next login; False when it may not or cannot be kept."""
    if request.method != "POST" or request.files or not _is_same_origin(request):
        return False
    if path.startswith(NEVER_KEPT_UNDER) or not is_safe_next(path):
        return False
    fields = [(name, value) for name, value in request.form.items(multi=True)
              if name != "csrf_token" and "password" not in name.lower()]
    if not fields:
        return False
    if len(zlib.compress(json.dumps(fields).encode())) > MAX_COMPRESSED_BYTES:
        return False
    account = _account_of_refused_form(request)
    if account is None:
        return False
    session[SESSION_KEY] = {"path": path, "fields": fields, "account": account}
    return True


def kept_form() -> KeptForm | None:
    """The form kept in this session for the account logged in now, if any."""
    kept = session.get(SESSION_KEY)
    if not isinstance(kept, dict) or not is_safe_next(kept.get("path")):
        return None
    if not current_user.is_authenticated or kept.get("account") != str(current_user.id):
        return None
    return KeptForm(path=kept["path"], fields=tuple((str(name), str(value)) for name, value in kept["fields"]))


def forget_kept_form() -> None:
    session.pop(SESSION_KEY, None)


def forget_when_sent(request: Request) -> None:
    """The kept fields are sent again (or a new form is sent to that page): they are no longer needed."""
    kept = session.get(SESSION_KEY)
    if request.method == "POST" and isinstance(kept, dict) and kept.get("path", "").split("?")[0] == request.path:
        forget_kept_form()
