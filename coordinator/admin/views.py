"""Admin pages: dashboard, coordinators and bulk actions, schemes, bulk import, settings, the audit log. Admins only."""

from __future__ import annotations

from collections import Counter
from datetime import date

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from coordinator.admin import bp, bulk_actions, reach, reach_charts, services
from coordinator.admin.approvals import approval_queue
from coordinator.admin.coordinator_import import import_coordinators
from coordinator.admin.dashboard import (
    content_summary,
    dashboard_counts,
    invited_not_active,
    recent_activity,
    settings_history,
)
from coordinator.admin.forms import (
    AuditFilterForm,
    BulkForm,
    ImportForm,
    InviteForm,
    MembershipForm,
    RoleForm,
    SchemeCoordinatorForm,
    SchemeFilterForm,
    SchemeForm,
    SettingsForm,
    UserFilterForm,
)
from coordinator.audit.export import export_audit_csv
from coordinator.audit.services import audit_query, known_actions, known_object_types
from coordinator.auth import services as accounts
from coordinator.auth.models import Role, User
from coordinator.extensions import db
from coordinator.schemes import membership, setup
from coordinator.schemes.models import CoordinatorRole, Scheme
from coordinator.schemes.services import SchemeError
from coordinator.security import admin_required
from coordinator.settings import SettingsError, brand, get_settings, update_settings


def _me() -> User:
    # Services store the acting account on audit rows: they need the account itself, not the proxy.
    return current_user._get_current_object()


def _page_number() -> int:
    return max(request.args.get("page", 1, type=int) or 1, 1)


def _paginate(stmt):
    return db.paginate(stmt, page=_page_number(), per_page=services.PER_PAGE, error_out=False, count=True)


# --- Dashboard ----------------------------------------------------------------------------------


@bp.get("/")
@admin_required
def dashboard():
    """The admin home page: figures, people waiting to set a password, recent activity."""
    return render_template(
        "admin/dashboard.html",
        counts=dashboard_counts(),
        invited=invited_not_active(),
        activity=recent_activity(),
        content_summary=content_summary(),
        approvals=(approvals := approval_queue()),
        approval_kinds=sorted(Counter(entry.kind for entry in approvals).items()),
    )


@bp.get("/approvals")
@admin_required
def approvals():
    """Everything awaiting approval, oldest first, each a link to its side-by-side review."""
    return render_template("admin/approvals.html", entries=approval_queue())


# --- Coordinators -------------------------------------------------------------------------------


def _users_filter_form(scheme_choices: list[tuple[int, str]]) -> UserFilterForm:
    form = UserFilterForm(request.args, scheme_choices=scheme_choices, ward_choices=services.ward_choices())
    form.validate()
    return form


def _users_page(filter_form: UserFilterForm, bulk_form: BulkForm, ticked: set[int] | frozenset[int] = frozenset()):
    page = _paginate(services.users_query(filter_form.to_filter()))
    memberships = membership.memberships_by_user([u.id for u in page.items])
    # Moving people out of a scheme none of them is in means nothing: offer only the schemes they hold.
    bulk_form.offer_move_from(services.schemes_held(memberships))
    return render_template(
        "admin/users.html",
        form=filter_form,
        bulk_form=bulk_form,
        page=page,
        memberships=memberships,
        filter_args=filter_form.filter_args(),
        status_of=services.account_status,
        ticked=ticked,
    )


@bp.get("/users")
@admin_required
def users():
    """Every account, searched and filtered, 50 a page, with boxes to tick for the bulk actions."""
    # Read once and shared by the page's scheme lists (600 schemes each).
    choices = services.scheme_choices()
    return _users_page(_users_filter_form(choices), BulkForm(scheme_choices=choices, formdata=None))


def _run_bulk_action(form: BulkForm) -> bulk_actions.BulkOutcome:
    ids, visible, me = form.ids.data, form.visible.data, _me()
    match form.bulk_action.data:
        case "resend":
            return bulk_actions.bulk_resend_invitations(ids, visible, by=me)
        case "deactivate":
            return bulk_actions.bulk_deactivate(ids, visible, by=me)
        case "reactivate":
            return bulk_actions.bulk_reactivate(ids, visible, by=me)
        case "role":
            return bulk_actions.bulk_change_role(ids, visible, Role(form.new_role.data), by=me)
        case "add":
            return bulk_actions.bulk_add_to_scheme(
                ids, visible, form.add_scheme.data, CoordinatorRole(form.add_place.data), by=me
            )
        case "move":
            return bulk_actions.bulk_move_to_scheme(
                ids, visible, form.move_from.data, form.move_to.data, form.move_role, by=me
            )
    raise services.AdminError("Choose what to do with the people ticked.")


