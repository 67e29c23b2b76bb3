"""Residents' sign-up, confirmation and unsubscribe pages, and the coordinator's subscriber pages.

Residents' pages need no login: a scheme's slug opens its sign-up form, and a signed token in a link
is the authority to confirm or to unsubscribe. The coordinator's pages start from
`get_my_scheme_or_404`, so another scheme's subscribers are a plain 404. The bulletin pages are in
`bulletin_pages.py`.
"""

from __future__ import annotations

import json

from flask import Response, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from coordinator.bulletins import bounces, bp, subscriber_data, subscriber_languages, subscribers
from coordinator.bulletins.forms import (
    ConfirmSubscriptionForm,
    EraseSubscriberForm,
    ExportSubscriberForm,
    SignupForm,
    SubscriberFilterForm,
    SubscriberImportForm,
    SubscriberLanguageForm,
)
from coordinator.bulletins.models import Subscriber, SubscriberStatus
from coordinator.bulletins.subscriber_import import IMPORT_COLUMNS, import_subscribers
from coordinator.extensions import csrf, db, limiter, submitted_email
from coordinator.language_tags import ENGLISH, native_name
from coordinator.languages import text_direction
from coordinator.links import public_url
from coordinator.schemes.lookup import find_scheme_by_slug
from coordinator.schemes.models import Scheme
from coordinator.security import get_my_scheme_or_404
from coordinator.wording import wording_in

# A resident's language by its own name ("pl" -> "Polski"), on the coordinator's pages.
bp.add_app_template_filter(native_name, "native_language_name")


def _address_limit() -> str:
    return current_app.config.get("SIGNUP_LIMIT_PER_ADDRESS", "5 per minute;30 per hour")


def _email_limit() -> str:
    return current_app.config.get("SIGNUP_LIMIT_PER_EMAIL", "5 per hour")


def _scheme_for_slug_or_404(slug: str) -> Scheme:
    scheme = find_scheme_by_slug(slug)
    if scheme is None:
        abort(404)
    return scheme


def _in_language(language: str, template: str, status: int = 200, **context) -> Response:
    """A resident's page in `language`: its fixed words, form labels and messages, `<html lang dir>` and
    Content-Language, once the association has approved that language's wording; in English until then."""
    main = subscribers.shown_language(language)
    with wording_in(language):
        html = render_template(template, page_language=main, page_dir=text_direction(main), **context)
    response = make_response(html, status)
    response.headers["Content-Language"] = main
    return response


def _language_arg(language: str) -> dict[str, str]:
    # English pages keep their plain address (`/join/<slug>`); others carry `?language=` from page to page.
    return {} if language == ENGLISH else {"language": language}


def _requested_language(scheme: Scheme) -> str:
    return subscriber_languages.requested_language(
        request.args.get("language"), subscriber_languages.offered_languages(scheme)
    )


def _sign_up_pages(scheme: Scheme, languages: list[str], shown: str) -> list[dict]:
    """The sign-up page in each language the scheme offers: tag, own name, dir, its address as a path (links) and
    in full (hreflang), and whether it is this one."""
    return [
        {**choice, "path": url_for("bulletins.join", slug=scheme.slug, **_language_arg(choice["tag"])),
         "href": public_url("bulletins.join", slug=scheme.slug, **_language_arg(choice["tag"])),
         "is_current": choice["tag"] == shown}
        for choice in subscriber_languages.language_choices(languages)
    ]


def _link_invalid(exc: subscribers.LinkError):
    return render_template("bulletins/link_invalid.html", message=str(exc), scheme=exc.scheme), 400


# --- Residents ---------------------------------------------------------------------------------------------------


@bp.route("/join/<slug>", methods=["GET", "POST"])
@limiter.limit(_address_limit, methods=["POST"])
@limiter.limit(_email_limit, key_func=submitted_email, methods=["POST"])
def join(slug: str):
    scheme = _scheme_for_slug_or_404(slug)
    languages = subscriber_languages.offered_languages(scheme)
    # `?language=pl` shows the page in Polish (once its wording is approved) with Polish bulletins ticked.
    shown = subscriber_languages.requested_language(request.args.get("language"), languages)
    with wording_in(shown):  # the form's messages are made while it is checked
        form = SignupForm.for_scheme(scheme, languages, chosen=shown, page_language=subscribers.shown_language(shown))
        is_valid = form.validate_on_submit()
    if is_valid:
        try:
            subscribers.sign_up(scheme, form.email.data, form.name.data or "", form.street.data,
                                language=form.language.data, offered_languages=languages)
        except subscribers.SubscriberProblems as exc:
            form.add_problems(exc.errors)
        else:
            db.session.commit()
            # The same answer for a new address, a known one and one asked a moment ago.
            return redirect(url_for("bulletins.join_sent", slug=scheme.slug, **_language_arg(shown)))
    return _in_language(shown, "bulletins/join.html", scheme=scheme, form=form,
                        languages=subscriber_languages.language_choices(languages),
                        pages=_sign_up_pages(scheme, languages, shown) if len(languages) > 1 else [])


