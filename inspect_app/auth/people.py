"""人员管理: the people of one's units as pages — who holds which role where, who is locked out
— and, for administrators, adding a person, changing their roles, setting a new password
(which also lifts a lockout and signs them out everywhere) and deactivating them.

Thin views over :mod:`.operations`, as ``/api/v1/users`` is: the same rules, the same audit
entries. A refusal shows the page again with the reason and what was typed; nothing is written.
A change that is carried out goes back to the person's page, which says what was done.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext
from marshmallow import fields, validate

from ..api.fields import Id
from ..api.pagination import page_of
from ..db import utcnow
from ..extensions import db
from ..forms import PageForm, Refused, carry_out
from ..i18n import N_, NP_
from ..orgs.models import OrgUnit
from ..orgs.operations import get_unit, in_tree_order, visible_units
from .models import User
from .operations import can_see_user, create_user, shown_grants, update_user, visible_users
from .permissions import ROLE_LABELS, Permission, Role
from .schemas import UserSchema
from .session import pages_need

#: People listed to a page (a branch has thousands: the rest a page further, or by a search).
PER_PAGE = 100

bp = Blueprint("people", __name__, url_prefix="/manage/people")
pages_need(bp, Permission.users_read)

_PERSON = UserSchema._declared_fields
FIELD_NAMES = {"username": N_("用户名"), "display_name": N_("姓名"), "phone": N_("电话"),
               "password": N_("密码"), "role": NP_("field", "角色"), "org_unit_id": N_("机构"),
               "confirm": N_("确认")}


class RoleForm(PageForm):
    role = fields.Enum(Role, by_value=True, required=True)
    org_unit_id = Id(required=True)


class NewPersonForm(RoleForm):
    """添加人员: the API's rules for a person (``UserSchema``), with their first role."""

    username = _PERSON["username"]
    display_name = _PERSON["display_name"]
    phone = _PERSON["phone"]
    password = _PERSON["password"]


class PasswordForm(PageForm):
    password = fields.String(required=True, validate=validate.Length(max=256))


class ConfirmForm(PageForm):
    confirm = fields.String(required=True, validate=validate.Equal("yes"))


def _manages(user: User | None = None) -> bool:
    """Whether the signed-in person may change people (at ``user``'s units, if given)."""
    if user is None:
        return g.user.can(Permission.users_manage)
    return all(g.user.can(Permission.users_manage, grant.org_unit) for grant in user.grants)


def _units() -> list[OrgUnit]:
    """The units where the signed-in person may give roles."""
    return in_tree_order(db.session.scalars(visible_units(g.user, Permission.users_manage)
                                            .where(OrgUnit.is_active)))


def _shown_grants(user: User):
    """The roles of ``user`` the signed-in person may know of (a shopper's only if they may)."""
    return shown_grants(g.user, user)


