"""The commands: `flask leaflet render` and `flask print-order`, through the CLI runner."""

from __future__ import annotations

import csv
import io
import zipfile

from sqlalchemy import select

from coordinator.audit.models import AuditEntry
from coordinator.content import approval
from coordinator.content import services as content
from coordinator.content.models import ContentKind
from coordinator.extensions import db
from coordinator.leaflets.models import LeafletRecord, PrintOrder
from tests.factories import load_starter, make_coordinated_scheme
from tests.helpers.pdf import reader, squeeze


def test_leaflet_render_writes_the_pdf_and_records_it(runner, tmp_path):
    load_starter()
    scheme, _ = make_coordinated_scheme("Bickley Park")
    db.session.commit()
    out = tmp_path / "leaflet.pdf"
    result = runner.invoke(args=["leaflet", "render", "--campaign", "its-not-ok", "--helplines", "sexual-violence",
                                 "--layout", "a5", "--scheme", "bickley park", "--copies", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    pages = reader(out.read_bytes()).pages
    assert len(pages) == 4  # 3 copies fill 2 A4 sheets, front and back
    # Marked sensitive: the neutral outside carries the police and the scheme's contact line, the inside the rest.
    assert "Contact your local scheme, Bickley Park" in pages[0].extract_text()
    assert "Supportforyouandyourneighbours" in squeeze(pages[0].extract_text())
    assert "ITSNOTOK" in pages[1].extract_text()
    record = db.session.scalar(select(LeafletRecord))
    assert (record.scheme_id, record.copies, record.created_by_label, record.layout) == (scheme.id, 3, "cli", "a5")
    assert f"ref {record.reference}" in result.output and "Print double-sided, flip on long edge" in result.output
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "leaflets.generated"))
    assert entry.actor_label == "cli" and entry.object_id == str(record.id)


def test_leaflet_render_for_the_shop_in_large_print_without_a_scheme(runner, tmp_path):
    load_starter()
    db.session.commit()
    out = tmp_path / "poster.pdf"
    result = runner.invoke(args=["leaflet", "render", "--campaign", "metoo-bystanders", "--helplines",
                                 "sexual-violence", "--layout", "a4", "--mode", "shop", "--large-print",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = reader(out.read_bytes()).pages[0]
    assert abs(float(page.trimbox.width) - 595.28) < 0.01 and abs(float(page.trimbox.height) - 841.89) < 0.01
    record = db.session.scalar(select(LeafletRecord))
    assert record.scheme_id is None and record.is_large_print and record.contact_line == ""


def test_leaflet_render_refuses_with_a_message(runner, tmp_path):
    admin = load_starter()
    approval.retire_item(content.find_item(ContentKind.CAMPAIGN, "metoo-bystanders"), admin)
    db.session.commit()
    out = tmp_path / "x.pdf"
    base = ["leaflet", "render", "--out", str(out)]
    sexual_violence = ["--helplines", "sexual-violence"]
    for extra, message in [
        (["--campaign", "nope", "--layout", "a5", *sexual_violence], "No approved campaign has the slug 'nope'."),
        (["--campaign", "its-not-ok", "--layout", "a5", "--helplines", "nope"], "No approved helpline set has"),
        (["--campaign", "metoo-bystanders", "--layout", "a5", *sexual_violence], "No approved campaign has the slug"),
        (["--campaign", "its-not-ok", "--layout", "a6", "--large-print", *sexual_violence], "Large print is for"),
        (["--campaign", "its-not-ok", "--layout", "a5", "--scheme", "Nowhere", *sexual_violence],
         "No scheme is called 'Nowhere'."),
    ]:
        result = runner.invoke(args=[*base, *extra])
        assert result.exit_code != 0 and message in result.output, (extra, result.output)
    result = runner.invoke(args=[*base, "--campaign", "its-not-ok", "--layout", "a3", *sexual_violence])
    assert result.exit_code == 2 and "'a3' is not one of" in result.output
    assert not out.exists() and db.session.scalar(select(LeafletRecord.id)) is None
    # Text too long for its layout is refused the same way (tests/pdf/test_leaflets.py, tests/leaflets/test_views.py);
    # the folded wallet card now holds the seven-number domestic abuse set.
    result = runner.invoke(args=[*base, "--campaign", "vawg-prevention", "--layout", "wallet", "--helplines",
                                 "domestic-abuse"])
    assert result.exit_code == 0 and out.exists(), result.output


def test_print_order_writes_the_zip_and_the_csv(runner, tmp_path):
    load_starter()
    first, _ = make_coordinated_scheme("Bickley Park", streets=((20, 0),))
    make_coordinated_scheme("Chelsfield", streets=((9, 1),))
    db.session.commit()
    out = tmp_path / "order"
    result = runner.invoke(args=["print-order", "--campaign", "vawg-prevention", "--helplines", "domestic-abuse",
                                 "--layout", "a5", "--out", str(out)])
    assert result.exit_code == 0, result.output
    order = db.session.scalar(select(PrintOrder))
    zip_path = out / f"print-order-{order.id}-vawg-prevention-a5.zip"
    csv_path = out / f"print-order-{order.id}-vawg-prevention-a5-quantities.csv"
    assert zip_path.is_file() and csv_path.is_file()
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text())))
    assert [(r["scheme"], r["copies"]) for r in rows] == [("Bickley Park", "21"), ("Chelsfield", "9")]
    with zipfile.ZipFile(zip_path) as archive:
        pdf = archive.read(f"{first.slug}-a5.pdf")
        assert archive.read("quantities.csv") == csv_path.read_bytes()
    assert len(reader(pdf).pages) == 2
    assert "30 copies for 2 scheme(s)" in result.output and order.created_by_label == "cli"

    only = runner.invoke(args=["print-order", "--campaign", "vawg-prevention", "--helplines", "domestic-abuse",
                               "--layout", "a5", "--scheme", "Chelsfield", "--out", str(tmp_path / "one")])
    assert only.exit_code == 0 and "9 copies for 1 scheme(s)" in only.output
    missing = runner.invoke(args=["print-order", "--campaign", "vawg-prevention", "--helplines", "domestic-abuse",
                                  "--layout", "a5", "--scheme", "Nowhere", "--out", str(tmp_path / "none")])
    assert missing.exit_code != 0 and "No scheme is called 'Nowhere'." in missing.output
