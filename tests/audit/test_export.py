"""The audit log as a CSV file, without HTTP."""

from __future__ import annotations

from coordinator import audit
from coordinator.audit.export import export_audit_csv
from coordinator.audit.services import AuditFilter
from tests.admin.helpers import actions


def test_export_service_without_http(app):
    audit.record("users.invited", None, "@SUM(A1)", actor_label="-2+3")
    document, count = export_audit_csv(AuditFilter())
    assert count == 1
    assert "'@SUM(A1)" in document and "'-2+3" in document
    assert actions("audit.exported")[0].actor_label == "system"