@bp.get("/join/<slug>/check-your-email")
def join_sent(slug: str):
    scheme = _scheme_for_slug_or_404(slug)
    return _in_language(_requested_language(scheme), "bulletins/join_sent.html", scheme=scheme,
                        days=subscribers.confirm_max_age().days)


@bp.route("/join/confirm/<token>", methods=["GET", "POST"])
@limiter.limit(_address_limit, methods=["POST"])
def confirm(token: str):
    # Following the link only shows a button: mail scanners open links, and must not subscribe anyone.
    try:
        subscriber = subscribers.subscriber_for_confirmation(token)
    except subscribers.LinkError as exc:
        return _link_invalid(exc)
    form = ConfirmSubscriptionForm()
    if form.validate_on_submit():
        subscribers.confirm_subscription(subscriber)
        db.session.commit()
        return redirect(url_for("bulletins.joined", slug=subscriber.scheme.slug,
                                **_language_arg(subscriber.language)))
    # In the language they chose at sign-up, as the email that brought them here.
    return _in_language(
        subscriber.language,
        "bulletins/confirm.html",
        scheme=subscriber.scheme,
        form=form,
        wording=subscriber.consent_wording or subscribers.consent_wording(subscriber.scheme),
        address=subscribers.masked_email(subscriber.email),
    )


@bp.get("/join/<slug>/subscribed")
def joined(slug: str):
    scheme = _scheme_for_slug_or_404(slug)
    return _in_language(_requested_language(scheme), "bulletins/joined.html", scheme=scheme)


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the authority; mail programs' one-click POST (RFC 8058) carries no CSRF token
def unsubscribe(token: str):
    try:
        subscriber = subscribers.subscriber_for_unsubscribe(token)
    except subscribers.LinkError as exc:
        return _link_invalid(exc)
    if request.method == "POST":
        is_one_click = request.form.get("List-Unsubscribe") == "One-Click"
        subscribers.unsubscribe(subscriber, is_one_click=is_one_click)
        db.session.commit()
        # A page, not a redirect: a mail program's one-click POST wants a plain 200.
        return _in_language(subscriber.language, "bulletins/unsubscribed.html", scheme=subscriber.scheme,
                            join_url=_join_url(subscriber))
    # A GET never unsubscribes: mail scanners open every link in a message.
    return _unsubscribe_page(subscriber, token, _language_form(subscriber))


def _join_url(subscriber: Subscriber) -> str:
    # Back to the sign-up page in their language, when the scheme still offers it.
    language = subscriber_languages.requested_language(
        subscriber.language, subscriber_languages.offered_languages(subscriber.scheme)
    )
    return url_for("bulletins.join", slug=subscriber.scheme.slug, **_language_arg(language))


def _language_form(subscriber: Subscriber) -> tuple[SubscriberLanguageForm, list[str]]:
    languages = subscriber_languages.languages_for(subscriber)
    return SubscriberLanguageForm.offering(languages, subscriber.language), languages


def _unsubscribe_page(subscriber: Subscriber, token: str, language_form, status: int = 200):
    form, languages = language_form
    # Only a confirmed resident has bulletins whose language to change.
    is_receiving = subscriber.is_confirmed
    # In the language of their bulletins: the page their bulletin's link opens.
    return _in_language(
        subscriber.language,
        "bulletins/unsubscribe.html",
        status,
        scheme=subscriber.scheme,
        address=subscribers.masked_email(subscriber.email) if not subscriber.is_erased else "",
        is_unsubscribed=subscriber.status == SubscriberStatus.UNSUBSCRIBED,
        language_form=form if is_receiving and len(languages) > 1 else None,
        languages=subscriber_languages.language_choices(languages),
        # Named, not this page's own address: after a language refused, this page is shown at the language's.
        unsubscribe_url=url_for("bulletins.unsubscribe", token=token),
        language_url=url_for("bulletins.subscriber_language", token=token),
    )


