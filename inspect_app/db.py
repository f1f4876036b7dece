"""Column types and mixins shared by every domain's models, and the connection pool's
idle check."""
from __future__ import annotations

import enum
import time
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (the only kind of time we store)."""
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator):
    """A timestamp stored as naive UTC and always returned timezone-aware.

    SQLite has no time zones; storing naive UTC everywhere keeps both databases identical and
    comparisons with :func:`utcnow` safe.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


#: JSON documents: JSONB on PostgreSQL (indexable, compact), JSON text on SQLite.
JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def enum_column(enum_cls: type[enum.Enum], **kwargs) -> sa.Enum:
    """A portable enum column stored as its values in a VARCHAR (no native PG enum to migrate)."""
    return sa.Enum(enum_cls, native_enum=False, create_constraint=False, length=32,
                   values_callable=lambda e: [m.value for m in e], validate_strings=True,
                   **kwargs)


class TimestampMixin:
    #: When the row was created (UTC).
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    #: When the row last changed (UTC).
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow,
                                                 nullable=False)


def ping_when_idle(engine: sa.Engine, idle_seconds: float) -> None:
    """Check a pooled connection before use only if it sat idle for ``idle_seconds``.

    ``pool_pre_ping`` costs a round trip on every checkout, i.e. on every request. A connection
    that was in use a moment ago is as good as a ping's answer; one that sat idle may have been
    dropped by a database restart or a firewall, so it is pinged and, if dead, replaced before
    the request sees it. A connection that dies while busy fails its statement instead:
    SQLAlchemy then invalidates the whole pool and the request answers 503 (see
    ``errors.py``), which clients retry with the same keys.
    """
    if engine.dialect.name == "sqlite":
        return  # a file cannot drop the connection

    @sa.event.listens_for(engine, "checkin")
    def _returned(dbapi_connection, record) -> None:
        record.info["returned_at"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, proxy) -> None:
        returned = record.info.get("returned_at")
        if returned is not None and time.monotonic() - returned < idle_seconds:
            return
        if not engine.dialect._do_ping_w_event(dbapi_connection):
            # the pool discards this connection and checks out (or opens) another
            raise sa.exc.DisconnectionError("idle database connection was dropped")
