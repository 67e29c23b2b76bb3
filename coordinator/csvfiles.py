"""Reading uploaded CSV files and writing safe ones.

Uploaded files are read strictly: UTF-8 (a byte-order mark is fine), a header row naming the
expected columns, at most `CSV_MAX_BYTES`. Every problem is reported with its line number, so an
import can show a row-by-row report and refuse the whole file.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from coordinator.plain_text import describe, hidden_character

log = logging.getLogger(__name__)

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# A signed number is data to a spreadsheet ("-5", "+3.5"); a sign followed by anything else is a formula to it
# ("-1+cmd|' /C calc'!A0", "+44 20 7946 0000", "- see notes").
_SIGNED_NUMBER = re.compile(r"[+-][0-9]+(?:[.,][0-9]+)?")
# How many cells with hidden characters one refusal names; the rest are the same mistake.
_HIDDEN_CELLS_NAMED = 5


class CSVFileError(Exception):
    """The file as a whole cannot be read (wrong encoding, no header, too large)."""


@dataclass
class CSVRow:
    """One data row, with the line number a spreadsheet user would see."""

    line: int
    values: dict[str, str]
    has_extra_cells: bool = False


@dataclass
class ImportLine(ABC):
    """One row of an uploaded file and what is wrong with it (nothing, when it is fine)."""

    line: int
    problems: list[str] = field(default_factory=list, kw_only=True)

    @property
    def is_ok(self) -> bool:
        return not self.problems

    @property
    @abstractmethod
    def label(self) -> str:
        """What the printed report calls the row, after its line number."""


LineT = TypeVar("LineT", bound=ImportLine)


@dataclass
class ImportReport(ABC, Generic[LineT]):
    """The row-by-row answer to an upload: every row goes in, or none does (imports are all or nothing)."""

    rows: list[LineT] = field(default_factory=list)
    file_problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the file was read and every row is good (so, once the caller commits, imported)."""
        return not self.file_problems and bool(self.rows) and all(row.is_ok for row in self.rows)

    @property
    def bad_rows(self) -> list[LineT]:
        """The rows with problems, in file order."""
        return [row for row in self.rows if not row.is_ok]

    @abstractmethod
    def imported_summary(self) -> str:
        """One sentence saying what a good file added."""

    def summary(self) -> str:
        """One sentence saying what happened."""
        if self.ok:
            return self.imported_summary()
        if self.file_problems:
            return "Nothing was imported: the file cannot be read."
        bad, rows = len(self.bad_rows), len(self.rows)
        return (
            f"Nothing was imported: {bad} of {rows} row{'s' if rows != 1 else ''} "
            f"{'has' if bad == 1 else 'have'} problems. Correct the file and upload all of it again."
        )

    def outcome(self, row: LineT) -> str:
        """What the printed report says of a row: its problems, or OK."""
        return "; ".join(row.problems) if row.problems else "OK"

    def lines(self) -> list[str]:
        """The report as printable lines: file problems, one line per row, then the summary."""
        out = list(self.file_problems)
        out.extend(f"Line {row.line}: {row.label}: {self.outcome(row)}" for row in self.rows)
        out.append(self.summary())
        return out


def read_csv(data: bytes, columns: Sequence[str], max_bytes: int, required: Sequence[str] = ()) -> list[CSVRow]:
    """Rows of a CSV upload whose header holds `columns` (extra columns are an error). Blank lines are skipped."""
    if len(data) > max_bytes:
        raise CSVFileError(f"The file is {len(data) // 1024:,} KB; the most this import takes is {max_bytes // 1024:,} KB.")
    if b"\x00" in data:
        raise CSVFileError("This is not a CSV text file (it contains binary data). Save it from your spreadsheet as CSV.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CSVFileError(
            f"Line {line} is not UTF-8 text. In your spreadsheet choose Save As, then 'CSV UTF-8', and try again."
        ) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration as exc:
        raise CSVFileError("The file is empty.") from exc
    except csv.Error as exc:
        raise _unreadable(1, exc) from exc
    names = [h.strip().lower() for h in header]
    expected = ", ".join(columns)
    missing = [c for c in (required or columns) if c not in names]
    unknown = [h for h in names if h and h not in columns]
    if missing or unknown or len(set(names)) != len(names):
        raise CSVFileError(
            f"The first line must be the header: {expected}. "
            + (f"Missing: {', '.join(missing)}. " if missing else "")
            + (f"Not recognised: {', '.join(_shorten(u) for u in unknown[:5])}." if unknown else "")
        )
    rows: list[CSVRow] = []
    try:
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            extra = any(v.strip() for v in values[len(names):])
            padded = values[: len(names)] + [""] * (len(names) - len(values))
            row = {name: padded[i].strip() for i, name in enumerate(names) if name}
            rows.append(CSVRow(line=reader.line_num, values=row, has_extra_cells=extra))
    except csv.Error as exc:
        raise _unreadable(reader.line_num, exc) from exc
    _refuse_hidden_characters(rows)
    return rows


def _unreadable(line: int, error: csv.Error) -> CSVFileError:
    # The csv module's own words ("field larger than field limit (131072)") mean nothing to a coordinator.
    log.info("CSV upload unreadable at line %s: %s", line, error)
    return CSVFileError(
        f"Line {line} cannot be read as CSV: a quotation mark may be missing, or a cell is far too long. "
        "Open the file in your spreadsheet, check that line, and save it again as 'CSV UTF-8'."
    )


def _refuse_hidden_characters(rows: list[CSVRow]) -> None:
    # Every import shares this check, as every form does (coordinator.plain_text): a cell never needs one.
    found = [
        (row.line, column, character)
        for row in rows
        for column, value in row.values.items()
        if (character := hidden_character(value)) is not None
    ]
    if not found:
        return
    cells = "; ".join(f"line {line}, {column}: {describe(char)}" for line, column, char in found[:_HIDDEN_CELLS_NAMED])
    more = f" and {len(found) - _HIDDEN_CELLS_NAMED} more" if len(found) > _HIDDEN_CELLS_NAMED else ""
    raise CSVFileError(
        "Some cells hold hidden control characters that change how text reads "
        f"({cells}{more}). Type those cells again in your spreadsheet rather than pasting them, then save the file."
    )


def looks_like_formula(value: str) -> bool:
    """Spreadsheet formulas (=HYPERLINK(...), @SUM, +cmd, -1+cmd) are refused in typed and imported text."""
    value = value.lstrip()
    if value.startswith(("=", "@")):
        return True
    if value.startswith(("+", "-")):
        return value != "-" and not _SIGNED_NUMBER.fullmatch(value)
    return False


def neutralise_cell(value: object) -> str:
    """A cell for a CSV export that a spreadsheet will show as text, never run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def write_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A CSV document with every cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise_cell(h) for h in header])
    for row in rows:
        writer.writerow([neutralise_cell(v) for v in row])
    return out.getvalue()


def _shorten(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
