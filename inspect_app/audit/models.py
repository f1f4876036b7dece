"""Audit entries. Rows are only ever inserted; the ORM and the database both refuse changes."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ..db import JSONType, UTCDateTime, utcnow
from ..errors import DomainError
from ..extensions import db
from ..i18n import N_
from .actions import action_label, action_words


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"
    __table_args__ = (sa.Index("ix_audit_entries_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False,
                                         index=True)
    #: The user who acted; None for the command line and the system itself.
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    #: Who acted, as text that survives renames (``username`` or ``cli:root`` or ``system``).
    actor_name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    #: What happened, ``<object_type>.<verb>``, e.g. ``user.deactivate``.
    action: Mapped[str] = mapped_column(sa.String(64), nullable=False, index=True)
    object_type: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    object_id: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    #: Free-text reason given by the user, where the action asks for one.
    reason: Mapped[str | None] = mapped_column(sa.Text)
    #: The org unit the entry is about, as its path (``/1/4/27/``): a reader of the log sees
    #: the entries of their own units, and None (the whole bank) — see ``audit_paths``.
    #: :data:`SEVERAL` when it is about units in several branches (a person with roles in
    #: more than one), listed in ``units``: each of those branches reads it, no other.
    org_path: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    request_id: Mapped[str | None] = mapped_column(sa.String(64))

    units: Mapped[list[AuditEntryUnit]] = relationship(order_by="AuditEntryUnit.org_path")

    @property
    def action_label(self) -> str:
        """What happened, in words (Chinese); the code itself for an action no longer
        written."""
        return action_label(self.action)

    @property
    def action_words(self) -> str:
        """What happened, in the reader's language (:func:`.actions.action_words`)."""
        return action_words(self.action)

    @property
    def org_paths(self) -> list[str]:
        """Every unit path the entry is about; empty for the whole bank."""
        if self.org_path == SEVERAL:
            return [unit.org_path for unit in self.units]
        return [self.org_path] if self.org_path is not None else []


#: ``AuditEntry.org_path`` of an entry about units in several branches (see its ``units``).
SEVERAL = ""


class AuditEntryUnit(db.Model):
    """One of the units an entry is about, when they lie in several branches."""

    __tablename__ = "audit_entry_units"

    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("audit_entries.id"), primary_key=True)
    org_path: Mapped[str] = mapped_column(sa.String(255), primary_key=True, index=True)


class AuditLogIsAppendOnly(DomainError):
    status, code, message = 409, "audit_append_only", N_("审计日志只能追加，不能修改或删除")


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, flush_context, instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, (AuditEntry, AuditEntryUnit)) and (
                obj in session.deleted or session.is_modified(obj)):
            raise AuditLogIsAppendOnly()