def _person(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or not can_see_user(g.user, user):
        abort(404)
    return user


@bp.get("")
def index():
    """People of my units, by username; a search and the deactivated on request."""
    return _index()


def _index(*, problems=(), error: str | None = None, typed: dict | None = None,
           status: int = 200):
    q = request.args.get("q", "").strip()[:50]
    everyone = request.args.get("all") == "1"
    query = visible_users(g.user)
    if not everyone:
        query = query.where(User.is_active.is_(True))
    if q:
        like = f"%{q}%"
        query = query.where(sa.or_(User.username.ilike(like), User.display_name.ilike(like)))
    shown = page_of(query, request.args.get("page", 1, type=int), PER_PAGE)
    return render_template("manage/people.html", people=shown.rows, q=q, everyone=everyone,
                           total=shown.total, page=shown.page, pages=shown.pages,
                           now=utcnow(), roles=ROLE_LABELS, units=_units() if _manages() else [],
                           problems=problems, error=error, typed=typed or {},
                           manages=_manages(), shown_grants=_shown_grants), status


@bp.post("")
def add():
    """添加人员, with a first role at one unit."""
    if not _manages():
        abort(403)
    typed = request.form.to_dict()

    def create(data):
        return create_user(username=data["username"], display_name=data["display_name"],
                           password=data["password"], phone=data.get("phone"),
                           grants=[(data["role"], get_unit(data["org_unit_id"], g.user))],
                           by=g.user)

    user = carry_out(lambda: NewPersonForm().load(request.form), create, FIELD_NAMES,
                     invalid=None)
    if isinstance(user, Refused):
        return _index(typed=typed, **user.shown)
    return redirect(url_for(".person", user_id=user.id))


@bp.get("/<int:user_id>")
def person(user_id: int):
    """One person: roles, state, last sign-in; an administrator's actions."""
    return _person_page(_person(user_id))


def _person_page(user: User, *, problems=(), error: str | None = None, status: int = 200):
    may_change = _manages() and _manages(user) and user.id != g.user.id
    return render_template("manage/person.html", person=user, now=utcnow(), roles=ROLE_LABELS,
                           units=_units() if may_change else [], may_change=may_change,
                           problems=problems, error=error,
                           shown_grants=_shown_grants), status


@bp.get("/<int:user_id>/password")
@bp.get("/<int:user_id>/active")
@bp.get("/<int:user_id>/roles")
@bp.get("/<int:user_id>/roles/<int:grant_id>/remove")
def form_address(user_id: int, grant_id: int | None = None):
    """A form's address opened as a page (a refused change reloaded or reopened, a bookmark):
    the person's page, where the forms are."""
    return redirect(url_for(".person", user_id=user_id), code=303)


def _change(user_id: int, form: type[PageForm], changes, done: str):
    """Check the form, apply ``changes(data, user)`` through ``update_user``; back to the
    person's page saying ``done`` (a reload does not post again), or the page shown again with
    the refusal."""
    user = _person(user_id)
    if not (_manages() and _manages(user)) or user.id == g.user.id:
        abort(403)  # one's own account is not changed here (it would sign oneself out)
    refused = carry_out(lambda: form().load(request.form),
                        lambda data: update_user(user, changes(data, user), by=g.user),
                        FIELD_NAMES, invalid=None)
    if isinstance(refused, Refused):
        return _person_page(_person(user_id), **refused.shown)
    flash(done)
    return redirect(url_for(".person", user_id=user_id), code=303)


@bp.post("/<int:user_id>/password")
def set_password(user_id: int):
    """设置新密码: signs the person out everywhere and lifts a lockout."""
    return _change(user_id, PasswordForm, lambda data, _: {"password": data["password"]},
                   gettext("已设置新密码：此人在所有设备上的登录已结束，锁定已解除。"))


@bp.post("/<int:user_id>/active")
def set_active(user_id: int):
    """停用 or 重新启用 (a ticked box confirms it)."""
    active = request.form.get("active") == "1"
    return _change(user_id, ConfirmForm, lambda *_: {"is_active": active},
                   gettext("已重新启用") if active else gettext("已停用：此人不能再登录。"))


def _grants(user: User) -> list[tuple[Role, OrgUnit]]:
    return [(grant.role, grant.org_unit) for grant in user.grants]


@bp.post("/<int:user_id>/roles")
def add_role(user_id: int):
    """增加角色 at a unit."""
    def changes(data, user):
        unit = get_unit(data["org_unit_id"], g.user)
        return {"grants": [*_grants(user), (data["role"], unit)]}

    return _change(user_id, RoleForm, changes, gettext("已增加角色"))


@bp.post("/<int:user_id>/roles/<int:grant_id>/remove")
def remove_role(user_id: int, grant_id: int):
    """取消角色 (a person keeps at least one)."""
    def changes(_data, user):
        kept = [(grant.role, grant.org_unit) for grant in user.grants if grant.id != grant_id]
        if len(kept) == len(user.grants):
            abort(404)
        return {"grants": kept}

    return _change(user_id, PageForm, changes, gettext("已取消角色"))

