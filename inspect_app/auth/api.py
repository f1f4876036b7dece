"""API: tokens, the current user, and people management."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, g
from flask.views import MethodView

from ..api.base import Blueprint
from ..api.pagination import page_schema, paginate
from ..errors import DomainError, NotFound
from ..extensions import db, limiter
from ..i18n import N_
from ..logs import note_user
from ..orgs.models import OrgUnit
from ..orgs.operations import get_unit
from .models import ApiToken, RoleGrant, User
from .operations import (
    authenticate,
    can_see_user,
    create_user,
    issue_token,
    known_grants,
    revoke_token,
    update_user,
    visible_users,
)
from .permissions import Permission
from .schemas import (
    MeSchema,
    TokenInfoSchema,
    TokenRequestSchema,
    TokenSchema,
    UserQuerySchema,
    UserSchema,
    UserUpdateSchema,
)
from .session import current_user

blp = Blueprint("auth_api", __name__, url_prefix="/api/v1", description="登录令牌与人员管理")


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@blp.route("/auth/token")
class Tokens(MethodView):
    decorators = [limiter.limit(_login_limit, methods=["POST"])]

    @blp.arguments(TokenRequestSchema)
    @blp.response(201, TokenSchema)
    @blp.alt_response(401, description="用户名或密码错误")
    @blp.alt_response(423, description="账号已临时锁定")
    @blp.alt_response(429, description="登录尝试过于频繁")
    @blp.doc(security=[])  # the one call made without a token
    def post(self, data):
        """Exchange a username and password for a bearer token."""
        try:
            user = authenticate(data["username"], data["password"])
        except DomainError:
            db.session.commit()  # keep the failure count and the audit entry
            raise
        note_user(user.username)  # the request's log line names who got the token
        secret, token = issue_token(user, data.get("label"))
        db.session.commit()
        return {"token": secret, "token_type": "Bearer", "expires_at": token.expires_at,
                "user": user}

    @blp.response(204)
    def delete(self):
        """Revoke the token this request is authenticated with."""
        user = current_user()
        if g.token is None:
            raise DomainError(N_("当前请求不是用令牌认证的"), code="no_token")
        revoke_token(g.token, user)
        db.session.commit()


@blp.route("/auth/tokens")
class MyTokens(MethodView):
    @blp.response(200, TokenInfoSchema(many=True))
    def get(self):
        """List my API tokens (the secrets themselves are never shown again)."""
        user = current_user()
        return db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id)
                                  .order_by(ApiToken.id.desc())).all()


@blp.route("/auth/tokens/<int:token_id>")
class MyToken(MethodView):
    @blp.response(204)
    def delete(self, token_id):
        """Revoke one of my tokens (or anyone's, for a user administrator)."""
        user = current_user()
        token = db.session.get(ApiToken, token_id)
        if token is None or (token.user_id != user.id
                             and not user.can(Permission.users_manage)):
            raise NotFound()
        revoke_token(token, user)
        db.session.commit()


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, MeSchema)
    def get(self):
        """Who I am, my roles with their org units, and what they allow."""
        return current_user()


UserPage = page_schema(UserSchema, "UserPage")


def _grant_pairs(grants: list[dict], by: User):
    return [(grant["role"], get_unit(grant["org_unit_id"], by, Permission.org_read))
            for grant in grants]


def _load_user(user_id: int, by: User) -> User:
    user = db.session.get(User, user_id)
    if user is None or not can_see_user(by, user):
        raise NotFound(N_("未找到该人员"), code="user_not_found")
    return user


@blp.route("/users")
class Users(MethodView):
    @blp.arguments(UserQuerySchema, location="query")
    @blp.response(200, UserPage)
    def get(self, args):
        """List the people I may see (within my org scope)."""
        by = current_user()
        if not by.can(Permission.users_read):
            raise NotFound()
        query = visible_users(by)
        if not args["include_inactive"]:
            query = query.where(User.is_active.is_(True))
        if args.get("q"):
            like = f"%{args['q']}%"
            query = query.where(sa.or_(User.username.ilike(like), User.display_name.ilike(like)))
        if args.get("role"):
            query = query.where(User.id.in_(
                sa.select(RoleGrant.user_id)
                .join(OrgUnit, RoleGrant.org_unit_id == OrgUnit.id)
                .where(RoleGrant.role == args["role"], known_grants(by))))
        return paginate(query, args)

    @blp.arguments(UserSchema)
    @blp.response(201, UserSchema)
    @blp.alt_response(403, description="无权在这些机构管理人员")
    @blp.alt_response(404, description="机构不存在（org_unit_not_found）")
    @blp.alt_response(409, description="用户名已存在（username_taken），或同时有相同的创建"
                                       "（write_conflict，可重试）")
    def post(self, data):
        """Create a person with one or more roles, each at an org unit."""
        by = current_user()
        user = create_user(username=data["username"], display_name=data["display_name"],
                           password=data["password"], phone=data.get("phone"),
                           grants=_grant_pairs(data["grants"], by), by=by)
        db.session.commit()
        return user


@blp.route("/users/<int:user_id>")
class UserResource(MethodView):
    @blp.response(200, UserSchema)
    def get(self, user_id):
        """One person."""
        return _load_user(user_id, current_user())

    @blp.arguments(UserUpdateSchema)
    @blp.response(200, UserSchema)
    @blp.alt_response(403, description="无权管理此人，或不能停用自己的账号（own_account）、"
                                       "修改自己的角色（own_roles）")
    @blp.alt_response(404, description="此人或机构不存在")
    @blp.alt_response(422, description="输入有误；角色与机构层级不符（role_unit_mismatch）；"
                                       "互查检查组的成员不能成为神秘人（covert_member）")
    def patch(self, data, user_id):
        """Change a person: details, password, roles, or deactivate (``is_active: false``)."""
        by = current_user()
        user = _load_user(user_id, by)
        if "grants" in data:
            data["grants"] = _grant_pairs(data["grants"], by)
        update_user(user, data, by=by)
        db.session.commit()
        return user
