"""Sign-in, tokens and people management. Plain functions: they flush, the caller commits."""
from __future__ import annotations

import functools
import logging
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from limits import parse
from sqlalchemy import orm
from werkzeug.security import check_password_hash, generate_password_hash

from ..audit.operations import record, snapshot
from ..db import utcnow
from ..errors import Conflict, DomainError, InvalidInput, NotAuthenticated, PermissionDenied
from ..extensions import db
from ..i18n import N_
from ..messages import Message
from ..orgs.models import OrgKind, OrgUnit
from .models import ApiToken, RoleGrant, User
from .permissions import ROLE_PERMISSIONS, Permission, Role

USER_AUDIT_FIELDS = ("username", "display_name", "phone", "is_active")
log = logging.getLogger(__name__)


class AccountLocked(DomainError):
    status, code = 423, "account_locked"
    message = N_("登录失败次数过多，账号已临时锁定，请稍后再试")


#: Passwords every guessing list starts with; compared lower-case.
COMMON_PASSWORDS = frozenset({
    "password1", "password12", "password123", "passw0rd", "p@ssw0rd", "qwerty123", "qwer1234",
    "abc12345", "abcd1234", "a1234567", "a12345678", "1qaz2wsx", "admin123", "admin1234",
    "welcome1", "iloveyou1", "woaini1314", "aa123456", "zxcv1234", "test1234",
})


def validate_password(password: str, username: str | None = None) -> None:
    """Refuse passwords a bank would not accept: at least 8 characters with letters and
    digits, not a well-known password, and not containing the username."""
    message = N_("密码至少 8 位，且须同时包含字母和数字")
    if (len(password) < 8 or not any(c.isdigit() for c in password)
            or not any(c.isalpha() for c in password)):
        pass
    elif password.lower() in COMMON_PASSWORDS:
        message = N_("该密码过于常见，请换一个")
    elif username and len(username) >= 3 and username.lower() in password.lower():
        message = N_("密码不能包含用户名")
    else:
        return
    raise InvalidInput(message, code="weak_password", details={"password": [Message(message)]})


def authenticate(username: str, password: str) -> User:
    """Check a username and password, counting failures and locking the account after too many.

    The same message answers an unknown user and a wrong password, so sign-in does not reveal
    which usernames exist. Failures are audited and committed by the caller even on refusal.
    """
    user = db.session.scalar(sa.select(User).where(User.username == username.strip().lower()))
    now = utcnow()
    if user is not None and user.is_locked(now) or user is None and _unknown_name_locked(
            username, count=False):
        record("auth.login_locked", user, object_type="user",
               object_id=user.id if user else username[:64],
               after={"locked_until": user.locked_until} if user else {"username": username[:64]})
        raise AccountLocked()
    if user is None:
        check_password_hash(_decoy_hash(), password)  # as long as checking a real account
        _unknown_name_locked(username, count=True)
    # the hash is checked first, for a deactivated account too: every refusal takes as long
    if user is None or not user.check_password(password) or not user.is_active:
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= current_app.config["LOGIN_MAX_FAILURES"]:
                minutes = current_app.config["LOGIN_LOCKOUT_MINUTES"]
                user.locked_until = now + timedelta(minutes=minutes)
                user.failed_logins = 0
        record("auth.login_failed", user, object_type="user",
               object_id=user.id if user else username[:64],
               after={"username": username[:64]})
        raise NotAuthenticated(N_("用户名或密码错误"), code="invalid_credentials")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    record("auth.login", user, actor=user)
    return user


def _unknown_name_locked(username: str, *, count: bool) -> bool:
    """Failures under a name without an account count like an account's: after as many, the
    name answers "locked" for as long, so neither a lockout nor its absence tells which
    usernames exist. Kept with the rate limits (in Redis when set). ``count``: add this failure.
    """
    config = current_app.config
    window = parse(f"{config['LOGIN_MAX_FAILURES']} per "
                   f"{config['LOGIN_LOCKOUT_MINUTES']} minutes")
    name = username.strip().lower()[:64]
    from ..extensions import limiter

    try:
        if count:
            limiter.limiter.hit(window, "unknown-account", name)
            return False
        return not limiter.limiter.test(window, "unknown-account", name)
    except Exception:  # the store is unreachable: the sign-in rate limit still holds
        log.warning("sign-in failures of unknown names are not counted: store unreachable")
        return False


@functools.cache
def _decoy_hash_for(method: str) -> str:
    return generate_password_hash(secrets.token_hex(16), method=method)


