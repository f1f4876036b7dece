"""Creating, changing and finding org units, always within what the acting user may see."""
from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy import orm

from ..audit.operations import record, snapshot
from ..auth.models import User
from ..auth.permissions import Permission
from ..errors import Conflict, InvalidInput, NotFound, PermissionDenied
from ..extensions import db
from ..i18n import N_
from .models import OrgKind, OrgUnit

UNIT_AUDIT_FIELDS = ("kind", "code", "name", "parent_id", "area_type", "address", "latitude",
                     "longitude", "is_benchmark", "is_active")


def _check_manage(by: User | None, unit: OrgUnit | None) -> None:
    if by is None:
        return
    if unit is None:
        # A new branch: only an administrator scoped at a root-level unit could, i.e. nobody
        # through the API unless they already manage something; keep branches to the CLI.
        raise PermissionDenied(N_("只能通过命令行创建分行"))
    if not by.can(Permission.org_manage, unit):
        raise PermissionDenied(N_("您无权维护该机构"))


def create_unit(*, kind: OrgKind, code: str, name: str, parent: OrgUnit | None = None,
                by: User | None = None, **fields) -> OrgUnit:
    """Create a branch, sub-branch or outlet under ``parent``."""
    _check_manage(by, parent)
    code = code.strip().upper()
    if db.session.scalar(sa.select(OrgUnit.id).where(OrgUnit.code == code)):
        raise Conflict(N_("机构编码 %(unit_code)s 已存在"), unit_code=code, code="code_taken")
    unit = OrgUnit(kind=kind, code=code, name=name.strip(), **fields)
    unit.attach_to(parent)
    db.session.add(unit)
    db.session.flush()
    unit.refresh_path()
    db.session.flush()
    record("org_unit.create", unit, actor=by, after=snapshot(unit, UNIT_AUDIT_FIELDS))
    return unit


def update_unit(unit: OrgUnit, changes: dict, *, by: User | None = None) -> OrgUnit:
    """Change an org unit; moving it under another parent also moves its subtree.

    Closing it (``is_active`` false) closes that unit alone — not the outlets of a
    sub-branch — cancels its open tasks (机构已停用, each audited), closes its unfinished
    rectification items (网点已停用, each audited), stands a sub-branch's peer-check teams
    down and takes it off the watch-list."""
    _check_manage(by, unit)
    before = snapshot(unit, UNIT_AUDIT_FIELDS)
    if "parent" in changes and changes["parent"] is not unit.parent:
        new_parent = changes.pop("parent")
        _check_manage(by, new_parent)
        if new_parent is not None and new_parent.is_within(unit):
            raise InvalidInput(N_("不能把机构移动到它自己的下级"), code="invalid_parent")
        unit.attach_to(new_parent)
        unit.refresh_path()
    changes.pop("parent", None)
    if "code" in changes:
        code = changes.pop("code").strip().upper()
        taken = db.session.scalar(sa.select(OrgUnit.id).where(OrgUnit.code == code,
                                                              OrgUnit.id != unit.id))
        if taken:
            raise Conflict(N_("机构编码 %(unit_code)s 已存在"), unit_code=code, code="code_taken")
        unit.code = code
    for field, value in changes.items():
        setattr(unit, field, value)
    db.session.flush()
    after = snapshot(unit, UNIT_AUDIT_FIELDS)
    if before != after:
        record("org_unit.update", unit, actor=by, before=before, after=after)
    if before["is_active"] and not unit.is_active:
        from ..inspections.operations import cancel_for_closed_unit
        from ..rectification.operations import close_for_closed_unit
        from ..watchlist.operations import exit_closed_unit

        cancel_for_closed_unit(unit, by=by)
        close_for_closed_unit(unit, by=by)
        exit_closed_unit(unit, by=by)
        if unit.kind is OrgKind.subbranch:
            from ..inspections.campaigns import stand_down_teams_of

            stand_down_teams_of(unit, by=by)
    return unit


def visible_units(by: User, permission: Permission = Permission.org_read) -> sa.Select:
    """Org units inside the user's scopes for ``permission``."""
    paths = by.scope_paths(permission)
    query = sa.select(OrgUnit).order_by(OrgUnit.path)
    if not paths:
        return query.where(sa.false())
    return query.where(sa.or_(*[OrgUnit.path.startswith(p) for p in paths]))


def in_tree_order(units: Iterable[OrgUnit]) -> list[OrgUnit]:
    """``units`` as the tree reads: each after its parent, siblings by code (TS-LB before
    TS-LN, TS-LB-01 before TS-LB-08). Ordering by ``path`` would follow the database ids, which
    say only in which order units were created (``/1/2/10/`` before ``/1/2/3/``)."""
    units = list(units)
    codes = {unit.id: unit.code for unit in units}
    missing = {i for unit in units for i in unit.ancestor_ids} - codes.keys()
    if missing:  # ancestors outside the list still place their descendants
        codes.update(db.session.execute(
            sa.select(OrgUnit.id, OrgUnit.code).where(OrgUnit.id.in_(missing))).tuples())
    return sorted(units, key=lambda unit: [codes[i] for i in unit.ancestor_ids])


def tree_ordered(query: sa.Select) -> sa.Select:
    """``query`` over org units, ordered in SQL as :func:`in_tree_order` sorts a list: each
    unit after its parent, siblings by code — so that a page of a long list (the API's) is a
    page of the tree. The tree has three levels at most (分行 → 支行 → 网点, which
    :meth:`OrgUnit.attach_to` enforces), so a unit's sort key is the codes of its grandparent,
    parent and itself, read with two joins; ids break no tie (codes are unique)."""
    parent, grandparent = orm.aliased(OrgUnit), orm.aliased(OrgUnit)
    has_parent, has_grandparent = parent.id.is_not(None), grandparent.id.is_not(None)
    return (query.outerjoin(parent, OrgUnit.parent_id == parent.id)
            .outerjoin(grandparent, parent.parent_id == grandparent.id)
            .order_by(None)
            .order_by(sa.func.coalesce(grandparent.code, parent.code, OrgUnit.code),
                      sa.case((has_grandparent, parent.code), (has_parent, OrgUnit.code),
                              else_=""),
                      sa.case((has_grandparent, OrgUnit.code), else_="")))


def get_unit(unit_id: int, by: User, permission: Permission = Permission.org_read) -> OrgUnit:
    """Load one unit the user may see; an invisible unit is "not found", not "forbidden"."""
    unit = db.session.get(OrgUnit, unit_id)
    if unit is None or not by.can(permission, unit):
        raise NotFound(N_("未找到该机构"), code="org_unit_not_found")
    return unit


def unit_by_code(code: str) -> OrgUnit:
    """Find a unit by its business code (command line and imports)."""
    unit = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == code.strip().upper()))
    if unit is None:
        raise NotFound(N_("机构编码 %(unit_code)s 不存在"), unit_code=code,
                       code="org_unit_not_found")
    return unit