@bp.post("/unsubscribe/<token>/language")
@limiter.limit(_address_limit)
def subscriber_language(token: str):
    # The same signed token as the unsubscribe link: the link in the resident's bulletin is the authority.
    try:
        subscriber = subscribers.subscriber_for_unsubscribe(token)
    except subscribers.LinkError as exc:
        return _link_invalid(exc)
    form, languages = _language_form(subscriber)
    if not subscriber.is_confirmed:
        abort(404)
    with wording_in(subscriber.language):
        is_valid = form.validate_on_submit()
    if is_valid:
        try:
            subscriber_languages.change_language(subscriber, form.language.data or "", languages)
        except ValueError as exc:
            form.add_problems({"language": [str(exc)]})
        else:
            db.session.commit()
            # Said in the language just chosen: the page it leads to is in it.
            with wording_in(subscriber.language):
                flash(gettext("Saved: your next bulletins come in the language ticked below."), "success")
            return redirect(url_for("bulletins.unsubscribe", token=token))
    return _unsubscribe_page(subscriber, token, (form, languages), status=400)


# --- Coordinators ------------------------------------------------------------------------------------------------


def _subscriber_or_404(scheme: Scheme, subscriber_id: int) -> Subscriber:
    subscriber = subscribers.get_scheme_subscriber(scheme, subscriber_id)
    if subscriber is None:
        abort(404)
    return subscriber


@bp.get("/schemes/<int:scheme_id>/subscribers")
@login_required
def subscriber_list(scheme_id: int):
    scheme = get_my_scheme_or_404(scheme_id)
    form = SubscriberFilterForm(request.args)
    form.validate()
    args = form.filter_args()
    page = db.paginate(
        subscribers.subscribers_query(scheme, args.get("status", ""), args.get("q", "")),
        page=max(request.args.get("page", 1, type=int) or 1, 1),
        per_page=subscribers.PER_PAGE,
        error_out=False,
        count=True,
    )
    return render_template(
        "bulletins/subscribers.html",
        scheme=scheme,
        form=form,
        page=page,
        filter_args=args,
        counts=subscribers.count_subscribers(scheme),
        join_url=public_url("bulletins.join", slug=scheme.slug),
        bounces=bounces.recent_bounces(scheme),
    )


@bp.get("/schemes/<int:scheme_id>/subscribers/<int:subscriber_id>")
@login_required
def subscriber_detail(scheme_id: int, subscriber_id: int):
    scheme = get_my_scheme_or_404(scheme_id)
    subscriber = _subscriber_or_404(scheme, subscriber_id)
    return render_template(
        "bulletins/subscriber.html", scheme=scheme, subscriber=subscriber, export_form=ExportSubscriberForm()
    )


@bp.post("/schemes/<int:scheme_id>/subscribers/<int:subscriber_id>/export")
@login_required
def subscriber_export(scheme_id: int, subscriber_id: int):
    scheme = get_my_scheme_or_404(scheme_id)
    subscriber = _subscriber_or_404(scheme, subscriber_id)
    if not ExportSubscriberForm().validate_on_submit():
        abort(400)
    data = subscriber_data.export_subscriber(subscriber, actor=current_user._get_current_object())
    db.session.commit()
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False) + "\n",
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="subscriber-{subscriber.id}.json"',
            "Cache-Control": "no-store",
        },
    )


@bp.route("/schemes/<int:scheme_id>/subscribers/<int:subscriber_id>/erase", methods=["GET", "POST"])
@login_required
def subscriber_erase(scheme_id: int, subscriber_id: int):
    scheme = get_my_scheme_or_404(scheme_id)
    subscriber = _subscriber_or_404(scheme, subscriber_id)
    form = EraseSubscriberForm()
    if form.validate_on_submit():
        subscriber_data.erase_subscriber(subscriber, actor=current_user._get_current_object())
        db.session.commit()
        flash(f"Subscriber #{subscriber.id} is erased: their address and name are gone.", "success")
        return redirect(url_for("bulletins.subscriber_list", scheme_id=scheme.id))
    return render_template("bulletins/erase.html", scheme=scheme, subscriber=subscriber, form=form)


@bp.route("/schemes/<int:scheme_id>/subscribers/import", methods=["GET", "POST"])
@login_required
def subscriber_import(scheme_id: int):
    scheme = get_my_scheme_or_404(scheme_id)
    form = SubscriberImportForm()
    report = None
    if form.validate_on_submit():
        report = import_subscribers(
            scheme, form.file.data.read(), actor=current_user._get_current_object()
        )
        if report.ok:
            # The report stays on screen after the commit: it says which addresses were already on the list.
            db.session.commit()
        elif report.file_problems:
            form.add_problems({"file": report.file_problems})
    return render_template(
        "bulletins/import.html",
        scheme=scheme,
        form=form,
        report=report,
        columns=IMPORT_COLUMNS,
        max_kb=current_app.config["CSV_MAX_BYTES"] // 1024,
    )