def _decoy_hash() -> str:
    """A hash made like the accounts' own, checked when the name is unknown (same time)."""
    return _decoy_hash_for(current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"))


def issue_token(user: User, label: str | None = None) -> tuple[str, ApiToken]:
    """Create an API token for ``user``; returns the secret (shown once) and its record."""
    secret = secrets.token_urlsafe(32)
    hours = current_app.config["API_TOKEN_HOURS"]
    token = ApiToken(user=user, token_hash=ApiToken.hash(secret), label=label,
                     expires_at=utcnow() + timedelta(hours=hours))
    db.session.add(token)
    db.session.flush()
    record("api_token.issue", token, actor=user, after={"label": label,
                                                        "expires_at": token.expires_at})
    return secret, token


def user_for_token(secret: str) -> tuple[User, ApiToken] | None:
    """The active user behind a bearer token, or None if it is unknown, expired or revoked."""
    # One query for the token, its user and their grants: every API request needs all three.
    token = db.session.scalars(
        sa.select(ApiToken).where(ApiToken.token_hash == ApiToken.hash(secret))
        .options(orm.joinedload(ApiToken.user).joinedload(User.grants))).unique().first()
    if token is None or not token.is_usable() or not token.user.is_active:
        return None
    return token.user, token


def revoke_token(token: ApiToken, by: User) -> None:
    """Revoke a token; its owner or a user administrator may do this."""
    if token.user_id != by.id and not by.can(Permission.users_manage):
        raise PermissionDenied()
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record("api_token.revoke", token, actor=by)


#: The managers' roles go with one kind of unit: granted at a branch, a 网点负责人 would read
#: and fix for every outlet of it. Inspectors, mystery shoppers and administrators may be held
#: at a branch or a sub-branch (their reach).
ROLE_UNIT_KINDS = {
    Role.service_manager: (OrgKind.branch, N_("服务管理（分行）角色只能授予分行")),
    Role.subbranch_manager: (OrgKind.subbranch, N_("支行负责人角色只能授予支行")),
    Role.outlet_manager: (OrgKind.outlet, N_("网点负责人角色只能授予网点")),
}


def check_role_unit(role: Role, unit: OrgUnit) -> None:
    """Refuse (422 role_unit_mismatch) a manager's role at another kind of unit."""
    kind, refusal = ROLE_UNIT_KINDS.get(role, (None, None))
    if kind is not None and unit.kind is not kind:
        raise InvalidInput(refusal, code="role_unit_mismatch")


def _grants_from(spec: list[tuple[Role, OrgUnit]]) -> list[RoleGrant]:
    seen: set[tuple[Role, int]] = set()
    grants = []
    for role, unit in spec:
        check_role_unit(role, unit)
        if (role, unit.id) not in seen:
            seen.add((role, unit.id))
            grants.append(RoleGrant(role=role, org_unit=unit))
    return grants


def _describe_grants(user: User) -> list[str]:
    return sorted(f"{g.role.value}@{g.org_unit.code}" for g in user.grants)


def ensure_can_manage(by: User | None, units: list[OrgUnit]) -> None:
    """Refuse unless ``by`` (None = command line) may manage users at every one of ``units``."""
    if by is None:
        return
    if not units and not by.can(Permission.users_manage):
        raise PermissionDenied()
    for unit in units:
        if not by.can(Permission.users_manage, unit):
            raise PermissionDenied(N_("您无权管理该机构的人员"))


def create_user(*, username: str, display_name: str, password: str | None,
                grants: list[tuple[Role, OrgUnit]], phone: str | None = None,
                by: User | None = None, password_hash: str | None = None) -> User:
    """Create a person with their role grants.

    ``password_hash`` replaces ``password`` when loading many accounts that share a password
    (demo data), where hashing each one would take seconds.
    """
    ensure_can_manage(by, [unit for _, unit in grants])
    username = username.strip().lower()
    if db.session.scalar(sa.select(User.id).where(User.username == username)):
        raise Conflict(N_("用户名已存在"), code="username_taken")
    user = User(username=username, display_name=display_name.strip(), phone=phone)
    if password_hash is not None:
        user.password_hash = password_hash
    else:
        validate_password(password or "", username)
        user.set_password(password)
    user.grants = _grants_from(grants)
    db.session.add(user)
    db.session.flush()
    record("user.create", user, actor=by,
           after={**snapshot(user, USER_AUDIT_FIELDS), "grants": _describe_grants(user)})
    return user


def update_user(user: User, changes: dict, *, by: User | None = None) -> User:
    """Change a person's details, roles, password or active flag."""
    ensure_can_manage(by, [g.org_unit for g in user.grants])
    before = {**snapshot(user, USER_AUDIT_FIELDS), "grants": _describe_grants(user)}
    for field in ("display_name", "phone"):
        if field in changes:
            setattr(user, field, changes[field])
    if "grants" in changes:
        if not changes["grants"]:  # a person always holds a role somewhere
            raise InvalidInput(N_("至少需要一个角色"), code="no_roles")
        ensure_can_manage(by, [unit for _, unit in changes["grants"]])
        if by is not None and by.id == user.id:
            raise PermissionDenied(N_("不能修改自己的角色"), code="own_roles")
        if any(role in COVERT_ROLES for role, _unit in changes["grants"]):
            # a rule of the peer-check teams (inspections depend on people, not back)
            from ..inspections.campaigns import refuse_covert_team_member

            refuse_covert_team_member(user)
        wanted = {(g.role, g.org_unit.id): g for g in _grants_from(changes["grants"])}
        # Keep grants that stay (re-inserting them would collide with the unique key).
        user.grants = [g for g in user.grants if (g.role, g.org_unit_id) in wanted] + [
            g for key, g in wanted.items()
            if key not in {(x.role, x.org_unit_id) for x in user.grants}]
    if changes.get("password"):
        validate_password(changes["password"], user.username)
        user.set_password(changes["password"])
        # a new password is how an account is taken back: whoever held the old one is out,
        # and the person is let in at once, however many wrong tries there were
        _sign_out_everywhere(user)
        user.failed_logins, user.locked_until = 0, None
    if "is_active" in changes and changes["is_active"] != user.is_active:
        if by is not None and by.id == user.id:
            raise PermissionDenied(N_("不能停用自己的账号"), code="own_account")
        user.is_active = changes["is_active"]
        _sign_out_everywhere(user)
    db.session.flush()
    after = {**snapshot(user, USER_AUDIT_FIELDS), "grants": _describe_grants(user)}
    if changes.get("password"):
        after["password"] = "changed"
    if before["is_active"] != after["is_active"]:
        record("user.deactivate" if not user.is_active else "user.reactivate", user, actor=by,
               before=before, after=after)
    # anything else changed with it (roles, details, password) has an entry of its own, so a
    # promotion made while reactivating someone is not hidden under "reactivate"
    if {k: v for k, v in before.items() if k != "is_active"} != \
            {k: v for k, v in after.items() if k != "is_active"}:
        record("user.update", user, actor=by, before=before, after=after)
    return user


def _sign_out_everywhere(user: User) -> None:
    """End every session (a new epoch) and revoke every API token of ``user``."""
    user.session_epoch += 1
    for token in db.session.scalars(sa.select(ApiToken).where(
            ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))):
        token.revoked_at = utcnow()


