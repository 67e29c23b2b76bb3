"""Campaign bodies: a safe Markdown subset, rendered with markdown-it-py and cleaned with nh3.

The Markdown source is stored; it is rendered on display. Raw HTML in the source is never passed
through (markdown-it's `html` option is off, so it shows as text), and the rendered HTML then goes
through an allow-list: paragraphs, headings, lists, bold, italics and links to http, https or
mailto addresses. Everything else (scripts, frames, styles, event attributes) is removed.
"""

from __future__ import annotations

import html
import re

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = frozenset({"p", "h2", "h3", "h4", "ul", "ol", "li", "strong", "em", "a"})
ALLOWED_ATTRIBUTES = {"a": {"href"}}
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer"

# An HTML tag, but not a Markdown autolink such as <https://example.org> or <name@example.org>.
_HTML_TAG = re.compile(r"<(?!https?://|mailto:|[^<>\s]*@)/?[a-z!?][^<>]*>", re.IGNORECASE)
# The scheme of a link target: [text](scheme:...), <scheme:...> or a reference "[label]: scheme:...".
_LINK_SCHEMES = (
    re.compile(r"\]\(\s*<?\s*([a-z][a-z0-9+.\-]*)\s*:", re.IGNORECASE),
    re.compile(r"<([a-z][a-z0-9+.\-]*):", re.IGNORECASE),
    re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?([a-z][a-z0-9+.\-]*):", re.IGNORECASE | re.MULTILINE),
)

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).disable(
    ["image", "html_block", "html_inline"]
)


def sanitise_html(html: str) -> str:
    """Keep only the allowed tags, attributes and link schemes; drop scripts and styles with their content."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )


def render_markdown(source: str, top_heading: int = 2) -> Markup:
    """The body as sanitised HTML, safe to put in a page, a bulletin or a leaflet.

    The body's biggest heading, whether written # or ##, becomes `top_heading` (h2 by default, below
    the page's h1), the others follow in order, and none goes below h4: a body fits the heading order
    of the page it sits in.
    """
    top_heading = min(max(top_heading, 2), 4)
    tokens = _markdown.parse(source or "")
    headings = [t for t in tokens if t.type in ("heading_open", "heading_close")]
    biggest = min((int(t.tag[1]) for t in headings), default=1)
    for token in headings:
        token.tag = f"h{min(top_heading + int(token.tag[1]) - biggest, 4)}"
    rendered = _markdown.renderer.render(tokens, _markdown.options, {})
    # Marked safe only after the allow-list has cleaned it.
    return Markup(sanitise_html(rendered))


def markdown_problems(source: str) -> list[str]:
    """Why a body would be refused: HTML tags or script links have no place in campaign Markdown."""
    problems = []
    text = html.unescape(source or "")
    tag = _HTML_TAG.search(text)
    if tag:
        problems.append(f"HTML such as {tag.group(0)[:40]} is not allowed; write the body in Markdown.")
    schemes = {m.group(1).lower() for pattern in _LINK_SCHEMES for m in pattern.finditer(text)}
    refused = sorted(schemes - ALLOWED_URL_SCHEMES)
    if refused:
        problems.append(f"Links must start with http://, https:// or mailto:, not {refused[0]}:.")
    return problems
