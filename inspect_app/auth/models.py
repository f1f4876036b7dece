"""Users, their role grants and their API tokens."""
from __future__ import annotations

import hashlib
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..db import TimestampMixin, UTCDateTime, enum_column, utcnow
from ..extensions import db
from ..orgs.models import OrgUnit
from .permissions import ROLE_PERMISSIONS, Permission, Role


class User(TimestampMixin, db.Model):
    """A person who signs in. Deactivated, never deleted: their history stays attributable."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Sign-in name, stored lower-case.
    username: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    #: scrypt hash (Werkzeug's default), never the password.
    password_hash: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    is_active: Mapped[bool] = mapped_column(default=True, nullable=False)
    #: Consecutive failed sign-ins since the last success; drives the temporary lockout.
    failed_logins: Mapped[int] = mapped_column(default=0, nullable=False)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Bumped to sign the user out everywhere (password change, deactivation).
    session_epoch: Mapped[int] = mapped_column(default=0, nullable=False)

    grants: Mapped[list[RoleGrant]] = relationship(back_populates="user",
                                                   cascade="all, delete-orphan",
                                                   order_by="RoleGrant.id")

    def __repr__(self) -> str:
        return f"<User {self.username}>"

    def set_password(self, password: str) -> None:
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def is_locked(self, now: datetime | None = None) -> bool:
        return self.locked_until is not None and self.locked_until > (now or utcnow())

    @property
    def roles(self) -> set[Role]:
        return {grant.role for grant in self.grants}

    def permissions(self) -> set[Permission]:
        return {perm for grant in self.grants for perm in ROLE_PERMISSIONS[grant.role]}

    def scope_paths(self, permission: Permission) -> list[str]:
        """Paths of the org units where the user holds ``permission`` (each covers its subtree)."""
        return sorted({grant.org_unit.path for grant in self.grants
                       if permission in ROLE_PERMISSIONS[grant.role]})

    def can(self, permission: Permission, unit: OrgUnit | None = None) -> bool:
        """Whether the user holds ``permission`` at ``unit`` (or anywhere, when unit is None)."""
        if not self.is_active:
            return False
        paths = self.scope_paths(permission)
        if unit is None:
            return bool(paths)
        return any(unit.path.startswith(path) for path in paths)


class RoleGrant(db.Model):
    """One role held by a user at one org unit (and everything below it)."""

    __tablename__ = "role_grants"
    __table_args__ = (sa.UniqueConstraint("user_id", "role", "org_unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"),
                                         nullable=False, index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role), nullable=False)
    org_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), nullable=False,
                                             index=True)

    user: Mapped[User] = relationship(back_populates="grants")
    org_unit: Mapped[OrgUnit] = relationship(lazy="joined")


class ApiToken(db.Model):
    """A bearer token for API clients. Only its SHA-256 is stored; it expires and can be revoked."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), nullable=False, index=True)
    #: SHA-256 of the token: a database leak does not leak usable tokens.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    label: Mapped[str | None] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def is_usable(self, now: datetime | None = None) -> bool:
        return self.revoked_at is None and self.expires_at > (now or utcnow())
