"""`flask leaflet render` and `flask print-order`: leaflets and central print orders from the command line.

Slugs and names are turned into a choice, which the services check like any choice made on a page. The layouts
and print modes offered are the layouts registry's.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext

from coordinator import jobs
from coordinator.content import services as content
from coordinator.content.models import ContentKind
from coordinator.extensions import db
from coordinator.leaflets.builder import generate_leaflet, record_quantities
from coordinator.leaflets.languages import with_language_hints
from coordinator.leaflets.layouts import HOME, LAYOUTS, PRINT_MODES, SHOP
from coordinator.leaflets.models import PrintOrderState
from coordinator.leaflets.offers import LeafletChoice, LeafletChoiceError
from coordinator.leaflets.pdfs import leaflet_pdf
from coordinator.leaflets.print_order_job import build_print_order
from coordinator.leaflets.print_orders import copy_print_order_files, create_print_order
from coordinator.schemes.lookup import find_scheme_by_name
from coordinator.schemes.models import Scheme


def _current_version_id(kind: ContentKind, slug: str, field: str, label: str) -> int:
    item = content.find_item(kind, slug)
    version = item.current_version if item is not None else None
    if version is None:
        raise LeafletChoiceError({field: f"No approved {label} has the slug {slug!r}."})
    if kind == ContentKind.CAMPAIGN and content.campaign_status(version) != content.CampaignStatus.CURRENT:
        raise LeafletChoiceError({field: f"The campaign {slug!r} is not running today: its window is "
                                         f"{version.first_day or 'open'} to {version.last_day or 'open'}."})
    return version.id


def choice_from_slugs(
    campaign_slug: str, helplines_slug: str, layout: str, mode: str, is_large_print: bool, scheme_name: str | None,
    has_signup_panel: bool = False,
) -> tuple[Scheme | None, LeafletChoice]:
    """The scheme (if named) and the choice of the approved versions now behind these slugs.

    Whether the campaign is running now, and the rest, is checked by the services like any other choice.
    """
    scheme = None
    if scheme_name:
        scheme = find_scheme_by_name(scheme_name)
        if scheme is None:
            raise LeafletChoiceError({"scheme": f"No scheme is called {scheme_name!r}."})
    choice = LeafletChoice(
        campaign_version_id=_current_version_id(ContentKind.CAMPAIGN, campaign_slug, "campaign", "campaign"),
        helpline_set_version_id=_current_version_id(ContentKind.HELPLINE_SET, helplines_slug, "helplines",
                                                    "helpline set"),
        layout=layout,
        print_mode=mode,
        is_large_print=is_large_print,
        has_signup_panel=has_signup_panel,
    )
    return scheme, choice


def scheme_ids_from_names(names: tuple[str, ...]) -> list[int]:
    """The ids of the schemes named (name or slug); LeafletChoiceError naming any that does not exist."""
    ids = []
    for name in names:
        scheme = find_scheme_by_name(name)
        if scheme is None:
            raise LeafletChoiceError({"schemes": f"No scheme is called {name!r}."})
        ids.append(scheme.id)
    return ids


def _choice_refused(exc: LeafletChoiceError) -> click.ClickException:
    db.session.rollback()
    return click.ClickException(" ".join(exc.errors.values()))


@click.group("leaflet", cls=AppGroup)
def leaflet_group() -> None:
    """Leaflets: print-ready PDFs of approved campaigns and helpline sets."""


@leaflet_group.command("render")
@click.option("--campaign", "campaign_slug", required=True, help="The campaign's slug, e.g. its-not-ok.")
@click.option("--helplines", "helplines_slug", required=True, help="The helpline set's slug, e.g. sexual-violence.")
@click.option("--layout", type=click.Choice(list(LAYOUTS)), required=True)
@click.option("--mode", type=click.Choice(PRINT_MODES), default=HOME, show_default=True,
              help="home: A4 sheets with cut marks; shop: trim size with bleed and crop marks.")
@click.option("--large-print", is_flag=True, help="Large print (A5, A4 and DL only).")
@click.option("--scheme", "scheme_name", default=None, help="Print this scheme's contact line (name or slug).")
@click.option("--copies", type=click.IntRange(1, 100_000), default=1, show_default=True,
              help="For a print shop, the quantity to order: the PDF is one artwork and FILE-quantities.csv says how "
              "many.")
@click.option("--signup", "has_signup_panel", is_flag=True,
              help="Add the scheme's bulletin sign-up panel (its /join address and a QR code; needs --scheme; not on "
              "the wallet card).")
@click.option("--language", default="", metavar="TAG",
              help="Print in this language (a tag such as pl or ur): the campaign's and helplines' approved "
              "translations, with the leaflet's headings in it too. Default: as the campaign is written.")
@click.option("--second-language", default="", metavar="TAG",
              help="English with this language too: side by side on a4, English front and this back on a5 and dl.")
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path))
def leaflet_render_command(campaign_slug: str, helplines_slug: str, layout: str, mode: str, large_print: bool,
                           scheme_name: str | None, copies: int, has_signup_panel: bool, out_file: Path,
                           language: str, second_language: str) -> None:
    """Write one leaflet's PDF to FILE.pdf, from the campaign and helpline set approved now (recorded and audited).

    For a print shop (--mode shop) the PDF is the artwork once and the quantities sheet is written beside it.
    """
    try:
        scheme, choice = choice_from_slugs(campaign_slug, helplines_slug, layout, mode, large_print, scheme_name,
                                           has_signup_panel)
        choice = replace(choice, language=language, second_language=second_language)
        record, prepared = generate_leaflet(scheme, choice, None, copies=copies)
        pdf = leaflet_pdf(prepared.recipe)
    except LeafletChoiceError as exc:
        hinted = LeafletChoiceError(with_language_hints(exc.errors, layout, second_language))
        raise _choice_refused(hinted) from exc
    out_file.write_bytes(pdf)
    quantities_file = None
    if mode == SHOP:
        quantities_file = out_file.with_name(f"{out_file.stem}-quantities.csv")
        quantities_file.write_text(record_quantities(record, out_file.name), encoding="utf-8")
    db.session.commit()
    for note in prepared.notes:
        click.echo(("Left out: " if note.is_left_out else "Note: ") + note.message, err=True)
    click.echo(f"Wrote {out_file}: {prepared.layout.label}, {prepared.recipe.pages_in_file} page(s), "
               f"ref {record.reference}.")
    if quantities_file is not None:
        click.echo(f"Wrote {quantities_file}: order {copies:,} {'copy' if copies == 1 else 'copies'}.")
    for note in prepared.printing_notes:
        click.echo(f"  {note}")


@click.command("print-order")
@click.option("--campaign", "campaign_slug", required=True, help="The campaign's slug.")
@click.option("--helplines", "helplines_slug", required=True, help="The helpline set's slug.")
@click.option("--layout", type=click.Choice(list(LAYOUTS)), required=True)
@click.option("--large-print", is_flag=True, help="Large print (A5, A4 and DL only).")
@click.option("--scheme", "scheme_names", multiple=True,
              help="Only this scheme (name or slug); repeat for several. Default: every scheme.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def print_order_command(campaign_slug: str, helplines_slug: str, layout: str, large_print: bool,
                        scheme_names: tuple[str, ...], out_dir: Path) -> None:
    """Build a central print order now: a zip of one print-shop PDF per scheme, and the quantities CSV, in DIR."""
    # Held: this command builds the order itself, now, so no worker must start on it as well.
    with jobs.held():
        try:
            _, choice = choice_from_slugs(campaign_slug, helplines_slug, layout, SHOP, large_print, None)
            scheme_ids = scheme_ids_from_names(scheme_names) if scheme_names else None
            order = create_print_order(choice, scheme_ids, None)
        except LeafletChoiceError as exc:
            raise _choice_refused(exc) from exc
        db.session.commit()
    build_print_order(order.id)
    db.session.refresh(order)
    if order.state != PrintOrderState.DONE:
        raise click.ClickException(f"Print order {order.id} failed: {order.error}")
    zip_path, csv_path = copy_print_order_files(order, out_dir)
    for row in order.results:
        if row["problem"]:
            click.echo(f"Left out {row['scheme']}: {row['problem']}", err=True)
    click.echo(f"Print order {order.id}: {order.copies_total:,} copies for "
               f"{sum(1 for row in order.results if row['file'])} scheme(s).")
    click.echo(f"Wrote {zip_path} and {csv_path}.")


COMMANDS = (leaflet_group, print_order_command)
