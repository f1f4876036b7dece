"""Who may see and move which rectification item. Object-level rules live here only.

- the outlet (``rectification.submit`` at the outlet) sees its items and submits fixes;
- sub-branch and service managers (``inspections.read`` above the outlet) see their units' items;
- the original inspector sees the items of their own inspections;
- acceptance needs a sub-branch manager of the outlet, a service manager or the original
  inspector — never anyone who answers for the outlet itself (the outlet cannot accept its own
  fix, which also covers self-checks, filled in by the outlet's manager), and never the person
  who submitted the fix;
- deadlines are moved by service managers (``inspections.review``); re-inspections are ordered
  by planners (``campaigns.manage``).
"""
from __future__ import annotations

import sqlalchemy as sa

from ..auth.models import User
from ..auth.permissions import Permission, Role
from ..errors import Conflict, NotFound
from ..extensions import db
from ..i18n import N_
from ..inspections.access import team_ids
from ..inspections.models import RESULT_VISIBLE, Campaign, Inspection, Mode
from ..orgs.models import OrgUnit
from .models import RectificationItem, RectificationState


def is_original_inspector(user: User, inspection: Inspection) -> bool:
    """Whether ``user`` carried out ``inspection`` (a mystery shopper stays out of sight)."""
    if inspection.mode is Mode.mystery_visit or not user.is_active:
        return False
    if user.id in {inspection.submitted_by_id, inspection.assignee_id}:
        return True
    return inspection.team_id is not None and inspection.team_id in team_ids(user)


def can_read_item(user: User, item: RectificationItem) -> bool:
    """The inspector and service managers always; the outlet's side (its responsible person,
    its outlet and sub-branch managers) only while the inspection's result stands: an
    inspection returned for correction takes its items back with it."""
    if is_original_inspector(user, item.inspection):
        return True
    if user.can(Permission.inspections_review, item.outlet):
        return True
    return item.inspection.status in RESULT_VISIBLE and reads_when_settled(user, item)


def reads_when_settled(user: User, item: RectificationItem) -> bool:
    """Whether ``user`` reads the item on the outlet's side while its inspection's result
    stands (see :func:`can_read_item`)."""
    return is_responsible(user, item) or user.can(Permission.inspections_read, item.outlet)


def held_back(item: RectificationItem) -> bool:
    """The item's inspection was returned to its inspector for correction: its findings may
    change, so nobody fixes, photographs or decides the item meanwhile."""
    return item.inspection.status not in RESULT_VISIBLE


def require_settled(item: RectificationItem) -> None:
    """Refuse any move of an item whose inspection is back with its inspector (409)."""
    if held_back(item):
        raise Conflict(RETURNED_MESSAGE, code="inspection_returned")


RETURNED_MESSAGE = N_("该检查已退回检查人修改，整改项暂不可处理")


def answers_for_outlet(user: User, item: RectificationItem) -> bool:
    """Whether ``user`` speaks for the item's outlet (its manager, or the named responsible)."""
    return user.can(Permission.rectification_submit, item.outlet) or is_responsible(user, item)


def can_submit_fix(user: User, item: RectificationItem) -> bool:
    return answers_for_outlet(user, item)


def can_decide(user: User, item: RectificationItem) -> bool:
    """Accept, reject or close a fix."""
    if answers_for_outlet(user, item) or user.id == item.fix_submitted_by_id:
        return False
    return user.can(Permission.rectification_accept, item.outlet) or \
        is_original_inspector(user, item.inspection)


def reviews_fixes(user: User) -> bool:
    """Whether ``user`` has fixes to review anywhere (整改验收): sub-branch and service managers,
    and inspectors for the fixes of their own findings (:func:`can_decide` per item)."""
    return user.can(Permission.rectification_accept) or \
        any(grant.role is Role.inspector for grant in user.grants)


def can_review_fix(user: User, item: RectificationItem) -> bool:
    """Whether ``user`` may accept or reject this item's fix now (it waits for review, and its
    inspection is not back with its inspector)."""
    return item.state is RectificationState.submitted and not held_back(item) \
        and can_decide(user, item)


def _original_inspector(user: User) -> list[sa.ColumnElement[bool]]:
    """:func:`is_original_inspector` in SQL (for a query joined to the item's inspection)."""
    conditions = [sa.and_(Inspection.mode != Mode.mystery_visit,
                          sa.or_(Inspection.submitted_by_id == user.id,
                                 Inspection.assignee_id == user.id))]
    teams = team_ids(user)
    if teams:
        conditions.append(sa.and_(Inspection.mode != Mode.mystery_visit,
                                  Inspection.team_id.in_(teams)))
    return conditions


def can_close(user: User, item: RectificationItem) -> bool:
    """Whether ``user`` may close this item now (销号): its fix was accepted, its inspection is
    not back with its inspector, and they decide its fixes or manage its deadlines."""
    return item.state is RectificationState.accepted and not held_back(item) \
        and (can_decide(user, item) or can_manage(user, item))


