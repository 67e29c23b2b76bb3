"""The settings page and the coordinators list's bulk actions in a real browser, without JavaScript, with axe-core."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from coordinator.extensions import db
from coordinator.schemes.models import CoordinatorRole, SchemeCoordinator
from coordinator.settings import AssociationSettings
from tests.factories import PASSWORD, make_admin, make_scheme, make_user
from tests.helpers.browser import axe_violations, log_in


def test_settings_page_refuses_a_bad_value_then_saves(page):
    admin = make_admin(email="alex@example.org")
    db.session.commit()
    log_in(page, admin.email, PASSWORD)
    page.goto("/admin/settings")
    assert axe_violations(page) == []
    page.get_by_label("Association name").fill("Orpington Watch")
    page.get_by_label("Spare copies (%)").fill("-3")
    page.get_by_role("button", name="Save the settings").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Spare copies must be between 0 and 50 per cent.")
    assert page.get_by_label("Spare copies (%)").get_attribute("aria-invalid") == "true"
    assert page.get_by_label("Spare copies (%)").input_value() == "-3"
    assert page.get_by_label("Association name").input_value() == "Orpington Watch"
    assert axe_violations(page) == []
    # The summary's link takes the keyboard to the field.
    summary.get_by_role("link").click()
    assert page.evaluate("document.activeElement.id") == "spare_copies_percent"

    page.get_by_label("Spare copies (%)").fill("10")
    page.get_by_label("Bulletins need an admin's approval before they are sent").check()
    page.get_by_role("button", name="Save the settings").click()
    expect(page.locator("main")).to_contain_text("Settings saved. Changed: Association name, Spare copies (%), Bulletin approval.")
    db.session.expire_all()
    saved = db.session.scalar(select(AssociationSettings))
    assert (saved.association_name, saved.spare_copies_percent, saved.is_bulletin_approval_required) == (
        "Orpington Watch",
        10,
        True,
    )


def test_tick_two_coordinators_and_add_them_to_a_scheme(page):
    admin = make_admin(name="Alex Admin", email="alex@example.org")
    pat, sam = make_user(name="Pat Okafor"), make_user(name="Sam Reid")
    make_user(name="Lee Chan")
    scheme = make_scheme("Hayes Lane Watch", ward="Hayes and Coney Hall")
    db.session.commit()
    log_in(page, admin.email, PASSWORD)
    page.goto("/admin/users")
    assert axe_violations(page) == []
    page.get_by_label("Tick Pat Okafor").check()
    page.get_by_label("Tick Sam Reid").check()
    page.get_by_label("Scheme", exact=True).nth(1).select_option(label="Hayes Lane Watch")
    page.get_by_role("group", name="Place in the scheme").get_by_label("Deputy coordinator").check()
    page.get_by_role("button", name="Add them to the scheme").click()
    expect(page.locator("main")).to_contain_text("Added to Hayes Lane Watch as deputy coordinator (2 accounts).")
    db.session.expire_all()
    places = db.session.scalars(select(SchemeCoordinator).where(SchemeCoordinator.scheme_id == scheme.id)).all()
    assert sorted((m.user_id, m.role) for m in places) == sorted(
        [(pat.id, CoordinatorRole.DEPUTY), (sam.id, CoordinatorRole.DEPUTY)]
    )

    # Pressing an action's button with nothing chosen for it shows the problem and keeps the boxes ticked.
    page.get_by_label("Tick Pat Okafor").check()
    page.get_by_role("button", name="Change their role").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose the new role")
    assert page.get_by_label("Tick Pat Okafor").is_checked()
    assert axe_violations(page) == []
