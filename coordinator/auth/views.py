"""Login, logout, set-password links and one's own account."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from coordinator.auth import bp, kept_forms, login_limits
from coordinator.auth import services as accounts
from coordinator.auth.forms import (
    CampaignEmailsForm,
    ChangePasswordForm,
    ConfirmEmailForm,
    LoginForm,
    ProfileForm,
    RequestResetForm,
    SetPasswordForm,
)
from coordinator.auth.sessions import log_in, log_out
from coordinator.extensions import db, limiter, login_manager
from coordinator.links import this_page


def _address_limit() -> str:
    return current_app.config["LOGIN_LIMIT_PER_ADDRESS"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_address_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        login_limits.before_checking_password(form.email.data)
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is None:
            login_limits.failed_login(form.email.data)
        else:
            login_limits.logged_in(form.email.data)
            log_in(user, remember=form.remember.data)
        db.session.commit()
        if user is not None:
            target = request.args.get("next")
            return redirect(target if accounts.is_safe_next(target) else url_for("main.home"))
        # The same words whether the email is unknown, the password wrong or the account inactive.
        form.form_errors.append("The email address or password is not right.")
    return render_template("auth/login.html", form=form)


@login_manager.unauthorized_handler
def unauthorized():
    # A form sent after the account's sessions were ended elsewhere (a password change, say) is kept too.
    if kept_forms.keep_refused_form(request, this_page()):
        return send_to_kept_form()
    flash(login_manager.login_message, login_manager.login_message_category)
    return redirect(url_for("auth.login", next=this_page()))


def send_to_kept_form():
    """After a refused form was kept: to the page that sends it again, through the login page when logged out."""
    if current_user.is_authenticated:
        flash("That form had expired, so it was not sent. What you typed is kept: send it from here.", "info")
        return redirect(url_for("auth.kept_form"))
    flash("You were logged out after a while without activity, so the form was not sent. What you typed is "
          "kept: log in again to send it.", "info")
    return redirect(url_for("auth.login", next=url_for("auth.kept_form")))


@bp.get("/kept-form")
@login_required
def kept_form():
    kept = kept_forms.kept_form()
    if kept is None:
        kept_forms.forget_kept_form()  # it may be someone else's, kept before they left this computer
        flash("There is no kept form to send.", "info")
        return redirect(url_for("main.home"))
    return render_template("auth/kept_form.html", kept=kept)


@bp.post("/kept-form/discard")
@login_required
def discard_kept_form():
    kept_forms.forget_kept_form()
    flash("What you typed has been thrown away.", "success")
    return redirect(url_for("main.home"))


@bp.post("/logout")
@login_required
def logout():
    log_out()
    db.session.commit()
    flash("You have logged out.", "success")
    return redirect(url_for("auth.login"))


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(_address_limit, methods=["POST"])
def forgot_password():
    form = RequestResetForm()
    if form.validate_on_submit():
        accounts.request_password_reset(form.email.data)
        db.session.commit()
        flash(
            "If that address has an account, we have sent it a link to choose a new password. "
            "Check your email, including the junk folder.",
            "success",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/set-password/<token>", methods=["GET", "POST"])
@limiter.limit(_address_limit, methods=["POST"])
def set_password(token: str):
    try:
        user, purpose = accounts.user_for_token(token)
    except accounts.AccountError as exc:
        return render_template("auth/link_invalid.html", message=str(exc)), 400
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = accounts.redeem_account_token(token, form.password.data)
        except accounts.AccountError as exc:
            form.password.errors.append(str(exc))
        else:
            log_in(user)
            db.session.commit()
            flash("Your password is set. Welcome.", "success")
            return redirect(url_for("main.home"))
    return render_template("auth/set_password.html", form=form, user=user, purpose=purpose)


def _show_error(form, exc: accounts.AccountError, default_field: str) -> None:
    getattr(form, exc.field or default_field).errors.append(str(exc))


@bp.route("/", methods=["GET", "POST"])
@login_required
def profile():
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        try:
            new_email = accounts.update_profile(current_user, form.name.data, form.email.data,
                                                form.current_password.data or "")
        except accounts.AccountError as exc:
            _show_error(form, exc, "email")
        else:
            db.session.commit()
            if new_email:
                flash(f"We have sent a link to {new_email}. Your email address changes when you follow it "
                      f"(within {accounts.email_link_hours()} hours).", "info")
            else:
                flash("Your details are saved.", "success")
            return redirect(url_for("auth.profile"))
    return render_template("auth/profile.html", form=form, emails_form=_campaign_emails_form())


def _campaign_emails_form(formdata=None) -> CampaignEmailsForm:
    form = CampaignEmailsForm(formdata=formdata, campaign_emails=current_user.campaign_emails)
    form.campaign_emails.choices = list(accounts.CAMPAIGN_EMAILS.items())
    return form


@bp.post("/campaign-emails")
@login_required
def campaign_emails():
    """Choose an email for each campaign that opens, a weekly digest, or none."""
    form = _campaign_emails_form(request.form)
    if form.validate_on_submit():
        try:
            changed = accounts.set_campaign_emails(current_user, form.campaign_emails.data)
        except accounts.AccountError as exc:
            _show_error(form, exc, "campaign_emails")
        else:
            db.session.commit()
            flash("Your campaign emails are changed." if changed else "Your campaign emails are as they were.",
                  "success")
            return redirect(url_for("auth.profile"))
    return render_template("auth/profile.html", form=ProfileForm(obj=current_user), emails_form=form)


@bp.route("/email/<token>", methods=["GET", "POST"])
@limiter.limit(_address_limit, methods=["POST"])
def confirm_email(token: str):
    # Following the link only shows a button: mail scanners open links, and must not change anyone's email.
    try:
        user, new_email = accounts.email_change_for_token(token)
    except accounts.AccountError as exc:
        return render_template("auth/link_invalid.html", message=str(exc), about_email=True), 400
    form = ConfirmEmailForm()
    if form.validate_on_submit():
        try:
            accounts.confirm_email_change(token)
        except accounts.AccountError as exc:
            return render_template("auth/link_invalid.html", message=str(exc), about_email=True), 400
        db.session.commit()
        flash(f"Your email address is now {new_email}.", "success")
        return redirect(url_for("auth.profile" if current_user.is_authenticated else "auth.login"))
    return render_template("auth/confirm_email.html", form=form, user=user, new_email=new_email)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            accounts.change_password(user, form.current_password.data, form.password.data)
        except accounts.AccountError as exc:
            _show_error(form, exc, "password")
        else:
            # Every login of the account has ended: this device begins a new one.
            log_in(user)
            db.session.commit()
            flash("Your password is changed. Any other device you were logged in on is now logged out.", "success")
            return redirect(url_for("auth.profile"))
    return render_template("auth/change_password.html", form=form)