@bp.post("/users/bulk")
@admin_required
def users_bulk():
    """Act on the accounts ticked on one page of the list; the list's own filter and page are in the query string."""
    # Read once and shared by the page's scheme lists (600 schemes each).
    choices = services.scheme_choices()
    filter_form = _users_filter_form(choices)
    form = BulkForm(scheme_choices=choices)
    if form.validate_on_submit():
        try:
            outcome = _run_bulk_action(form)
        except services.AdminError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(outcome.summary(), "success" if outcome.changed else "info")
            back = dict(filter_form.filter_args())
            if _page_number() > 1:
                back["page"] = str(_page_number())
            return redirect(url_for("admin.users", **back))
    return _users_page(filter_form, form, ticked=set(form.ids.data or ()))


@bp.route("/users/invite", methods=["GET", "POST"])
@admin_required
def user_invite():
    """Invite one coordinator by email, optionally into a scheme."""
    form = InviteForm(scheme_choices=services.scheme_choices())
    if form.validate_on_submit():
        scheme = db.session.get(Scheme, form.scheme.data) if form.scheme.data else None
        try:
            user = services.invite_coordinator(
                form.email.data, form.name.data, scheme, CoordinatorRole(form.scheme_role.data), invited_by=_me()
            )
        except services.AdminError as exc:
            db.session.rollback()
            form.email.errors.append(str(exc))
        else:
            db.session.commit()
            flash(f"Invitation sent to {user.email}.", "success")
            return redirect(url_for("admin.user_detail", user_id=user.id))
    return render_template("admin/invite.html", form=form)


@bp.route("/users/import", methods=["GET", "POST"])
@admin_required
def users_import():
    """Upload a coordinators CSV; show the row-by-row report; import all or nothing."""
    form = ImportForm()
    report = None
    if form.validate_on_submit():
        report = import_coordinators(
            form.file.data.read(), actor=_me(), send_invitations=form.send_invitations.data
        )
        if report.ok:
            db.session.commit()
        else:
            db.session.rollback()
    return render_template("admin/import.html", form=form, report=report)


def _user_page(user: User, role_form: RoleForm | None = None, membership_form: MembershipForm | None = None):
    return render_template(
        "admin/user.html",
        user=user,
        status=services.account_status(user),
        memberships=membership.user_memberships(user),
        role_form=role_form or RoleForm(role=user.role.value, formdata=None),
        membership_form=membership_form or MembershipForm(scheme_choices=services.scheme_choices(), formdata=None),
        is_me=user.id == current_user.id,
    )


@bp.get("/users/<int:user_id>")
@admin_required
def user_detail(user_id: int):
    """One account: details, schemes and the actions an admin can take."""
    return _user_page(db.get_or_404(User, user_id))


def _done(user: User, message: str):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("admin.user_detail", user_id=user.id))


def _refused(user: User, error: Exception):
    db.session.rollback()
    flash(str(error), "error")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.post("/users/<int:user_id>/resend")
@admin_required
def user_resend(user_id: int):
    """Send a fresh invitation to someone who has not yet set a password."""
    user = db.get_or_404(User, user_id)
    try:
        services.resend_invitation(user, invited_by=_me())
    except services.AdminError as exc:
        return _refused(user, exc)
    return _done(user, f"A new invitation is on its way to {user.email}.")


@bp.post("/users/<int:user_id>/deactivate")
@admin_required
def user_deactivate(user_id: int):
    """Stop an account logging in and end its sessions."""
    user = db.get_or_404(User, user_id)
    try:
        accounts.deactivate_user(user, by=_me())
    except accounts.AccountError as exc:
        return _refused(user, exc)
    return _done(user, f"{user.email} is deactivated and logged out everywhere.")


@bp.post("/users/<int:user_id>/reactivate")
@admin_required
def user_reactivate(user_id: int):
    """Let a deactivated account log in again."""
    user = db.get_or_404(User, user_id)
    try:
        accounts.reactivate_user(user, by=_me())
    except accounts.AccountError as exc:
        return _refused(user, exc)
    return _done(user, f"{user.email} can log in again.")


