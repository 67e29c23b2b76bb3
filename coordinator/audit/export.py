"""The audit log as a CSV file, as an admin filtered it: spreadsheet formulas neutralised, the export itself audited."""

from __future__ import annotations

import json

from coordinator.audit.services import AuditFilter, audit_query, record
from coordinator.csvfiles import write_csv
from coordinator.extensions import db

AUDIT_CSV_HEADER = ("when (UTC)", "who", "action", "object type", "object id", "summary", "details", "address")


def export_audit_csv(f: AuditFilter) -> tuple[str, int]:
    """The filtered log as a CSV (formula cells neutralised) and its row count; the export is itself audited."""
    entries = list(db.session.scalars(audit_query(f)))
    rows = (
        (
            entry.at.strftime("%Y-%m-%d %H:%M:%S"),
            entry.actor_label,
            entry.action,
            entry.object_type,
            entry.object_id,
            entry.summary,
            json.dumps(entry.details, sort_keys=True, ensure_ascii=False) if entry.details else "",
            entry.ip_address,
        )
        for entry in entries
    )
    document = write_csv(AUDIT_CSV_HEADER, rows)
    record(
        "audit.exported",
        None,
        f"audit log exported ({len(entries)} entries)",
        rows=len(entries),
        filters={k: str(v) for k, v in vars(f).items() if v},
    )
    db.session.flush()
    return document, len(entries)
