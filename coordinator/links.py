"""Links: absolute ones for emails and printed matter (built without a request), and this page's own."""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

from flask import current_app, has_request_context, request


def public_base_url() -> str:
    """Where links in emails and printed matter start: PUBLIC_BASE_URL, or in development this request's address.

    When PUBLIC_BASE_URL was not set and the app is not in production, a link made while answering a request
    starts with the address that request came to (`make run` on port 5101 mails links to port 5101); a link
    made outside a request (the worker, a command) has only the configured default. In production the
    setting is the only source: a request's Host header is the visitor's to choose.
    """
    config = current_app.config
    # config.py says whether the address came from the environment (PUBLIC_BASE_URL_IS_SET); without that
    # setting, development asks the environment itself and the test and production settings keep their address.
    is_set = config.get(
        "PUBLIC_BASE_URL_IS_SET", config.get("ENV_NAME") != "development" or "PUBLIC_BASE_URL" in os.environ
    )
    if not is_set and has_request_context() and config.get("ENV_NAME") != "production":
        return request.host_url
    return config["PUBLIC_BASE_URL"]


def public_url(endpoint: str, **values: object) -> str:
    """The absolute URL of `endpoint` under `public_base_url()`, e.g. for a link in an email."""
    parts = urlsplit(public_base_url())
    adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme or "https")
    return adapter.build(endpoint, values, force_external=True)


def short_campaign_url(slug: str) -> str:
    """The association's own short address for a campaign, PUBLIC_BASE_URL/c/<slug>, that leaflets print."""
    return public_url("campaigns.short", slug=slug)


def printable_address(url: str) -> str:
    """A web address as printed: no scheme, no trailing slash ("https://example.org/c/x/" -> "example.org/c/x")."""
    return re.sub(r"^[a-z][a-z0-9+.-]*://", "", url.strip(), flags=re.IGNORECASE).rstrip("/")


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
