"""Content factories: items made through the real services, in the state a test needs."""

from __future__ import annotations

import itertools

from coordinator.content import approval, drafting
from coordinator.content.models import ContentKind, VersionState
from tests.factories.people import make_admin

_seq = itertools.count(1)


def campaign_fields(**overrides) -> dict:
    """A new campaign's fields, each title new, with `overrides` on top."""
    n = next(_seq)
    fields = {
        "title": f"Campaign {n}",
        "summary": "A short summary for residents.",
        "body": "Look out for your neighbours.\n\n- Lock doors\n- Report concerns on **101**",
        "key_messages": ["Lock your doors", "Report anything suspicious"],
        "call_to_action": "Call 101 to report.",
        "hashtag": "#StaySafe",
        "web_address": "www.met.police.uk",
    }
    fields.update(overrides)
    return fields


def helpline_fields(**overrides) -> dict:
    """A new helpline's fields, each title new, with `overrides` on top."""
    n = next(_seq)
    fields = {"title": f"Helpline {n}", "number": "0808 802 4040", "who_for": "anyone who needs it"}
    fields.update(overrides)
    return fields


def settle(version, state: VersionState, submitter=None, approver=None, reason: str = "Please fix"):
    """Take a draft to `state` through the real transitions."""
    if state == VersionState.DRAFT:
        return version
    submitter = submitter or version.created_by
    approval.submit_version(version, submitter)
    if state == VersionState.SUBMITTED:
        return version
    approver = approver or make_admin()
    if state == VersionState.CHANGES_REQUESTED:
        return approval.request_changes(version, approver, reason)
    approval.approve_version(version, approver)
    if state == VersionState.RETIRED:
        approval.retire_item(version.item, approver)
    return version


def make_content(kind: ContentKind, fields: dict, author=None, state: VersionState = VersionState.APPROVED,
                 scheme=None, approver=None):
    """An item of `kind` drafted by `author` (a new admin if none) and taken to `state`."""
    author = author or make_admin()
    version = drafting.create_item(kind, fields, author, scheme=scheme)
    return settle(version, state, author, approver)


def make_campaign(author=None, state: VersionState = VersionState.APPROVED, approver=None, **fields):
    """A campaign, approved unless told otherwise."""
    return make_content(ContentKind.CAMPAIGN, campaign_fields(**fields), author, state, approver=approver)


def make_helpline(author=None, state: VersionState = VersionState.APPROVED, approver=None, **fields):
    """A helpline, approved unless told otherwise."""
    return make_content(ContentKind.HELPLINE, helpline_fields(**fields), author, state, approver=approver)


def make_helpline_set(helplines, author=None, state: VersionState = VersionState.APPROVED, title=None):
    """A helpline set of these helplines' items, approved unless told otherwise."""
    fields = {"title": title or f"Set {next(_seq)}", "helplines": [h.item for h in helplines]}
    return make_content(ContentKind.HELPLINE_SET, fields, author, state)


def make_notice(scheme, author, state: VersionState = VersionState.APPROVED, approver=None, **fields):
    """A local notice of a scheme, written by one of its coordinators, approved unless told otherwise."""
    data = {"title": f"Meeting {next(_seq)}", "body": "Residents' meeting at the church hall, Tuesday 7pm."}
    data.update(fields)
    return make_content(ContentKind.LOCAL_NOTICE, data, author, state, scheme=scheme, approver=approver)
