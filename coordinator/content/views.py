"""Content pages: the admin library and review, the coordinators' catalogue, local notices, packs.

Views parse the form, call one service, flash and redirect; the services hold every rule. An item
a person may not see is a 404 (another scheme's notice looks like no notice at all); an action a
person may see but not take is a 403.
"""

from __future__ import annotations

import io

from flask import Response, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from coordinator.content import approval, bp, comparison, drafting, translations
from coordinator.content import services as content
from coordinator.content.calendar import campaign_calendar, window_words
from coordinator.content.fields import FieldErrors, web_href
from coordinator.content.forms import (
    ConfirmTranslationForm,
    LibraryFilterForm,
    PackImportForm,
    ReviewForm,
    TranslationLanguageForm,
    form_for,
    translation_form_for,
)
from coordinator.content.models import CampaignVersion, ContentImage, ContentItem, ContentKind, VersionState
from coordinator.content.packs import PackError, export_pack, import_pack, pack_json
from coordinator.content.phones import tel_href
from coordinator.content.sanitise import render_markdown
from coordinator.db import utcnow
from coordinator.extensions import db
from coordinator.links import public_url
from coordinator.security import admin_required, get_my_scheme_or_404, my_schemes_query

ADMIN_KINDS = {ContentKind.CAMPAIGN, ContentKind.HELPLINE, ContentKind.HELPLINE_SET}


@bp.context_processor
def content_helpers() -> dict:
    return {
        "render_markdown": render_markdown,
        "web_href": web_href,
        "tel_href": tel_href,
        "public_url": public_url,
        "campaign_status": content.campaign_status,
        "campaign_window": window_words,
        "helpline_review": content.helpline_review,
        "usable_helplines": content.usable_helplines,
        "VersionState": VersionState,
        "ContentKind": ContentKind,
        "TranslationState": translations.TranslationState,
        "translation_languages": translations.translation_languages,
    }


def _item_or_404(item_id: int) -> ContentItem:
    item = content.get_item(item_id)
    if item is None or not content.can_see(item, current_user):
        abort(404)
    return item


def _version_or_404(version_id: int):
    version = content.get_version(version_id)
    if version is None or not content.can_see(version.item, current_user):
        abort(404)
    return version


def _kind_or_404(kind: str) -> ContentKind:
    try:
        return ContentKind(kind)
    except ValueError:
        abort(404)


def _commit_and_flash(message: str) -> None:
    db.session.commit()
    flash(message, "success")


def _prepare(form, kind: ContentKind) -> None:
    if kind == ContentKind.HELPLINE_SET:
        form.set_choices(content.helpline_items_for_sets())
    elif kind == ContentKind.CAMPAIGN:
        form.set_choices(content.approved_helpline_sets())


def _form_fields(form, kind: ContentKind) -> dict:
    if kind == ContentKind.HELPLINE_SET:
        chosen = [db.session.get(ContentItem, item_id) for item_id in form.chosen_ids()]
        return {"title": form.title.data, "helplines": [i for i in chosen if i is not None],
                "is_sensitive": bool(form.is_sensitive.data)}
    return form.to_fields()


# --- The admin library --------------------------------------------------------------------------


@bp.get("/library")
@admin_required
def library():
    form = LibraryFilterForm(request.args)
    kind = ContentKind(form.kind.data) if form.kind.data in {k.value for k in ContentKind} else None
    state = VersionState(form.state.data) if form.state.data in {s.value for s in VersionState} else None
    return render_template(
        "content/library.html",
        form=form,
        items=content.library_items(kind, state),
        is_filtered=bool(kind or state),
        awaiting=content.versions_awaiting_approval(),
        review_count=len(content.helplines_needing_review()),
        item_status=content.item_status,
    )


@bp.get("/calendar")
@admin_required
def calendar():
    """What runs when: the coming twelve months, month by month, and the campaigns that run all year."""
    months, all_year = campaign_calendar()
    return render_template("content/calendar.html", months=months, all_year=all_year, window_words=window_words)


@bp.route("/new/<kind>", methods=["GET", "POST"])
@admin_required
def new_item(kind: str):
    kind = _kind_or_404(kind)
    if kind not in ADMIN_KINDS:
        abort(404)
    form = form_for(kind)
    _prepare(form, kind)
    if form.validate_on_submit():
        try:
            version = drafting.create_item(kind, _form_fields(form, kind), current_user)
        except FieldErrors as exc:
            form.add_problems(exc.errors)
        else:
            _commit_and_flash("Draft saved. Submit it for approval when it is ready.")
            return redirect(url_for("content.item", item_id=version.item_id))
    return render_template("content/form.html", form=form, kind=kind, item=None, version=None)


