"""The admins' "Fixed wording by language" pages (from Settings): each language's catalogue, its words beside the
English, and the button that approves them for printing (coordinator/admin/wording.py)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import DataRequired, Length

from coordinator.admin import bp
from coordinator.admin.wording import (
    MISSING,
    WordingError,
    approve_wording,
    catalogue_messages,
    catalogue_state,
    catalogue_states,
)
from coordinator.extensions import db
from coordinator.security import admin_required
from coordinator.wording import DRAFT_LANGUAGES, catalogue_languages


class ApproveWordingForm(FlaskForm):
    """The catalogue's digest as the page showed it: what the admin read is what is approved."""

    digest = HiddenField(validators=[DataRequired(), Length(min=64, max=64)])


def _known_language(language: str) -> str:
    if language not in DRAFT_LANGUAGES and language not in catalogue_languages():
        abort(404)
    return language


@bp.get("/settings/wording")
@admin_required
def wording():
    """Every language's fixed wording: approved, changed since approved, or a draft."""
    return render_template("admin/wording.html", states=catalogue_states())


@bp.get("/settings/wording/<language>")
@admin_required
def wording_language(language: str):
    """One language's fixed wording beside the English, with the button that approves it."""
    state = catalogue_state(_known_language(language))
    form = ApproveWordingForm(formdata=None, digest=state.digest or "")
    return render_template("admin/wording_language.html", state=state, messages=catalogue_messages(language),
                           form=form, missing=MISSING)


@bp.post("/settings/wording/<language>/approve")
@admin_required
def wording_approve(language: str):
    """Approve the language's wording as the page showed it; audited."""
    language = _known_language(language)
    form = ApproveWordingForm()
    if not form.validate_on_submit():
        flash("The form had expired or was incomplete: read the wording again, then approve.", "error")
        return redirect(url_for("admin.wording_language", language=language))
    try:
        approve_wording(language, form.digest.data, current_user._get_current_object())
    except WordingError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("admin.wording_language", language=language))
    db.session.commit()
    state = catalogue_state(language)
    flash(f"The fixed wording in {state.name} is approved: leaflets, bulletins and pages in {state.name} now "
          "print it.", "success")
    return redirect(url_for("admin.wording"))
