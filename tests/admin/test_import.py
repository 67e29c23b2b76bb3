"""Bulk import of coordinators: the service, the page and the command line. All or nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from coordinator.admin.coordinator_import import import_coordinators
from coordinator.audit.models import AuditEntry
from coordinator.auth.models import User
from coordinator.extensions import db
from coordinator.mail import OutgoingMail
from coordinator.schemes.models import CoordinatorRole, SchemeCoordinator
from tests.admin.helpers import HOSTILE, actions, count, csv_bytes, queued_mail, upload
from tests.factories import make_admin, make_scheme, make_user
from tests.helpers.web import login_as, outbox_messages, post_form

GOOD_ROWS = (
    "ann@example.org,Ann Abbott,Hayes Lane Watch,main",
    "bob@example.org,Bob Brown,hayes lane watch,deputy",
    "cai@example.org,Cai Chen,chislehurst-common,main",
)


@pytest.fixture
def schemes(app):
    hayes = make_scheme("Hayes Lane Watch", slug="hayes-lane-watch")
    chislehurst = make_scheme("Chislehurst Common Watch", slug="chislehurst-common")
    db.session.commit()
    return hayes, chislehurst


def _nothing_created(before_users: int) -> None:
    assert count(User) == before_users
    assert count(SchemeCoordinator) == 0
    assert count(OutgoingMail) == 0
    assert actions("users.imported") == []


# --- The service --------------------------------------------------------------------------------


def test_good_file_creates_accounts_memberships_and_invitations(schemes):
    hayes, chislehurst = schemes
    admin = make_admin()
    report = import_coordinators(csv_bytes(*GOOD_ROWS), actor=admin)
    assert report.ok, report.lines()
    db.session.commit()
    assert [row.is_ok for row in report.rows] == [True, True, True]
    assert [row.line for row in report.rows] == [2, 3, 4]
    ann = db.session.scalar(select(User).where(User.email == "ann@example.org"))
    assert ann.name == "Ann Abbott" and not ann.has_password and ann.is_active_account and ann.invited_at
    places = {(m.user.email, m.scheme_id, m.role) for m in db.session.scalars(select(SchemeCoordinator))}
    assert places == {
        ("ann@example.org", hayes.id, CoordinatorRole.MAIN),
        ("bob@example.org", hayes.id, CoordinatorRole.DEPUTY),
        ("cai@example.org", chislehurst.id, CoordinatorRole.MAIN),
    }
    assert sorted(m.to_address for m in queued_mail()) == ["ann@example.org", "bob@example.org", "cai@example.org"]
    imported = actions("users.imported")
    assert len(imported) == 1 and imported[0].details["count"] == 3 and imported[0].actor_id == admin.id
    assert len(actions("users.invited")) == 3
    assert report.lines()[-1] == "Imported 3 coordinators and 3 scheme places; 3 invitations queued."
    assert report.lines()[0] == "Line 2: ann@example.org: OK"


def test_one_person_running_two_schemes_gets_one_account_and_one_invitation(schemes):
    report = import_coordinators(
        csv_bytes(
            "dee@example.org,Dee Dara,Hayes Lane Watch,main", "DEE@example.org,Dee Dara,chislehurst-common,deputy"
        ),
        actor=None,
    )
    assert report.ok, report.lines()
    assert report.accounts_created == 1 and report.memberships_created == 2 and report.invitations_queued == 1
    assert count(User) == 1 and count(SchemeCoordinator) == 2 and len(queued_mail()) == 1
    assert actions("users.imported")[0].actor_label == "command line"


def test_without_invitations_no_mail_is_queued(schemes):
    report = import_coordinators(csv_bytes(*GOOD_ROWS), actor=None, send_invitations=False)
    assert report.ok
    assert count(User) == 3 and queued_mail() == []
    assert db.session.scalar(select(User).where(User.email == "ann@example.org")).invited_at is None


def test_blank_lines_and_a_byte_order_mark_are_fine(schemes):
    data = csv_bytes("", GOOD_ROWS[0], ",,,", "   ", GOOD_ROWS[1], "", bom=True)
    report = import_coordinators(data, actor=None)
    assert report.ok, report.lines()
    assert [row.line for row in report.rows] == [3, 6]
    assert count(User) == 2


def test_header_may_come_in_any_order_and_case(schemes):
    data = csv_bytes("main,Hayes Lane Watch,Ann Abbott,ann@example.org", header="Role,Scheme,Name,Email")
    report = import_coordinators(data, actor=None)
    assert report.ok, report.lines()
    assert db.session.scalar(select(User.name)) == "Ann Abbott"


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (("not-an-email,Ann Abbott,Hayes Lane Watch,main",), "The email is not valid"),
        (("ann@nowhere,Ann Abbott,Hayes Lane Watch,main",), "The email is not valid"),
        ((",Ann Abbott,Hayes Lane Watch,main",), "The email is missing"),
        (("ann@example.org,,Hayes Lane Watch,main",), "Enter the coordinator's name"),
        (('ann@example.org,"=HYPERLINK(""http://evil"")",Hayes Lane Watch,main',), "without a formula"),
        (("ann@example.org,+cmd,Hayes Lane Watch,main",), "without a formula"),
        (("ann@example.org,@SUM(A1),Hayes Lane Watch,main",), "without a formula"),
        (("ann@example.org,-2+3+cmd|' /C calc'!A0,Hayes Lane Watch,main",), "without a formula"),
        (("ann@example.org,-1-1,Hayes Lane Watch,main",), "without a formula"),
        (("ann@example.org,Ann Abbott,Nowhere Watch,main",), "No scheme has this name"),
        (("ann@example.org,Ann Abbott,,main",), "The scheme is missing"),
        (("ann@example.org,Ann Abbott,Hayes Lane Watch,boss",), "The role must be main or deputy"),
        (("ann@example.org,Ann Abbott,Hayes Lane Watch,",), "The role is missing"),
        (("ann@example.org,Ann Abbott,Hayes Lane Watch,main,extra",), "more cells than the header"),
        (
            ("ann@example.org,Ann Abbott,Hayes Lane Watch,main", "ANN@example.org,Ann Abbott,hayes-lane-watch,deputy"),
            "Line 3 already adds this email to this scheme",
        ),
        (
            ("ann@example.org,Ann Abbott,Hayes Lane Watch,main", "ann@example.org,Anne Abbot,chislehurst-common,main"),
            "Line 3 gives this email a different name",
        ),
        (("taken@example.org,Ann Abbott,Hayes Lane Watch,main",), "This email already has an account"),
        (("x" * 250 + "@example.org,Ann Abbott,Hayes Lane Watch,main",), "longer than 254"),
    ],
)
def test_a_bad_row_is_reported_and_nothing_is_imported(schemes, lines, expected):
    make_user(email="Taken@Example.org")
    db.session.commit()
    before = count(User)
    # A good row before the bad ones: it must not go in either.
    report = import_coordinators(csv_bytes("good@example.org,Good Person,Hayes Lane Watch,deputy", *lines), actor=None)
    assert not report.ok
    assert report.rows[0].is_ok
    assert any(expected in problem for row in report.bad_rows for problem in row.problems), report.lines()
    assert any(expected in line for line in report.lines())
    assert report.lines()[-1].startswith("Nothing was imported")
    db.session.commit()
    _nothing_created(before)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"ann@example.org,Ann Abbott,Hayes Lane Watch,main\r\n", "The first line must be the header"),
        (b"email,name,scheme\r\nann@example.org,Ann,Hayes Lane Watch\r\n", "Missing: role"),
        (b"email,name,scheme,role,phone\r\n", "Not recognised: phone"),
        (b"", "The file is empty"),
        (b"email,name,scheme,role\r\n", "no coordinators under it"),
        (
            "email,name,scheme,role\r\nzoe@example.org,Zoë Adeyemi,Hayes Lane Watch,main\r\n".encode("latin-1"),
            "Line 2 is not UTF-8",
        ),
        (b"\x00\x01junk" * 100, "not a CSV text file"),
        (b"email,name,scheme,role\r\n" + b"x" * (10 * 1024 * 1024), "the most this import takes is"),
        (b'email,name,scheme,role\r\n"ann@example.org,Ann\x00', "not a CSV text file"),
        (
            "email,name,scheme,role\r\nann@example.org,Ann \u202eAbbott,Hayes Lane Watch,main\r\n".encode(),
            "hidden control characters that change how text reads (line 2, name: U+202E (right-to-left override))",
        ),
        (
            b'email,name,scheme,role\r\nann@example.org,Ann,Hayes Lane Watch,"main' + b"x" * 200_000 + b'"\r\n',
            "Line 2 cannot be read as CSV: a quotation mark may be missing, or a cell is far too long.",
        ),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_whole(schemes, data, expected):
    before = count(User)
    report = import_coordinators(data, actor=None)
    assert not report.ok
    assert any(expected in problem for problem in report.file_problems), report.file_problems
    assert report.lines()[-1] == "Nothing was imported: the file cannot be read."
    _nothing_created(before)


def test_six_hundred_rows_import_at_once(schemes):
    hayes, chislehurst = schemes
    lines = [
        f"volunteer{i}@example.org,Volunteer {i},"
        f"{hayes.name if i % 2 else chislehurst.slug},{'main' if i % 3 else 'deputy'}"
        for i in range(600)
    ]
    report = import_coordinators(csv_bytes(*lines), actor=None)
    db.session.commit()
    assert report.ok
    assert count(User) == 600 and count(SchemeCoordinator) == 600 and len(queued_mail()) == 600


# --- The page -----------------------------------------------------------------------------------


def test_admin_imports_a_good_file_and_three_invitations_go_out(app, client, schemes):
    admin = make_admin()
    db.session.commit()
    login_as(client, admin)
    response = post_form(
        client,
        "/admin/users/import",
        {"file": upload(csv_bytes(*GOOD_ROWS)), "send_invitations": "y"},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Imported 3 coordinators and 3 scheme places; 3 invitations queued." in page
    assert count(User) == 4 and count(SchemeCoordinator) == 3
    sent = outbox_messages(app)
    assert sorted(m["To"].addresses[0].addr_spec for m in sent) == [
        "ann@example.org",
        "bob@example.org",
        "cai@example.org",
    ]
    assert all("/account/set-password/" in m.get_body(("plain",)).get_content() for m in sent)


def test_page_shows_a_row_by_row_report_and_imports_nothing(app, client, schemes):
    admin = make_admin()
    db.session.commit()
    login_as(client, admin)
    before = count(User)
    data = csv_bytes(
        GOOD_ROWS[0],
        f"bad-email,{HOSTILE[0]},Hayes Lane Watch,main",
        f'cai@example.org,"{HOSTILE[2]}",Hayes Lane Watch,main',
        GOOD_ROWS[0],
    )
    response = post_form(
        client,
        "/admin/users/import",
        {"file": upload(data), "send_invitations": "y"},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert "Nothing was imported: 2 of 4 rows have problems." in page
    assert '<a href="#line-3">Line 3</a>' in page
    assert "Line 2 already adds this email to this scheme" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "<img src=x" not in page
    assert "<caption>Row by row: 4 rows, 2 with problems</caption>" in page
    _nothing_created(before)
    assert outbox_messages(app) == []


@pytest.mark.parametrize(
    ("filename", "data", "expected"),
    [
        ("coordinators.xlsx", b"PK\x03\x04 zip", "The file must be a CSV file (ending .csv or .txt)"),
        ("big.csv", b"email,name,scheme,role\r\n" + b"j" * (10 * 1024 * 1024), "the most this import takes"),
        ("empty.csv", b"", "The file is empty"),
    ],
)
def test_file_input_refuses_other_files_and_big_ones(client, schemes, filename, data, expected):
    admin = make_admin()
    db.session.commit()
    login_as(client, admin)
    before = count(User)
    response = post_form(
        client, "/admin/users/import", {"file": upload(data, filename)}, content_type="multipart/form-data"
    )
    # Werkzeug's test client spools a big body to a temporary file and leaves it open.
    response.request.environ["wsgi.input"].close()
    page = response.get_data(as_text=True)
    assert expected in page
    assert "There is a problem" in page
    _nothing_created(before)


def test_no_file_chosen_says_so(client):
    admin = make_admin()
    db.session.commit()
    login_as(client, admin)
    page = post_form(client, "/admin/users/import", {}, content_type="multipart/form-data").get_data(as_text=True)
    assert "Choose a CSV file to upload" in page


def test_latin1_file_through_the_page_says_how_to_fix_it(client, schemes):
    admin = make_admin()
    db.session.commit()
    login_as(client, admin)
    before = count(User)
    data = "email,name,scheme,role\r\nzoe@example.org,Zoë,Hayes Lane Watch,main\r\n".encode("latin-1")
    page = post_form(
        client, "/admin/users/import", {"file": upload(data)}, content_type="multipart/form-data"
    ).get_data(as_text=True)
    assert "Line 2 is not UTF-8 text" in page and "CSV UTF-8" in page
    _nothing_created(before)


# --- The command line ---------------------------------------------------------------------------


def test_cli_imports_a_good_file(app, runner, schemes, tmp_path):
    path = tmp_path / "coordinators.csv"
    path.write_bytes(csv_bytes(*GOOD_ROWS))
    result = runner.invoke(args=["import-coordinators", str(path)])
    assert result.exit_code == 0, result.output
    assert "Line 3: bob@example.org: OK" in result.output
    assert "Imported 3 coordinators" in result.output
    db.session.expire_all()
    assert count(User) == 3 and count(SchemeCoordinator) == 3
    assert len(outbox_messages(app)) == 3
    link_text = outbox_messages(app)[0].get_body(("plain",)).get_content()
    assert "http://127.0.0.1:5000/account/set-password/" in link_text
    invited = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "users.invited")).all()
    assert len(invited) == 3 and all(e.ip_address == "" for e in invited)


def test_cli_without_invitations(app, runner, schemes, tmp_path):
    path = tmp_path / "coordinators.csv"
    path.write_bytes(csv_bytes(*GOOD_ROWS))
    result = runner.invoke(args=["import-coordinators", "--no-invitations", str(path)])
    assert result.exit_code == 0, result.output
    assert count(User) == 3 and outbox_messages(app) == []


def test_cli_refuses_a_bad_file_and_imports_nothing(app, runner, schemes, tmp_path):
    path = tmp_path / "coordinators.csv"
    path.write_bytes(csv_bytes(GOOD_ROWS[0], "bad,Bob Brown,Hayes Lane Watch,main"))
    result = runner.invoke(args=["import-coordinators", str(path)])
    assert result.exit_code == 1
    assert "Line 3: bad: The email is not valid" in result.output
    assert "Nothing was imported: 1 of 2 rows has problems." in result.output
    db.session.expire_all()
    _nothing_created(0)
    assert outbox_messages(app) == []


def test_an_existing_account_is_found_whatever_the_case_of_accented_letters(schemes):
    make_user(email="ZOË.ADEYEMI@example.org")
    db.session.commit()
    report = import_coordinators(csv_bytes("zoë.adeyemi@EXAMPLE.org,Zoë Adeyemi,Hayes Lane Watch,main"), actor=None)
    assert not report.ok
    assert report.rows[0].problems == ["This email already has an account."]
    assert count(User) == 1
