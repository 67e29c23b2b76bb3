"""What every answer shares: the sender's real address behind a proxy, the security headers, and no caching of
anything shown to someone logged in.
"""

from __future__ import annotations

from flask import Flask, current_app, request, session
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

SECURITY_HEADERS = {
    # Scripts only from the app itself and never inline; styles likewise. Pages work without JavaScript.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

# Answers that are the same for everyone, which keep their own caching rule: the app's static files, its icon,
# the campaign pictures residents' mail programs load ("public, max-age=86400") and the association's logo (its
# address changes with it, so a year).
SHARED_ENDPOINTS = frozenset({"static", "main.favicon", "campaigns.picture", "main.brand_logo"})


def init_app(app: Flask) -> None:
    """Trust the configured proxies' forwarded address, and give every answer its headers."""
    _trust_proxies(app)
    app.after_request(security_headers)
    app.after_request(no_store_when_logged_in)


def _trust_proxies(app: Flask) -> None:
    hops = app.config.get("TRUSTED_PROXIES", 0)
    if hops < 0:
        raise RuntimeError(f"TRUSTED_PROXIES is how many proxies stand in front of the app: 0 or more, not {hops}.")
    if hops:
        # Each proxy adds the address it saw to X-Forwarded-For, so the one `hops` from the end is the visitor's;
        # anything before it was written by the visitor and is ignored. The scheme is whatever the nearest proxy
        # says (nginx sets X-Forwarded-Proto rather than adding to it).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=1)


def security_headers(response: Response) -> Response:
    """The content security policy and its companions on every answer (a view may set its own first)."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def no_store_when_logged_in(response: Response) -> Response:
    """Nothing shown to someone logged in is kept by a browser or a proxy: subscribers, audit log, CSV files."""
    if request.endpoint in SHARED_ENDPOINTS or not _is_logged_in():
        return response
    if not response.cache_control.no_store:
        # Replaces a view's own rule too (a picture sent with "public, max-age=3600" from a page behind the login).
        response.headers["Cache-Control"] = "no-store"
        response.headers.pop("Expires", None)
    return response


def _is_logged_in() -> bool:
    # Flask-Login names the account in the session once a login or a remember-me cookie has been accepted. Asking
    # current_user instead could reach the database after the view has finished, or while it is down.
    return session.get("_user_id") is not None