@bp.get("/items/<int:item_id>")
@login_required
def item(item_id: int):
    found = _item_or_404(item_id)
    is_editor = content.can_edit(found, current_user)
    warmups = None
    if found.kind == ContentKind.CAMPAIGN and current_user.is_admin and not found.is_translation:
        from coordinator.leaflets.warmup import recent_warmups  # leaflets read content, never the other way at import

        warmups = recent_warmups(found.id)
    original = found.translation_of
    return render_template(
        "content/item.html",
        original=original,
        original_current=original.current_version if original is not None else None,
        translation_state=translations.state_of_translation(found) if original is not None else None,
        translation_rows=translations.translations_of(found) if original is None else [],
        original_language=translations.original_language(found),
        language_form=TranslationLanguageForm(formdata=None),
        confirm_form=ConfirmTranslationForm(formdata=None),
        warmups=warmups,
        warmups_running=bool(warmups) and any(w.state.value != "done" for w in warmups),
        item=found,
        current=found.current_version,
        open_version=found.open_version if is_editor else None,
        versions=list(reversed(found.versions)) if is_editor else [],
        is_editor=is_editor,
        item_status=content.item_status(found),
    )


@bp.route("/items/<int:item_id>/edit", methods=["GET", "POST"])
@login_required
def edit_item(item_id: int):
    found = _item_or_404(item_id)
    if not content.can_edit(found, current_user):
        abort(403)
    if found.is_translation:
        return redirect(url_for("content.edit_translation", item_id=found.id))
    open_version = found.open_version
    if open_version is not None and open_version.state == VersionState.SUBMITTED:
        flash(f"Version {open_version.number} is awaiting approval. Withdraw it first if you need to change it.",
              "warning")
        return redirect(url_for("content.item", item_id=found.id))
    starting_from = open_version or found.current_version or found.latest_version
    form = form_for(found.kind, starting_from)
    _prepare(form, found.kind)
    if form.validate_on_submit():
        try:
            version = drafting.edit_item(found, _form_fields(form, found.kind), current_user)
        except FieldErrors as exc:
            form.add_problems(exc.errors)
        except content.ContentError as exc:
            form.form_errors.append(str(exc))
        else:
            _commit_and_flash(f"Version {version.number} saved as a draft. Submit it for approval when it is ready.")
            return redirect(url_for("content.item", item_id=found.id))
    return render_template("content/form.html", form=form, kind=found.kind, item=found, version=starting_from)


def _act(version_id: int, action, done: str):
    version = _version_or_404(version_id)
    try:
        action(version, current_user)
    except content.ContentPermissionError:
        abort(403)
    except content.ContentError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        _commit_and_flash(done.format(number=version.number))
    return redirect(url_for("content.item", item_id=version.item_id))


@bp.post("/versions/<int:version_id>/submit")
@login_required
def submit_version(version_id: int):
    return _act(version_id, approval.submit_version, "Version {number} is submitted. An admin will review it.")


@bp.post("/versions/<int:version_id>/withdraw")
@login_required
def withdraw_version(version_id: int):
    return _act(version_id, approval.withdraw_version, "Version {number} is back in draft.")


@bp.post("/items/<int:item_id>/retire")
@login_required
def retire_item(item_id: int):
    found = _item_or_404(item_id)
    version = found.current_version
    if version is None:
        abort(404)
    return _act(version.id, lambda v, actor: approval.retire_item(found, actor),
                "It is retired: no longer offered for new leaflets and bulletins.")


@bp.route("/versions/<int:version_id>/review", methods=["GET", "POST"])
@admin_required
def review_version(version_id: int):
    version = _version_or_404(version_id)
    if version.state != VersionState.SUBMITTED:
        flash(f"Version {version.number} is {version.state.label}, not awaiting approval.", "info")
        return redirect(url_for("content.item", item_id=version.item_id))
    approved = version.item.current_version
    original = version.item.translation_of
    form = ReviewForm()
    if form.validate_on_submit():
        try:
            approval.decide_version(version, current_user, form.decision.data, form.reason.data or "")
        except content.ContentError as exc:
            db.session.rollback()
            target = form.reason if form.decision.data == "request_changes" else form.decision
            target.errors = [*target.errors, str(exc)]
        else:
            decided = "approved" if version.state == VersionState.APPROVED else "sent back with your reason"
            _commit_and_flash(f"Version {version.number} of “{version.title}” is {decided}.")
            # Reviews opened from the approval queue go back to it, ready for the next item.
            return redirect(url_for("admin.approvals") if request.args.get("from") == "queue"
                            else url_for("content.library"))
    if original is not None:
        # A translation is read beside the original's version in use, field by field.
        original_current = original.current_version
        return render_template(
            "content/translation_review.html",
            form=form,
            version=version,
            approved=approved,
            original=original,
            original_current=original_current,
            original_language=translations.original_language(original),
            rows=comparison.compare_translation(original_current, approved, version),
            is_own_submission=version.submitted_by_id == current_user.id,
        )
    return render_template(
        "content/review.html",
        form=form,
        version=version,
        approved=approved,
        changes=comparison.compare_versions(approved, version),
        is_own_submission=version.submitted_by_id == current_user.id,
    )


