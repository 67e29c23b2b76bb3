"""The public campaign pages, what a resident reads when a coordinator shares a campaign's address with them,
and the campaign pictures those pages and bulletins show.

No login and no personal data. Only a campaign's approved version is shown, and only while it runs; anything
else is the same "not running" page, so drafts and ended campaigns cannot be told from names never used.
Every page carries "Exit this page": these are pages about abuse, read in homes where that may matter.
"""

from __future__ import annotations

from flask import Response, abort, redirect, render_template, url_for

from coordinator.content import campaigns_bp as bp
from coordinator.content import services as content
from coordinator.content.addresses import renamed_to
from coordinator.content.fields import web_href
from coordinator.content.images import picture_extension
from coordinator.content.models import CampaignVersion, ContentKind
from coordinator.links import printable_address, short_campaign_url


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
    short_address = short_campaign_url(slug)
    return render_template(
        "campaigns/campaign.html", campaign=content.campaign_data(version),
        picture=_picture(version), helpline_sets=content.public_helpline_sets(),
        short_address={"href": short_address, "text": printable_address(short_address)},
    )


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


def _renamed(slug: str, endpoint: str) -> Response | None:
    # A campaign's former address (printed on leaflets before an admin renamed it) leads to its current one while the
    # campaign runs; otherwise it is the same "not running" page, so a renamed draft's new name is not given away.
    # A 302 for the same reason as the short address's.
    current = renamed_to(ContentKind.CAMPAIGN, slug)
    if current is None or content.running_campaign(current) is None:
        return None
    return redirect(url_for(endpoint, slug=current), 302)


def _picture(version: CampaignVersion) -> dict | None:
    image = version.image
    if image is None:
        return None
    src = url_for("campaigns.picture", sha256=image.sha256, extension=picture_extension(image.media_type))
    return {"src": src, "width": min(image.width, 640)}
