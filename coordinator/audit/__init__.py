"""The audit log: `audit.record(...)` beside every state change that matters."""

from coordinator.audit.services import record

__all__ = ["record"]