# --- Translations -------------------------------------------------------------------------------


@bp.route("/items/<int:item_id>/translations/new", methods=["GET", "POST"])
@login_required
def new_translation(item_id: int):
    """Add a translation: the language comes from the item page's small form, then the wording is typed here."""
    original = _item_or_404(item_id)
    if original.is_translation:
        abort(404)
    if not content.can_edit(original, current_user):
        abort(403)
    source = original.current_version
    if source is None:
        flash("Only approved wording is translated: approve a version first.", "warning")
        return redirect(url_for("content.item", item_id=original.id))
    language_form = TranslationLanguageForm(formdata=None)
    raw = request.form.get("language") if request.method == "POST" else request.args.get("language", "")
    language_form.language.data = raw
    try:
        tag = translations.check_new_language(original, raw)
    except FieldErrors as exc:
        # No language yet is the first step's page; a wrong one is that page with the reason.
        language_form.language.errors = [exc.errors["language"]] if raw else []
        return render_template("content/translation_form.html", form=None, language_form=language_form,
                               original=original, source=source, item=None, version=None, tag=None,
                               original_language=translations.original_language(original)), 400 if raw else 200
    form = translation_form_for(original.kind, tag)
    if form.validate_on_submit():
        try:
            version = translations.add_translation(original, tag, form.to_fields(), current_user)
        except FieldErrors as exc:
            form.add_problems(exc.errors)
        except content.ContentError as exc:
            form.form_errors.append(str(exc))
        else:
            _commit_and_flash("Translation saved as a draft. Submit it for approval when it is ready.")
            return redirect(url_for("content.item", item_id=version.item_id))
    return render_template("content/translation_form.html", form=form, language_form=None, original=original,
                           source=source, item=None, version=None, tag=tag,
                           original_language=translations.original_language(original))


@bp.route("/items/<int:item_id>/translation/edit", methods=["GET", "POST"])
@login_required
def edit_translation(item_id: int):
    found = _item_or_404(item_id)
    if not found.is_translation:
        abort(404)
    if not content.can_edit(found, current_user):
        abort(403)
    open_version = found.open_version
    if open_version is not None and open_version.state == VersionState.SUBMITTED:
        flash(f"Version {open_version.number} is awaiting approval. Withdraw it first if you need to change it.",
              "warning")
        return redirect(url_for("content.item", item_id=found.id))
    original = found.translation_of
    source = original.current_version
    if source is None:
        flash(f"“{original.title}” has no approved version now, so there is nothing to translate.", "warning")
        return redirect(url_for("content.item", item_id=found.id))
    starting_from = open_version or found.current_version or found.latest_version
    form = translation_form_for(found.kind, found.language, starting_from)
    if form.validate_on_submit():
        try:
            version = translations.edit_translation(found, form.to_fields(), current_user)
        except FieldErrors as exc:
            form.add_problems(exc.errors)
        except content.ContentError as exc:
            form.form_errors.append(str(exc))
        else:
            _commit_and_flash(f"Version {version.number} saved as a draft. Submit it for approval when it is ready.")
            return redirect(url_for("content.item", item_id=found.id))
    return render_template("content/translation_form.html", form=form, language_form=None, original=original,
                           source=source, item=found, version=starting_from, tag=found.language,
                           original_language=translations.original_language(original))


@bp.post("/items/<int:item_id>/translation/confirm")
@admin_required
def confirm_translation(item_id: int):
    """"Still right for version N": the approved translation may be used with the original's newer version."""
    found = _item_or_404(item_id)
    if not found.is_translation:
        abort(404)
    form = ConfirmTranslationForm()
    if not form.validate_on_submit():
        abort(400)
    raw = form.original_version_id.data or ""
    try:
        translations.confirm_translation(found, current_user, int(raw) if raw.isdigit() else -1)
    except content.ContentPermissionError:
        abort(403)
    except content.ContentError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        number = found.translation_of.current_version.number
        _commit_and_flash(f"The {found.language} translation is recorded as still right for version {number}, by you.")
    return redirect(url_for("content.item", item_id=found.id))