def _decides(user: User) -> sa.ColumnElement[bool]:
    """:func:`can_decide` in SQL, for a query joined as :func:`visible_items` joins."""
    inspector = _original_inspector(user)
    accepts = [OrgUnit.path.startswith(p)
               for p in user.scope_paths(Permission.rectification_accept)]
    outlet = [OrgUnit.path.startswith(p)
              for p in user.scope_paths(Permission.rectification_submit)]
    return sa.and_(
        sa.or_(sa.false(), *accepts, *inspector),
        RectificationItem.responsible_id.is_distinct_from(user.id),
        RectificationItem.fix_submitted_by_id.is_distinct_from(user.id),
        sa.not_(sa.or_(sa.false(), *outlet)),
    )


def reviewable_clause(user: User) -> sa.ColumnElement[bool]:
    """:func:`can_review_fix` in SQL, for a query joined as :func:`visible_items` joins: the
    fixes waiting for this user's decision, so a reviewer's list counts only those."""
    if not user.is_active:
        return sa.false()
    clause = sa.and_(RectificationItem.state == RectificationState.submitted,
                     Inspection.status.in_(RESULT_VISIBLE), _decides(user))
    return sa.func.coalesce(clause, sa.false())  # never NULL, so it can be negated


def closable_clause(user: User) -> sa.ColumnElement[bool]:
    """:func:`can_close` in SQL, for a query joined as :func:`visible_items` joins: the
    accepted fixes this user may close (销号)."""
    if not user.is_active:
        return sa.false()
    manages = [OrgUnit.path.startswith(p)
               for p in user.scope_paths(Permission.inspections_review)]
    clause = sa.and_(RectificationItem.state == RectificationState.accepted,
                     Inspection.status.in_(RESULT_VISIBLE),
                     sa.or_(_decides(user), *manages))
    return sa.func.coalesce(clause, sa.false())


def can_manage(user: User, item: RectificationItem) -> bool:
    """Move deadlines (service managers)."""
    return user.can(Permission.inspections_review, item.outlet)


def can_reassign(user: User, item: RectificationItem) -> bool:
    """Name another responsible person: the outlet itself, its sub-branch or the branch."""
    return can_manage(user, item) or answers_for_outlet(user, item) or \
        user.can(Permission.rectification_accept, item.outlet)


#: Who answers for an outlet's fixes: its own manager, or the manager of its sub-branch.
RESPONSIBLE_ROLES = frozenset({Role.outlet_manager, Role.subbranch_manager})


def responsible_paths(user: User) -> list[str]:
    """Paths of the units whose items ``user`` may answer for as their responsible person: where
    they manage an outlet or a sub-branch — none for a mystery shopper (the outlet would learn
    who visits it covertly) or an inactive account."""
    from ..inspections.campaigns import covert

    if not user.is_active or covert(user):
        return []
    return sorted({grant.org_unit.path for grant in user.grants
                   if grant.role in RESPONSIBLE_ROLES})


def may_be_responsible(user: User, item: RectificationItem) -> bool:
    """Whether ``user`` may be named the item's responsible person: active staff who answer for
    its outlet (an outlet manager of it, a sub-branch manager of its sub-branch)."""
    return any(item.outlet.path.startswith(path) for path in responsible_paths(user))


def is_responsible(user: User, item: RectificationItem) -> bool:
    """Whether ``user`` is the item's responsible person and may still be: someone named before
    a move (another outlet, the role taken away) no longer answers for it, nor reads it."""
    return item.responsible_id == user.id and may_be_responsible(user, item)


def reads_campaign_list(user: User, campaign: Campaign) -> bool:
    """Whether ``user`` reads reports somewhere in the campaign's scope (at or below it, or
    above it): another branch's campaign, its name and period are none of their business."""
    scope = campaign.scope_unit.path
    return user.is_active and any(path.startswith(scope) or scope.startswith(path)
               for path in user.scope_paths(Permission.reports_read))


def can_plan_reinspection(user: User, outlet: OrgUnit) -> bool:
    return user.can(Permission.campaigns_manage, outlet)


def get_item(item_id: int, user: User) -> RectificationItem:
    """Load an item the user may read; anything else is "not found"."""
    item = db.session.get(RectificationItem, item_id)
    if item is not None and not can_read_item(user, item) and held_back(item) \
            and reads_when_settled(user, item):
        require_settled(item)  # the outlet knew it: say why it is gone for now
    if item is None or not can_read_item(user, item):
        raise NotFound(N_("未找到该整改项"), code="rectification_not_found")
    return item


def visible_items(user: User) -> sa.Select:
    """Items the user may read, joined to their inspection and outlet (for filters)."""
    conditions = [sa.and_(RectificationItem.responsible_id == user.id,
                          Inspection.status.in_(RESULT_VISIBLE),
                          sa.or_(sa.false(), *[OrgUnit.path.startswith(path)
                                               for path in responsible_paths(user)])),
                  *_original_inspector(user)]
    for path in user.scope_paths(Permission.inspections_review):
        conditions.append(OrgUnit.path.startswith(path))
    read_paths = user.scope_paths(Permission.inspections_read)
    if read_paths:
        conditions.append(sa.and_(Inspection.status.in_(RESULT_VISIBLE),
                                  sa.or_(*[OrgUnit.path.startswith(p) for p in read_paths])))
    if not user.is_active:
        conditions = [sa.false()]
    return (sa.select(RectificationItem)
            .join(Inspection, RectificationItem.inspection_id == Inspection.id)
            .join(OrgUnit, RectificationItem.outlet_id == OrgUnit.id)
            .where(sa.or_(*conditions)))
