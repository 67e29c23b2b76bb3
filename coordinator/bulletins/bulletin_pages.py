"""The coordinator's bulletin pages (compose, preview, test, send, downloads) and the admins' (approval, all schemes).

A coordinator's pages start from `get_my_scheme_or_404`, so another scheme's bulletins are a plain 404. The
previews, the test message and the downloads are rendered by the same code as the messages residents get.
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from coordinator.bulletins import approval, batches, bp, drafts, progress, subscribers
from coordinator.bulletins.forms import (
    AllSchemesBulletinForm,
    BulletinActionForm,
    BulletinForm,
    BulletinReviewForm,
    SendBulletinForm,
)
from coordinator.bulletins.models import Bulletin, BulletinState
from coordinator.bulletins.render import (
    SHARE_TEXT_LIMIT,
    public_eml,
    public_html,
    public_text,
    render_bulletin,
    share_text,
)
from coordinator.bulletins.subscriber_languages import language_choices, recipient_languages
from coordinator.bulletins.transitions import BulletinError, BulletinPermissionError, BulletinProblems
from coordinator.content.services import usable_helplines
from coordinator.db import utcnow
from coordinator.extensions import db, limiter
from coordinator.language_tags import ENGLISH, check_language_tag
from coordinator.links import public_url
from coordinator.mail import is_outbox_folder
from coordinator.mailheaders import MessageError
from coordinator.schemes.models import Scheme
from coordinator.security import admin_required, get_my_scheme_or_404

# --- Bulletins: composing, previews, sending -----------------------------------------------------------------------

# Only this response may be framed (by our own pages) and styled inline: it is the email, shown as a mail
# program shows it. Scripts, forms and plugins stay off.
PREVIEW_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data: https: http:; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)


def _me():
    return current_user._get_current_object()


def _bulletin_or_404(scheme: Scheme, bulletin_id: int) -> Bulletin:
    bulletin = drafts.get_scheme_bulletin(scheme, bulletin_id)
    if bulletin is None:
        abort(404)
    return bulletin


def _detail_url(bulletin: Bulletin) -> str:
    return url_for("bulletins.bulletin_detail", scheme_id=bulletin.scheme_id, bulletin_id=bulletin.id)


def _sample_unsubscribe_url() -> str:
    # Previews and tests carry a link of the right shape that unsubscribes no one.
    return public_url("bulletins.unsubscribe", token="preview")


def _test_limit_key() -> str:
    return f"bulletin-test:{current_user.get_id()}"


def _flash_queued(bulletin: Bulletin, state: BulletinState) -> None:
    # `state` is the one the move left it in: by now the sending job may already have moved it on.
    if state == BulletinState.APPROVED:
        flash("Sending has started. This page shows how far it has gone.", "success")
    elif state == BulletinState.SCHEDULED:
        flash(f"Scheduled: it goes on {approval.local_time_text(bulletin.send_at)}.", "success")
    elif state == BulletinState.AWAITING_APPROVAL:
        flash("Sent for approval. An admin checks it; it goes once they approve it.", "success")


# While a bulletin is going, its page fetches its fresh progress this often (progress.js).
PROGRESS_UPDATE_SECONDS = 5


def _detail_page(scheme: Scheme, bulletin: Bulletin, send_form=None, review_form=None):
    state = bulletin.state
    is_waiting_to_send = state in (BulletinState.DRAFT, BulletinState.AWAITING_APPROVAL, BulletinState.APPROVED,
                                   BulletinState.SCHEDULED)
    left_out = []
    if not bulletin.helpline_version_ids and bulletin.helpline_set_version is not None:
        left_out = usable_helplines(bulletin.helpline_set_version)[1]
    rendered = render_bulletin(bulletin)
    return render_template(
        "bulletins/bulletin.html",
        preview_languages=language_choices(recipient_languages(bulletin)),
        scheme=scheme,
        bulletin=bulletin,
        progress=progress.bulletin_progress(bulletin),
        problem=progress.waiting_problem(bulletin) if state == BulletinState.SENDING else "",
        recipients_now=subscribers.count_recipients(
            scheme, None if bulletin.is_whole_scheme else bulletin.street_ids
        ) if is_waiting_to_send else None,
        text_preview=rendered.text_for("", _sample_unsubscribe_url()),
        left_out=left_out,
        send_form=send_form or SendBulletinForm(),
        review_form=review_form or BulletinReviewForm(),
        # A review opened from the admins' approval queue goes back to it after the decision.
        review_url=url_for("bulletins.bulletin_review", scheme_id=scheme.id, bulletin_id=bulletin.id,
                           **({"from": "queue"} if request.args.get("from") == "queue" else {})),
        action_form=BulletinActionForm(),
        is_outbox_folder=is_outbox_folder(),
        is_approval_required=approval.is_approval_required(),
        # While the bulletin is going, progress.js updates the progress in place (no reload of the page, WCAG 2.2.1)
        # with a button to pause it (2.2.2); without JavaScript, a link refreshes the page.
        is_in_progress=state in (BulletinState.APPROVED, BulletinState.SENDING),
        update_seconds=PROGRESS_UPDATE_SECONDS,
        local_time_text=approval.local_time_text,
        now_text=approval.local_time_text(utcnow()),
        streets={s.id: s for s in scheme.streets},
    )


@bp.get("/schemes/<int:scheme_id>/bulletins")
@login_required
def bulletin_list(scheme_id: int):
    scheme = get_my_scheme_or_404(scheme_id)
    return render_template(
        "bulletins/bulletins.html",
        scheme=scheme,
        bulletins=drafts.scheme_bulletins(scheme),
        counts=subscribers.count_subscribers(scheme),
        is_outbox_folder=is_outbox_folder(),
    )


@bp.route("/schemes/<int:scheme_id>/bulletins/new", methods=["GET", "POST"])
@login_required
def bulletin_new(scheme_id: int):
    scheme = get_my_scheme_or_404(scheme_id)
    form = BulletinForm.for_scheme(scheme)
    if form.validate_on_submit():
        try:
            bulletin = drafts.create_bulletin(scheme, form.to_draft(), _me())
        except BulletinPermissionError:
            abort(403)
        except BulletinProblems as exc:
            form.add_problems(exc.errors)
        else:
            db.session.commit()
            flash("Saved as a draft. Check the preview, send yourself a test, then send it.", "success")
            return redirect(_detail_url(bulletin))
    return render_template("bulletins/compose.html", scheme=scheme, form=form, bulletin=None,
                           is_outbox_folder=is_outbox_folder())


@bp.route("/schemes/<int:scheme_id>/bulletins/<int:bulletin_id>/edit", methods=["GET", "POST"])
@login_required
def bulletin_edit(scheme_id: int, bulletin_id: int):
    scheme = get_my_scheme_or_404(scheme_id)
    bulletin = _bulletin_or_404(scheme, bulletin_id)
    if not bulletin.is_editable:
        flash(f"This bulletin is {bulletin.state.label}: only a draft can be changed.", "error")
        return redirect(_detail_url(bulletin))
    saved = None if request.method == "POST" else drafts.draft_from_bulletin(bulletin)
    form = BulletinForm.for_scheme(scheme, saved)
    if form.validate_on_submit():
        try:
            drafts.update_bulletin(bulletin, form.to_draft(), _me())
        except BulletinPermissionError:
            abort(403)
        except BulletinProblems as exc:
            form.add_problems(exc.errors)
        else:
            db.session.commit()
            flash("Changes saved.", "success")
            return redirect(_detail_url(bulletin))
    return render_template("bulletins/compose.html", scheme=scheme, form=form, bulletin=bulletin,
                           is_outbox_folder=is_outbox_folder())


@bp.get("/schemes/<int:scheme_id>/bulletins/<int:bulletin_id>")
@login_required
def bulletin_detail(scheme_id: int, bulletin_id: int):
    scheme = get_my_scheme_or_404(scheme_id)
    return _detail_page(scheme, _bulletin_or_404(scheme, bulletin_id))


@bp.get("/schemes/<int:scheme_id>/bulletins/<int:bulletin_id>/email.html")
@login_required
def bulletin_email_preview(scheme_id: int, bulletin_id: int):
    scheme = get_my_scheme_or_404(scheme_id)
    bulletin = _bulletin_or_404(scheme, bulletin_id)
    try:
        # As residents reading this language get it (English when none is asked for).
        language = check_language_tag(request.args.get("language") or ENGLISH)
    except ValueError:
        abort(404)
    html = render_bulletin(bulletin, language=language).html_for("", _sample_unsubscribe_url())
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = PREVIEW_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/schemes/<int:scheme_id>/bulletins/<int:bulletin_id>/test")
@login_required
@limiter.limit("10 per hour", key_func=_test_limit_key)
def bulletin_test(scheme_id: int, bulletin_id: int):
    scheme = get_my_scheme_or_404(scheme_id)
    bulletin = _bulletin_or_404(scheme, bulletin_id)
    if not BulletinActionForm().validate_on_submit():
        abort(400)
    try:
        address = drafts.record_test_message(bulletin, _me())
    except BulletinPermissionError:
        abort(403)
    db.session.commit()
    where = " It is written to instance/outbox/, as no mail server is set up." if is_outbox_folder() else ""
    flash(f"A test copy is on its way to {address}.{where}", "success")
    return redirect(_detail_url(bulletin))


@bp.post("/schemes/<int:scheme_id>/bulletins/<int:bulletin_id>/send")
@login_required
def bulletin_send(scheme_id: int, bulletin_id: int):
    scheme = get_my_scheme_or_404(scheme_id)
    bulletin = _bulletin_or_404(scheme, bulletin_id)
    form = SendBulletinForm()
    if form.validate_on_submit():
        try:
            state = approval.queue_bulletin(bulletin, _me(), form.chosen_time())
        except BulletinPermissionError:
            abort(403)
        except BulletinProblems as exc:
            form.add_problems(exc.errors)
        except BulletinError as exc:
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            _flash_queued(bulletin, state)
            return redirect(_detail_url(bulletin))
    db.session.rollback()
    return _detail_page(scheme, bulletin, send_form=form)


def _simple_move(scheme_id: int, bulletin_id: int, move, message: str):
    scheme = get_my_scheme_or_404(scheme_id)
    bulletin = _bulletin_or_404(scheme, bulletin_id)
    if not BulletinActionForm().validate_on_submit():
        abort(400)
    try:
        move(bulletin, _me())
    except BulletinPermissionError:
        abort(403)
    except BulletinError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(message, "success")
    return redirect(_detail_url(bulletin))


@bp.post("/schemes/<int:scheme_id>/bulletins/<int:bulletin_id>/withdraw")
@login_required
def bulletin_withdraw(scheme_id: int, bulletin_id: int):
    return _simple_move(scheme_id, bulletin_id, approval.withdraw_bulletin,
                        "Taken back from approval: it is a draft again.")


@bp.post("/schemes/<int:scheme_id>/bulletins/<int:bulletin_id>/cancel")
@login_required
def bulletin_cancel(scheme_id: int, bulletin_id: int):
    return _simple_move(scheme_id, bulletin_id, approval.cancel_bulletin,
                        "Cancelled: no more copies of this bulletin will be sent.")


@bp.post("/schemes/<int:scheme_id>/bulletins/<int:bulletin_id>/review")
@login_required
def bulletin_review(scheme_id: int, bulletin_id: int):
    scheme = get_my_scheme_or_404(scheme_id)
    bulletin = _bulletin_or_404(scheme, bulletin_id)
    if not current_user.is_admin:
        abort(403)
    form = BulletinReviewForm()
    if form.validate_on_submit():
        try:
            state = approval.decide_bulletin(bulletin, _me(), form.decision.data or "", form.reason.data or "")
        except BulletinProblems as exc:
            form.add_problems(exc.errors)
        except BulletinError as exc:
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            if state == BulletinState.DRAFT:
                flash("Sent back to its author as a draft, with your reason.", "success")
            else:
                _flash_queued(bulletin, state)
            if request.args.get("from") == "queue":
                return redirect(url_for("admin.approvals"))
            return redirect(_detail_url(bulletin))
    db.session.rollback()
    return _detail_page(scheme, bulletin, review_form=form)


# --- Other ways out: .eml, .html, and text for WhatsApp or Facebook ---------------------------------------------


def _download(data: bytes | str, mimetype: str, filename: str) -> Response:
    return Response(data, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store",
    })


@bp.get("/schemes/<int:scheme_id>/bulletins/<int:bulletin_id>/bulletin.eml")
@login_required
def bulletin_download_eml(scheme_id: int, bulletin_id: int):
    scheme = get_my_scheme_or_404(scheme_id)
    bulletin = _bulletin_or_404(scheme, bulletin_id)
    try:
        data = public_eml(bulletin)
    except MessageError as exc:
        # An address stored before it was checked (a scheme's contact email): say what to correct, not a 500.
        flash(f"The .eml file cannot be made: {exc}.", "error")
        return redirect(_detail_url(bulletin))
    return _download(data, "message/rfc822", f"{scheme.slug}-bulletin-{bulletin.id}.eml")


@bp.get("/schemes/<int:scheme_id>/bulletins/<int:bulletin_id>/bulletin.html")
@login_required
def bulletin_download_html(scheme_id: int, bulletin_id: int):
    scheme = get_my_scheme_or_404(scheme_id)
    bulletin = _bulletin_or_404(scheme, bulletin_id)
    return _download(public_html(bulletin), "text/html", f"{scheme.slug}-bulletin-{bulletin.id}.html")


@bp.get("/schemes/<int:scheme_id>/bulletins/<int:bulletin_id>/bulletin.txt")
@login_required
def bulletin_download_text(scheme_id: int, bulletin_id: int):
    scheme = get_my_scheme_or_404(scheme_id)
    bulletin = _bulletin_or_404(scheme, bulletin_id)
    return _download(public_text(bulletin), "text/plain", f"{scheme.slug}-bulletin-{bulletin.id}.txt")


@bp.get("/schemes/<int:scheme_id>/bulletins/<int:bulletin_id>/share")
@login_required
def bulletin_share(scheme_id: int, bulletin_id: int):
    scheme = get_my_scheme_or_404(scheme_id)
    bulletin = _bulletin_or_404(scheme, bulletin_id)
    text = share_text(bulletin)
    return render_template("bulletins/share.html", scheme=scheme, bulletin=bulletin, text=text, limit=SHARE_TEXT_LIMIT)


# --- Admins: approval queue and one bulletin for every scheme ----------------------------------------------------


@bp.get("/admin/bulletins")
@admin_required
def admin_bulletins():
    awaiting = approval.bulletins_awaiting_approval()
    by_batch: dict[str, list[Bulletin]] = {}
    for bulletin in awaiting:
        if bulletin.batch:
            by_batch.setdefault(bulletin.batch, []).append(bulletin)
    return render_template(
        "bulletins/admin_bulletins.html",
        awaiting=awaiting,
        batches=by_batch,
        recent=drafts.recent_bulletins(),
        action_form=BulletinActionForm(),
        is_approval_required=approval.is_approval_required(),
        is_outbox_folder=is_outbox_folder(),
    )


@bp.route("/admin/bulletins/all-schemes", methods=["GET", "POST"])
@admin_required
def admin_send_to_schemes():
    schemes = list(db.session.scalars(select(Scheme).order_by(Scheme.name)))
    form = AllSchemesBulletinForm.with_choices(schemes)
    if form.validate_on_submit():
        if form.schemes.data == "one":
            chosen = [s for s in schemes if s.id == form.scheme.data]
            if not chosen:
                form.add_problems({"scheme": ["Choose the scheme to send to"]})
        else:
            chosen = schemes
        if chosen:
            try:
                report = batches.send_campaign_to_schemes(
                    chosen, form.campaigns.data or [], form.helpline_set.data or "", form.subject.data or "",
                    form.intro.data or "", _me(),
                )
            except BulletinProblems as exc:
                db.session.rollback()
                form.add_problems(exc.errors)
            else:
                db.session.commit()
                for line in report.lines()[:20]:
                    flash(line, "info")
                flash(f"{len(report.bulletins)} bulletin(s) made, {len(report.skipped)} scheme(s) without subscribers "
                      "skipped.", "success")
                return redirect(url_for("bulletins.admin_bulletins"))
    return render_template("bulletins/admin_send.html", form=form, is_outbox_folder=is_outbox_folder(),
                           is_approval_required=approval.is_approval_required())


@bp.post("/admin/bulletins/batches/<batch>/approve")
@admin_required
def admin_approve_batch(batch: str):
    if not BulletinActionForm().validate_on_submit():
        abort(400)
    approved, problems = approval.approve_batch(batch, _me())
    db.session.commit()
    flash(f"{len(approved)} bulletin(s) approved.", "success")
    for problem in problems[:20]:
        flash(problem, "error")
    return redirect(url_for("bulletins.admin_bulletins"))