# --- Helpline review ----------------------------------------------------------------------------


@bp.get("/helplines/review")
@admin_required
def helpline_review():
    return render_template("content/helpline_review.html", rows=content.helplines_needing_review(),
                           grace_days=content.review_grace_days())


@bp.post("/helplines/<int:item_id>/verify")
@admin_required
def verify_helpline(item_id: int):
    found = _item_or_404(item_id)
    try:
        content.reverify_helpline(found, current_user)
    except content.ContentError as exc:
        flash(str(exc), "error")
    else:
        _commit_and_flash(f"“{found.title}” is verified today, by you.")
    target = request.form.get("next")
    return redirect(url_for("content.item", item_id=found.id) if target != "review" else
                    url_for("content.helpline_review"))


# --- The coordinators' catalogue ----------------------------------------------------------------


@bp.get("/catalogue")
@login_required
def catalogue():
    schemes = db.session.scalars(my_schemes_query()).all() if not current_user.is_admin else []
    return render_template(
        "content/catalogue.html",
        current=content.current_campaigns(),
        upcoming=content.upcoming_campaigns(),
        helpline_sets=content.approved_helpline_sets(),
        schemes=[(scheme, content.local_notices_for_scheme(scheme)) for scheme in schemes],
    )


@bp.get("/schemes/<int:scheme_id>/notices")
@login_required
def notices(scheme_id: int):
    scheme = get_my_scheme_or_404(scheme_id)
    return render_template("content/notices.html", scheme=scheme, items=content.local_notice_items(scheme),
                           item_status=content.item_status)


@bp.route("/schemes/<int:scheme_id>/notices/new", methods=["GET", "POST"])
@login_required
def new_notice(scheme_id: int):
    scheme = get_my_scheme_or_404(scheme_id)
    form = form_for(ContentKind.LOCAL_NOTICE)
    if form.validate_on_submit():
        try:
            version = drafting.create_item(ContentKind.LOCAL_NOTICE, form.to_fields(), current_user, scheme=scheme)
        except FieldErrors as exc:
            form.add_problems(exc.errors)
        except content.ContentPermissionError:
            abort(403)
        else:
            _commit_and_flash("Notice saved as a draft. Submit it for approval when it is ready.")
            return redirect(url_for("content.item", item_id=version.item_id))
    return render_template("content/form.html", form=form, kind=ContentKind.LOCAL_NOTICE, item=None, version=None,
                           scheme=scheme)


@bp.get("/images/<int:image_id>")
@login_required
def image(image_id: int):
    picture = db.session.get(ContentImage, image_id)
    if picture is None:
        abort(404)
    if not current_user.is_admin:
        # Coordinators see pictures of approved campaigns only, never one still in review.
        in_use = db.session.scalar(select(CampaignVersion.id).where(
            CampaignVersion.image_id == image_id, CampaignVersion.state == VersionState.APPROVED
        ).limit(1))
        if in_use is None:
            abort(404)
    response = send_file(io.BytesIO(picture.data), mimetype=picture.media_type, max_age=3600,
                         download_name=f"campaign-picture-{picture.id}.{picture.media_type.split('/')[1]}")
    response.headers["Content-Disposition"] = "inline"
    return response


# --- Content packs ------------------------------------------------------------------------------


@bp.get("/packs")
@admin_required
def packs():
    return render_template("content/packs.html", form=PackImportForm(), report=None)


@bp.get("/packs/export.json")
@admin_required
def export_content_pack():
    body = pack_json(export_pack(include_images=request.args.get("images") != "no"))
    filename = f"content-pack-{utcnow():%Y-%m-%d}.json"
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.post("/packs/import")
@admin_required
def import_content_pack():
    form = PackImportForm()
    report = None
    if form.validate_on_submit():
        upload = form.pack.data
        if not upload:
            form.pack.errors = ["Choose a content pack file to import."]
        else:
            try:
                report = import_pack(upload.read(), current_user)
            except PackError as exc:
                db.session.rollback()
                return render_template("content/packs.html", form=form, report=None, problems=exc.problems), 400
            _commit_and_flash("The content pack is loaded. Its items are awaiting approval by another admin.")
    return render_template("content/packs.html", form=form, report=report)
