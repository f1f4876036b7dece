"""The watch-list as stored: rule-set versions, entries with their history, coaching, queue data."""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import JSONType, UTCDateTime, enum_column, utcnow
from ..extensions import db
from ..orgs.models import OrgUnit


class WatchlistRuleSet(db.Model):
    """One version of one branch's rules. Tuning never edits a version: it adds the branch's
    next one. Each branch's service managers run their own list, so each branch has its own
    rules; a branch that has never tuned them keeps the rules all branches shared before
    (``branch_id`` NULL, written before migration 0024) or the product's default."""

    __tablename__ = "watchlist_rule_sets"
    __table_args__ = (
        sa.UniqueConstraint("branch_id", "version", name="uq_watchlist_rule_sets_branch_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The branch these rules are for; NULL: the rules shared by every branch before 0024.
    branch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_units.id"))
    #: Numbered on from the version the branch had in force when it tuned them.
    version: Mapped[int] = mapped_column(nullable=False)
    #: :meth:`inspect_app.watchlist.rules.RuleSet.to_dict` — rules, parameters, exit policy.
    rules: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    #: How many days back from the evaluation day the rules look.
    period_days: Mapped[int] = mapped_column(nullable=False, default=90)
    note: Mapped[str | None] = mapped_column(sa.Text)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    branch: Mapped[OrgUnit | None] = relationship()


class EntryStatus(enum.Enum):
    active = "active"
    exited = "exited"

    @property
    def label(self) -> str:
        return {"active": "在册", "exited": "已出列"}[self.value]


class WatchlistEntry(db.Model):
    """One stay of a unit on the list, from entering to leaving. Re-entering starts a new one."""

    __tablename__ = "watchlist_entries"
    __table_args__ = (
        sa.Index("ix_watchlist_entries_unit_status", "unit_id", "status"),
        # one stay at a time: a double-sent 列入名单, or one racing the nightly evaluation,
        # cannot list a unit twice (migration 0021)
        sa.Index("uq_watchlist_entries_active_unit", "unit_id", unique=True,
                 sqlite_where=sa.text("status = 'active'"),
                 postgresql_where=sa.text("status = 'active'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), nullable=False)
    status: Mapped[EntryStatus] = mapped_column(enum_column(EntryStatus), nullable=False,
                                                default=EntryStatus.active)
    entered_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    #: ``rule`` (the rules put it there) or ``manual`` (a service manager, with a reason).
    entry_kind: Mapped[str] = mapped_column(sa.String(16), nullable=False, default="rule",
                                            server_default="rule")
    #: A manual listing's reason (a person's words); None when the rules listed the unit.
    entry_reason: Mapped[str | None] = mapped_column(sa.Text)
    exited_on: Mapped[date | None] = mapped_column(sa.Date)
    #: ``rule`` (the exit policy was met) or ``manual`` (a service manager, with a reason).
    exit_kind: Mapped[str | None] = mapped_column(sa.String(16))
    exit_reason: Mapped[str | None] = mapped_column(sa.Text)
    #: A rule exit's reason as data (:attr:`~inspect_app.watchlist.rules.Decision.note`), so
    #: it can be said in the reader's language; None for a manual exit (a person's words).
    exit_note: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    #: The rules met at the latest evaluation, with their figures (RuleHit.to_dict()); empty
    #: when the unit meets none any more but has not met the exit policy yet. The rules met
    #: on listing stay in the history (the ``entered`` event's hits).
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, nullable=False, default=list)
    #: Where the unit stood against the exit policy at the latest evaluation
    #: (:func:`~inspect_app.watchlist.rules.exit_progress`); None before the first one.
    exit_progress: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    rule_set_version: Mapped[int] = mapped_column(nullable=False)
    last_evaluated_on: Mapped[date] = mapped_column(sa.Date, nullable=False)

    unit: Mapped[OrgUnit] = relationship()
    events: Mapped[list[WatchlistEvent]] = relationship(back_populates="entry",
                                                        order_by="WatchlistEvent.id",
                                                        cascade="all, delete-orphan")
    actions: Mapped[list[CoachingAction]] = relationship(back_populates="entry",
                                                         order_by="CoachingAction.held_on",
                                                         cascade="all, delete-orphan")


EVENT_LABELS = {"entered": "列入名单", "manual_entry": "人工列入", "reasons_changed": "原因变化",
                "exited": "按规则出列", "manual_exit": "人工出列"}


class WatchlistEvent(db.Model):
    """The history of an entry: entered (by rule or by hand), reasons changed, left (by rule
    or by hand)."""

    __tablename__ = "watchlist_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("watchlist_entries.id",
                                                        ondelete="CASCADE"), nullable=False,
                                          index=True)
    kind: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    hits: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, nullable=False, default=list)
    #: In Chinese: the rules' reason (:func:`~inspect_app.watchlist.rules.say`) or a person's.
    note: Mapped[str | None] = mapped_column(sa.Text)
    #: The rules' reason as data (``Decision.note``); None for a note a person wrote.
    note_data: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    rule_set_version: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    entry: Mapped[WatchlistEntry] = relationship(back_populates="events")


ACTION_KINDS = {"on_site_training": "送教上门", "stationed_coaching": "驻点辅导",
                "interview": "约谈", "other": "其他"}


class CoachingAction(db.Model):
    """A follow-up on an entry: on-site training, stationed coaching, an interview…"""

    __tablename__ = "coaching_actions"
    __table_args__ = (sa.UniqueConstraint("entry_id", "client_id",
                                          name="uq_coaching_actions_entry_client"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("watchlist_entries.id",
                                                        ondelete="CASCADE"), nullable=False,
                                          index=True)
    kind: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    held_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    people: Mapped[str] = mapped_column(sa.String(500), nullable=False)
    notes: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    #: Files in the photo store: ``[{"key", "name", "content_type", "size"}]``.
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, nullable=False,
                                                              default=list)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    #: The sender's id for this record (the page's form, an API client): the same record sent
    #: again — a retry, a second tap — is this one, not a second.
    client_id: Mapped[str | None] = mapped_column(sa.String(64))

    entry: Mapped[WatchlistEntry] = relationship(back_populates="actions")


class QueueDay(db.Model):
    """Queue-system figures of one outlet on one day (排队系统数据), imported from CSV."""

    __tablename__ = "queue_days"
    __table_args__ = (sa.UniqueConstraint("outlet_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), nullable=False)
    day: Mapped[date] = mapped_column(sa.Date, nullable=False, index=True)
    customers_served: Mapped[int] = mapped_column(nullable=False)
    customers_over_limit: Mapped[int] = mapped_column(nullable=False)


class PeriodScore(db.Model):
    """One unit's figures for one ranking period (week, month or quarter), kept up to date.

    Rankings, the inflation view and bulletins read these rows instead of aggregating
    inspections per request: a branch of thousands of outlets is one indexed read. One row per
    (period, mode filter, unit): ``mode`` is ``""`` for the figures over all modes (the
    combined score) and a mode's value for the ranking by that mode. Sub-branch rows pool the
    inspections of their active outlets. Maintained by :mod:`inspect_app.watchlist.period_scores`
    whenever an inspection's score, status, outlet or submission time changes (in the same
    transaction), and rebuilt in bulk by ``flask --app inspect_app watchlist rebuild-scores``.
    Values are rounded to two places, as every page and export prints them. The primary key
    leads with the period and the mode filter, so a ranking is one range of the key.
    """

    __tablename__ = "period_scores"
    #: SQLite: store the rows in primary-key order, so a ranking reads one contiguous range
    __table_args__ = {"sqlite_with_rowid": False}

    period_kind: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    period_start: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    mode: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id", ondelete="CASCADE"),
                                         primary_key=True, index=True)
    unit_kind: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    inspections: Mapped[int] = mapped_column(nullable=False)
    combined: Mapped[float | None] = mapped_column(sa.Float)
    grade: Mapped[str | None] = mapped_column(sa.String(16))
    self_mean: Mapped[float | None] = mapped_column(sa.Float)
    independent_mean: Mapped[float | None] = mapped_column(sa.Float)
    gap: Mapped[float | None] = mapped_column(sa.Float)


class PeriodFailure(db.Model):
    """How often one checklist item failed in a whole branch in one period, kept up to date.

    The most-failed-items view of a service manager (whose scope is the whole branch) reads
    these few rows (one per item) instead of counting the period's findings per request;
    narrower scopes (a sub-branch manager, a sub-branch filter) count their few findings live.
    ``unit_id`` is the top-level unit (the branch). Overturned findings are not counted.
    Maintained by :mod:`inspect_app.watchlist.period_scores` like :class:`PeriodScore`.
    """

    __tablename__ = "period_failures"
    __table_args__ = {"sqlite_with_rowid": False}

    period_kind: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    period_start: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id", ondelete="CASCADE"),
                                         primary_key=True, index=True)
    item_code: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    item_text: Mapped[str] = mapped_column(sa.Text, nullable=False)
    failures: Mapped[int] = mapped_column(nullable=False)
    outlets: Mapped[int] = mapped_column(nullable=False)
