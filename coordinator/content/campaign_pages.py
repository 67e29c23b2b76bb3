"""The public campaign pages, what a resident reads when a coordinator shares a campaign's address with them,
and the campaign pictures those pages and bulletins show.

No login and no personal data. Only a campaign's approved version is shown, and only while it runs; anything
else is the same "not running" page, so drafts and ended campaigns cannot be told from names never used.
Every page carries "Exit this page": these are pages about abuse, read in homes where that may matter.

A campaign has a page in each language it can be read in: /campaigns/<slug> in the language it is written in, and
/campaigns/<slug>/<language> in each approved translation (`translations.usable_translation`), a language with none
being a 404. A path, not ?lang= or a cookie: each page is one address a cache keeps and a search engine lists
(every page names the others with hreflang links), and no page sets a cookie. The page's fixed wording is in its
language once the association approved that language's wording (`wording_in`), and its <html lang dir> with it;
before that the page is English around the campaign, which is marked with its own language and direction.
"""

from __future__ import annotations

from flask import Response, abort, make_response, redirect, render_template, url_for

from coordinator.content import campaigns_bp as bp
from coordinator.content import services as content
from coordinator.content.addresses import renamed_to
from coordinator.content.fields import web_href
from coordinator.content.images import picture_extension
from coordinator.content.models import CampaignVersion, ContentKind
from coordinator.content.phones import is_police_number
from coordinator.content.translated_data import in_language
from coordinator.content.translations import original_language, same_language, translation_languages
from coordinator.language_tags import ENGLISH, check_language_tag, language_choice
from coordinator.languages import text_direction
from coordinator.links import printable_address, public_url, short_campaign_url
from coordinator.wording import is_english, wording_in, wording_ready


@bp.get("/campaigns/")
def index():
    # The list needs names only: no body is rendered for it.
    campaigns = [{"slug": version.item.slug, "title": version.title, "summary": version.summary}
                 for version in content.current_campaigns()]
    return render_template("campaigns/index.html", campaigns=campaigns)


@bp.get("/campaigns/<slug>")
def show(slug: str):
    version = content.running_campaign(slug)
    if version is None:
        return _renamed(slug, "campaigns.show") or (render_template("campaigns/not_running.html"), 404)
    return _campaign_page(version, original_language(version.item))


@bp.get("/campaigns/<slug>/<language>")
def show_in(slug: str, language: str):
    version = content.running_campaign(slug)
    if version is None:
        return _renamed(slug, "campaigns.show_in", language=language) or (
            render_template("campaigns/not_running.html"), 404)
    try:
        tag = check_language_tag(language)
    except ValueError:
        abort(404)
    # One address per page: the original's language is the campaign's own address, and any other tag that finds a
    # translation ("PL", "ar-EG" for the "ar" one) leads to the translation's own tag.
    if same_language(tag, original_language(version.item)):
        return redirect(url_for("campaigns.show", slug=version.item.slug), 301)
    shown = in_language(version, tag)
    if not shown.is_translation:
        return render_template("campaigns/not_in_language.html", pages=_pages(version)), 404
    if shown.language != language:
        return redirect(url_for("campaigns.show_in", slug=version.item.slug, language=shown.language), 301)
    return _campaign_page(version, shown.language)


def _pages(version: CampaignVersion) -> list[dict]:
    """The campaign's page in each language it can be read in, the original's first: tag, own name, dir, and its
    address as a path (for links) and in full (for hreflang, which search engines want absolute)."""
    tags = translation_languages(version.item) or [original_language(version.item)]
    pages = []
    for tag in tags:
        endpoint, values = ("campaigns.show", {}) if tag == tags[0] else ("campaigns.show_in", {"language": tag})
        page = language_choice(tag)
        page["path"] = url_for(endpoint, slug=version.item.slug, **values)
        page["href"] = public_url(endpoint, slug=version.item.slug, **values)
        pages.append(page)
    return pages


def page_language(language: str) -> str:
    """The language a public page in `language` is in around its content: that language once its fixed wording is
    approved, else English."""
    return language if not is_english(language) and wording_ready(language) else ENGLISH


def _campaign_page(version: CampaignVersion, language: str) -> Response:
    shown = in_language(version, language)
    main = page_language(language)
    short_address = short_campaign_url(version.item.slug)
    with wording_in(language):
        html = render_template(
            "campaigns/campaign.html", campaign=content.campaign_data(shown.version),
            picture=_picture(version), helpline_sets=_helpline_sets_in(language, main),
            short_address={"href": short_address, "text": printable_address(short_address)},
            pages=_pages(version), language=shown.language,
            page_language=main, page_dir=text_direction(main),
            # The campaign's words carry their own language and direction where they are not the page's.
            part=None if same_language(shown.language, main) else language_choice(shown.language),
        )
    response = make_response(html)
    response.headers["Content-Language"] = main
    return response


def _helpline_sets_in(language: str, main: str) -> list[dict]:
    """`content.public_helpline_sets` with each set's title and each helpline's words in `language` where an approved
    translation may be used, and the words still in English marked as such (`part`)."""
    if is_english(language):
        return content.public_helpline_sets()
    shown: set[str] = set()
    sets = []
    for version in content.approved_helpline_sets():
        helplines = []
        for helpline_version in content.usable_helplines(version)[0]:
            in_theirs = in_language(helpline_version, language)
            helpline = content.helpline_data(in_theirs.version)
            if helpline["tel_href"] in shown or is_police_number(helpline["number"]):
                continue
            helpline["part"] = None if same_language(in_theirs.language, main) else language_choice(in_theirs.language)
            helplines.append(helpline)
        shown.update(h["tel_href"] for h in helplines)
        if helplines:
            title = in_language(version, language)
            sets.append({"title": title.version.title, "helplines": helplines,
                         "part": None if same_language(title.language, main) else language_choice(title.language)})
    return sets


@bp.get("/c/<slug>")
def short(slug: str):
    # The address leaflets print and their QR codes hold: short enough never to break across lines, and ours, so a
    # campaign that ends stops leading anywhere. It goes on to the campaign's own site when the approved version
    # names one, else to its page here. A 302, not a 301: a browser must ask again once the campaign ends or its
    # approved address changes.
    version = content.running_campaign(slug)
    if version is None:
        return _renamed(slug, "campaigns.short") or (render_template("campaigns/not_running.html"), 404)
    return redirect(web_href(version.web_address) or url_for("campaigns.show", slug=slug), 302)


@bp.get("/bulletin-images/<sha256>.<extension>")
def picture(sha256: str, extension: str):
    # Public: these pages and residents' mail programs load campaign pictures from here. Only approved (or retired)
    # pictures, and the same file for everyone, so shared caches may keep it for a day.
    found = content.campaign_picture(sha256)
    if found is None or extension != picture_extension(found.media_type):
        abort(404)
    response = Response(found.data, mimetype=found.media_type)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def _renamed(slug: str, endpoint: str, **values: str) -> Response | None:
    # A campaign's former address (printed on leaflets before an admin renamed it) leads to its current one while the
    # campaign runs; otherwise it is the same "not running" page, so a renamed draft's new name is not given away.
    # A 302 for the same reason as the short address's.
    current = renamed_to(ContentKind.CAMPAIGN, slug)
    if current is None or content.running_campaign(current) is None:
        return None
    return redirect(url_for(endpoint, slug=current, **values), 302)


def _picture(version: CampaignVersion) -> dict | None:
    image = version.image
    if image is None:
        return None
    src = url_for("campaigns.picture", sha256=image.sha256, extension=picture_extension(image.media_type))
    return {"src": src, "width": min(image.width, 640)}