@bp.post("/users/<int:user_id>/role")
@admin_required
def user_role(user_id: int):
    """Make an account a coordinator or an admin."""
    user = db.get_or_404(User, user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        return _user_page(user, role_form=form)
    try:
        accounts.change_role(user, Role(form.role.data), by=_me())
    except accounts.AccountError as exc:
        return _refused(user, exc)
    return _done(user, f"{user.email} is now {'an admin' if user.is_admin else 'a coordinator'}.")


@bp.post("/users/<int:user_id>/schemes")
@admin_required
def user_add_scheme(user_id: int):
    """Put an account into a scheme as main coordinator or deputy."""
    user = db.get_or_404(User, user_id)
    form = MembershipForm(scheme_choices=services.scheme_choices())
    if not form.validate_on_submit():
        return _user_page(user, membership_form=form)
    scheme = db.get_or_404(Scheme, form.scheme.data)
    try:
        membership.add_coordinator_to_scheme(scheme, user, CoordinatorRole(form.scheme_role.data))
    except SchemeError as exc:
        return _refused(user, exc)
    return _done(user, f"{user.name} is now a coordinator of {scheme.name}.")


@bp.post("/users/<int:user_id>/schemes/<int:scheme_id>/remove")
@admin_required
def user_remove_scheme(user_id: int, scheme_id: int):
    """Take an account off a scheme, from the account's page."""
    user = db.get_or_404(User, user_id)
    scheme = db.get_or_404(Scheme, scheme_id)
    try:
        membership.remove_coordinator_from_scheme(scheme, user)
    except SchemeError as exc:
        return _refused(user, exc)
    return _done(user, f"{user.name} is no longer a coordinator of {scheme.name}.")


# --- Schemes ------------------------------------------------------------------------------------


@bp.get("/schemes")
@admin_required
def schemes():
    """Every scheme with its street, household and coordinator counts, 50 a page."""
    form = SchemeFilterForm(request.args)
    form.validate()
    search = form.q.data if not form.q.errors else ""
    page = _paginate(setup.schemes_query(search or ""))
    return render_template(
        "admin/schemes.html",
        form=form,
        page=page,
        totals=setup.scheme_totals([s.id for s in page.items]),
        filter_args={"q": search} if search else {},
    )


@bp.route("/schemes/new", methods=["GET", "POST"])
@admin_required
def scheme_new():
    """Create a scheme."""
    form = SchemeForm()
    if form.validate_on_submit():
        try:
            scheme = setup.create_scheme(form.name.data, form.ward.data or "", form.postcode_district.data or "")
        except SchemeError as exc:
            form.name.errors.append(str(exc))
        else:
            db.session.commit()
            flash(f"Scheme {scheme.name} created.", "success")
            return redirect(url_for("admin.scheme_detail", scheme_id=scheme.id))
    return render_template("admin/scheme_form.html", form=form, scheme=None)


def _scheme_page(scheme: Scheme, coordinator_form: SchemeCoordinatorForm | None = None):
    return render_template(
        "admin/scheme.html",
        scheme=scheme,
        totals=setup.scheme_totals([scheme.id])[scheme.id],
        coordinators=membership.list_coordinators(scheme),
        coordinator_form=coordinator_form or SchemeCoordinatorForm(formdata=None),
    )


@bp.get("/schemes/<int:scheme_id>")
@admin_required
def scheme_detail(scheme_id: int):
    """One scheme: details, coordinators and streets."""
    return _scheme_page(db.get_or_404(Scheme, scheme_id))


@bp.route("/schemes/<int:scheme_id>/edit", methods=["GET", "POST"])
@admin_required
def scheme_edit(scheme_id: int):
    """Change a scheme's name, ward and postcode district."""
    scheme = db.get_or_404(Scheme, scheme_id)
    form = SchemeForm(obj=scheme)
    if form.validate_on_submit():
        try:
            changed = setup.update_scheme(scheme, form.name.data, form.ward.data or "", form.postcode_district.data or "")
        except SchemeError as exc:
            form.name.errors.append(str(exc))
        else:
            db.session.commit()
            flash(f"Scheme {scheme.name} saved." if changed else "Nothing was changed.", "success")
            return redirect(url_for("admin.scheme_detail", scheme_id=scheme.id))
    return render_template("admin/scheme_form.html", form=form, scheme=scheme)


@bp.post("/schemes/<int:scheme_id>/coordinators")
@admin_required
def scheme_add_coordinator(scheme_id: int):
    """Add an existing account to this scheme by email."""
    scheme = db.get_or_404(Scheme, scheme_id)
    form = SchemeCoordinatorForm()
    if form.validate_on_submit():
        try:
            place = membership.add_coordinator_by_email(scheme, form.email.data, CoordinatorRole(form.scheme_role.data))
        except SchemeError as exc:
            db.session.rollback()
            form.email.errors.append(str(exc))
        else:
            db.session.commit()
            flash(f"{place.user.name} is now a coordinator of {scheme.name}.", "success")
            return redirect(url_for("admin.scheme_detail", scheme_id=scheme.id))
    return _scheme_page(scheme, coordinator_form=form)


@bp.post("/schemes/<int:scheme_id>/coordinators/<int:user_id>/remove")
@admin_required
def scheme_remove_coordinator(scheme_id: int, user_id: int):
    """Take a coordinator off this scheme, from the scheme's page."""
    scheme = db.get_or_404(Scheme, scheme_id)
    user = db.get_or_404(User, user_id)
    try:
        membership.remove_coordinator_from_scheme(scheme, user)
    except SchemeError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(f"{user.name} is no longer a coordinator of {scheme.name}.", "success")
    return redirect(url_for("admin.scheme_detail", scheme_id=scheme.id))


# --- Settings -----------------------------------------------------------------------------------


@bp.route("/settings", methods=["GET", "POST"])
@admin_required
def settings():
    """The association's settings; every change is checked against its range and audited."""
    form = SettingsForm(obj=get_settings())
    if form.validate_on_submit():
        try:
            changed = update_settings(form.to_change())
        except SettingsError as exc:
            db.session.rollback()
            form.show_settings_error(exc)
        else:
            db.session.commit()
            if changed:
                flash(f"Settings saved. Changed: {', '.join(form.changed_labels(changed))}.", "success")
            else:
                flash("Nothing was changed: every setting already had the value given.", "info")
            return redirect(url_for("admin.settings"))
    return render_template("admin/settings.html", form=form, brand=brand(), history=settings_history())


# --- Audit log ----------------------------------------------------------------------------------


def _audit_filter_form() -> AuditFilterForm:
    form = AuditFilterForm(request.args, actions=known_actions(), object_types=known_object_types())
    form.validate()
    return form


@bp.get("/audit")
@admin_required
def audit_log():
    """The audit log, filtered, newest first, 50 a page."""
    form = _audit_filter_form()
    page = _paginate(audit_query(form.to_filter()))
    return render_template("admin/audit.html", form=form, page=page, filter_args=form.filter_args())


@bp.get("/audit.csv")
@admin_required
def audit_export():
    """The filtered audit log as a CSV download; the export is itself audited."""
    form = _audit_filter_form()
    document, _count = export_audit_csv(form.to_filter())
    db.session.commit()
    # The byte-order mark makes spreadsheet programs read the file as UTF-8 (names like Zoë, Łukasz).
    return Response(
        "\ufeff" + document,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="audit-log-{date.today():%Y-%m-%d}.csv"'},
    )


# --- Reach report -------------------------------------------------------------------------------



def _reach_filter_form() -> reach.ReachFilterForm:
    form = reach.ReachFilterForm(request.args, campaign_choices=reach.campaign_choices())
    form.validate()
    return form


@bp.get("/reach", endpoint="reach")
@admin_required
def reach_report():
    """What a campaign's leaflets and bulletins reached in a period, per ward and per scheme, as charts and tables."""
    form = _reach_filter_form()
    report = reach.build_reach_report(form.to_filter())
    rows = report.schemes if form.every_scheme.data else report.schemes_with_activity
    return render_template(
        "admin/reach.html",
        form=form,
        report=report,
        ward_charts=reach_charts.ward_charts(report),
        scheme_chart=reach_charts.top_schemes_chart(report),
        schemes_page=reach.page_of(rows, _page_number()),
        filter_args=form.filter_args(),
        format_percent=reach.format_percent,
        no_ward=reach.NO_WARD,
    )


@bp.get("/reach.csv", endpoint="reach_csv")
@admin_required
def reach_export():
    """The reach report with the same filter as a CSV download; the export is itself audited."""
    document, file_name = reach.export_reach_csv(_reach_filter_form().to_filter())
    db.session.commit()
    # The byte-order mark makes spreadsheet programs read the file as UTF-8 (names like Zoë, Łukasz).
    return Response(
        "\ufeff" + document,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{file_name}"'},
    )
