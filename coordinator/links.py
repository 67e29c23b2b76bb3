"""Links: absolute ones for emails and printed matter (built without a request), and this page's own."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request


def public_url(endpoint: str, **values: object) -> str:
    """The absolute URL of `endpoint` under PUBLIC_BASE_URL, e.g. for a link in an email."""
    parts = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme or "https")
    return adapter.build(endpoint, values, force_external=True)


def this_page() -> str:
    """The address a form posts back to: this page's path and query, never a #fragment.

    Left empty, a form's action is the address bar's URL, fragment included; after a person follows an error
    summary's link (#email) or the skip link (#main), the next answer's address would name an element, and
    browsers then skip `autofocus`, so the new error summary would not take the focus or be read out.
    """
    query = request.query_string.decode("latin-1")
    return f"{request.path}?{query}" if query else request.path


def is_progress_poll() -> bool:
    """This request is progress.js fetching its page again, not a person opening it."""
    return request.headers.get("X-Progress-Poll") == "1"