#: Roles that visit outlets covertly: who holds one is known only to those who may know it.
COVERT_ROLES = frozenset(role for role, permissions in ROLE_PERMISSIONS.items()
                         if Permission.mystery_visit in permissions)


def _covert_paths(by: User) -> list[str]:
    """Where ``by`` may know who visits covertly: service managers (sensitive.read, who see
    the shopper of a visit) and administrators (users.manage, who give the role)."""
    return sorted({*by.scope_paths(Permission.sensitive_read),
                   *by.scope_paths(Permission.users_manage)})


def known_grants(by: User) -> sa.ColumnElement[bool]:
    """Condition on ``RoleGrant`` joined to its ``OrgUnit``: the grants ``by`` may know of."""
    paths = _covert_paths(by)
    overt = RoleGrant.role.not_in(COVERT_ROLES)
    if not paths:
        return overt
    return sa.or_(overt, *[OrgUnit.path.startswith(p) for p in paths])


def shown_grants(by: User, user: User) -> list[RoleGrant]:
    """``user``'s grants as ``by`` may see them: a mystery shopper's role stays with those who
    may know it (and with the shopper)."""
    if by.id == user.id:
        return list(user.grants)
    paths = _covert_paths(by)
    return [g for g in user.grants if g.role not in COVERT_ROLES
            or any(g.org_unit.path.startswith(p) for p in paths)]


def visible_users(by: User) -> sa.Select:
    """Users that ``by`` may see: those holding a role inside one of by's scopes (a covert
    role only where by may know it)."""
    paths = by.scope_paths(Permission.users_read)
    query = sa.select(User).order_by(User.username)
    if not paths:
        return query.where(sa.false())
    in_scope = (sa.select(RoleGrant.user_id).join(OrgUnit, RoleGrant.org_unit_id == OrgUnit.id)
                .where(sa.or_(*[OrgUnit.path.startswith(p) for p in paths]), known_grants(by)))
    return query.where(sa.or_(User.id.in_(in_scope), User.id == by.id))


def can_see_user(by: User, user: User) -> bool:
    """Object-level check matching :func:`visible_users`."""
    if by.id == user.id:
        return True
    return any(by.can(Permission.users_read, g.org_unit) for g in shown_grants(by, user))
