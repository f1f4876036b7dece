"""Writing to the audit log. Every operation that changes state calls :func:`record`."""
from __future__ import annotations

import enum
import getpass
import re
import warnings
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import g, has_request_context, request

from ..extensions import db
from .actions import ACTIONS
from .models import SEVERAL, AuditEntry, AuditEntryUnit


def _plain(value: Any) -> Any:
    """Make a value JSON-safe for the before/after snapshots."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    return value


def snapshot(obj: Any, fields: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """The named attributes of ``obj`` as a JSON-safe dict, for ``before``/``after``."""
    return {name: _plain(getattr(obj, name)) for name in fields}


#: Attributes naming the org unit an object is about, and those leading to another object
#: that is about one (tried in this order).
_UNIT_ATTRIBUTES = ("outlet", "unit", "scope_unit", "subbranch", "branch")
_OWNER_ATTRIBUTES = ("inspection", "finding", "entry", "rectification_item")


def audit_paths(obj: Any) -> list[str]:
    """The org-unit paths an entry is about, so each reader of the log sees the entries of
    their own units only (:func:`inspect_app.audit.api.readable`).

    The unit itself; the outlet of an inspection, photo, fix or appeal; the unit of a
    watch-list entry or of its follow-up; a campaign's scope; a team's sub-branch; the branch of
    watch-list rules. For a person (their account, sign-ins, tokens, report jobs) the narrowest
    unit holding all their roles — in each branch they have roles in: one path per branch.
    Empty means the whole bank: checklists, unknown names at sign-in, the command line, a
    person without roles.
    """
    if obj is None:
        return []
    if isinstance(getattr(obj, "path", None), str) and hasattr(obj, "kind"):
        return [obj.path]  # an org unit
    for name in _UNIT_ATTRIBUTES:
        unit = getattr(obj, name, None)
        if isinstance(getattr(unit, "path", None), str):
            return [unit.path]
    for name in _OWNER_ATTRIBUTES:
        owner = getattr(obj, name, None)
        if owner is not None:
            return audit_paths(owner)
    grants = getattr(obj, "grants", None)
    if grants is not None:  # a person
        return paths_of_person([grant.org_unit.path for grant in grants])
    person = getattr(obj, "user", None) or getattr(obj, "created_by", None)
    return audit_paths(person) if person is not None else []


def paths_of_person(paths: list[str]) -> list[str]:
    """The deepest unit path above (or equal to) every one of ``paths`` in each branch, sorted:
    ``["/1/4/", "/1/5/12/"]`` is one branch, ``["/1/", "/2/7/"]`` two."""
    by_branch: dict[str, list[str]] = {}
    for path in paths:
        by_branch.setdefault(path.strip("/").split("/")[0], []).append(path)
    return sorted(common_path(own) for own in by_branch.values())


def common_path(paths: list[str]) -> str:
    """The deepest unit path above (or equal to) every one of ``paths``, all in one branch."""
    parts = [path.strip("/").split("/") for path in paths]
    shared = []
    for level in zip(*parts):
        if len(set(level)) > 1:
            break
        shared.append(level[0])
    return f"/{'/'.join(shared)}/"


def _actor(actor) -> tuple[int | None, str]:
    if actor is not None:
        return actor.id, actor.username
    user = g.get("user") if has_request_context() else None
    if user is not None:
        return user.id, user.username
    if has_request_context():
        return None, "anonymous"
    try:
        return None, f"cli:{getpass.getuser()}"
    except Exception:  # no login name in some containers
        return None, "cli"


def object_type_of(model: type) -> str:
    """The ``object_type`` an entry about an object of ``model`` is written with
    (``WatchlistRuleSet`` → ``watchlist_rule_set``)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", model.__name__).lower()


def record(action: str, obj: Any = None, *, object_type: str | None = None,
           object_id: Any = None, before: dict | None = None, after: dict | None = None,
           reason: str | None = None, actor=None, session=None) -> AuditEntry:
    """Add an audit entry to the session (the caller's commit makes it durable with the change).

    ``obj`` names the object; ``object_type``/``object_id`` override it (e.g. for failed
    sign-ins of unknown usernames). The actor defaults to the signed-in user, then the CLI user.
    ``session`` is for work done outside ``db.session`` on a connection of its own (a restore):
    a session bound to that connection keeps the entry in the same transaction as the change.
    ``action`` is one of :data:`~inspect_app.audit.actions.ACTIONS`: 操作审计 shows another
    as its bare code, so it is written all the same, with a warning (an error in the tests).
    """
    if action not in ACTIONS:
        warnings.warn(f"audit action {action!r} has no label in inspect_app.audit.actions",
                      stacklevel=2)
    if obj is not None:
        object_type = object_type or object_type_of(type(obj))
        object_id = object_id if object_id is not None else obj.id
    actor_id, actor_name = _actor(actor)
    paths = audit_paths(obj)
    entry = AuditEntry(
        action=action, object_type=object_type or "unknown", object_id=str(object_id),
        before=_plain(before), after=_plain(after), reason=reason,
        actor_id=actor_id, actor_name=actor_name,
        org_path=(paths[0] if len(paths) == 1 else SEVERAL) if paths else None,
        units=[AuditEntryUnit(org_path=path) for path in paths] if len(paths) > 1 else [],
        ip=request.remote_addr if has_request_context() else None,
        request_id=g.get("request_id") if has_request_context() else None,
    )
    (session or db.session).add(entry)
    return entry
