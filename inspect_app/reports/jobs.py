"""Background report jobs: long renderings (e.g. every sub-branch's rectification list as a ZIP)
run outside the web worker, in a small process pool, with their state in the database.

- :class:`ReportJob` rows hold kind, parameters, status, progress and the result's storage key, so
  any web worker can answer a poll, whichever worker started the job.
- :func:`start_job` commits the row, then hands the job to a
  :class:`concurrent.futures.ProcessPoolExecutor` (``spawn`` context: each child builds its own
  application from the parent's configuration and opens its own database connections). With
  ``REPORT_JOBS_SYNC`` set (tests, the CLI) the job runs in the calling process instead.
- Job functions are found by key in :data:`JOB_KINDS` (``"module:function"`` strings, importable
  in a fresh child) and are called as ``fn(params, progress=…, by=user)``; they return
  ``(bytes, filename, content_type)``. The bytes go to the photo storage backend
  (content-addressed), so every worker — and an S3 deployment — can serve them.
- Children are recycled after ``REPORT_MAX_TASKS_PER_CHILD`` jobs, so WeasyPrint's caches never
  bloat a long-lived process.
- A job is never left "running" for ever: if its child process dies (killed, out of memory)
  the pool's callback marks it failed at once and a broken pool is replaced; if the web worker
  that owned the pool died too, the first poll after ``REPORT_JOB_STALE_MINUTES`` marks it
  failed (:func:`settle_abandoned`). Either way the person polling is told to start it again.
"""
from __future__ import annotations

import enum
import importlib
import logging
import multiprocessing
import os
import pickle
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..audit.operations import record
from ..auth.models import User
from ..db import JSONType, TimestampMixin, UTCDateTime, enum_column, utcnow
from ..errors import DomainError, InvalidInput
from ..extensions import db
from ..i18n import N_

log = logging.getLogger(__name__)

#: Job kinds: key → ``"module:function"``.
JOB_KINDS: dict[str, str] = {
    "rectification_lists_zip": "inspect_app.rectification.documents:export_lists_job",
}


class JobStatus(enum.Enum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"

    @property
    def label(self) -> str:
        return {"queued": "排队中", "running": "生成中", "done": "已完成",
                "failed": "失败"}[self.value]


class ReportJob(TimestampMixin, db.Model):
    """One background rendering: what was asked, how far it got, where the result is."""

    __tablename__ = "report_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Key of :data:`JOB_KINDS`.
    kind: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    status: Mapped[JobStatus] = mapped_column(enum_column(JobStatus), nullable=False,
                                              default=JobStatus.queued, index=True)
    #: Units of work done and to do (e.g. sub-branch lists rendered / to render).
    done: Mapped[int] = mapped_column(nullable=False, default=0)
    total: Mapped[int] = mapped_column(nullable=False, default=0)
    #: Storage key (content address) of the result once done.
    result_key: Mapped[str | None] = mapped_column(sa.String(64))
    result_name: Mapped[str | None] = mapped_column(sa.String(200))
    result_type: Mapped[str | None] = mapped_column(sa.String(100))
    result_size: Mapped[int | None] = mapped_column()
    #: What went wrong, for the person who asked (no stack traces: those are in the log).
    error: Mapped[str | None] = mapped_column(sa.Text)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), nullable=False,
                                               index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    created_by: Mapped[User] = relationship()

    @property
    def progress(self) -> int:
        """Percent done (0–100)."""
        if self.status is JobStatus.done:
            return 100
        return int(100 * self.done / self.total) if self.total else 0


def _job_function(kind: str) -> Callable[..., tuple[bytes, str, str]]:
    try:
        module, _, name = JOB_KINDS[kind].partition(":")
    except KeyError as exc:
        raise InvalidInput(N_("未知的报表任务：%(kind)s"), kind=kind, code="unknown_job_kind") from exc
    return getattr(importlib.import_module(module), name)


def start_job(kind: str, params: dict[str, Any], *, by: User) -> ReportJob:
    """Record a job and start it (in the pool, or here with ``REPORT_JOBS_SYNC``). Commits."""
    _job_function(kind)  # unknown kinds fail now, not in a child
    job = ReportJob(kind=kind, params=params, status=JobStatus.queued, created_by_id=by.id)
    db.session.add(job)
    db.session.flush()
    record("report_job.start", job, actor=by, after={"kind": kind, "params": params})
    db.session.commit()
    job_id = job.id
    if current_app.config.get("REPORT_JOBS_SYNC"):
        run_job(job_id)
    else:
        app = current_app._get_current_object()
        for attempt in range(2):
            pool = executor()
            try:
                future = pool.submit(_run_in_child, child_config(), job_id)
            except BrokenProcessPool:  # its children died while idle: a fresh pool, once
                _replace(pool)
                if attempt:
                    _fail_unfinished(job_id)
                    raise
                continue
            future.add_done_callback(lambda done: _after_child(app, pool, job_id, done))
            break
    db.session.refresh(job)
    return job


#: What the person polling a job whose process died is told.
ABANDONED = N_("生成中断（处理进程意外停止），请重新发起导出")
_UNFINISHED = (JobStatus.queued, JobStatus.running)


def _fail_unfinished(job_id: int, *, idle_since: datetime | None = None) -> bool:
    """Mark a queued or running job failed as abandoned (only if it has not moved since
    ``idle_since``, when given). True if it was."""
    condition = [ReportJob.id == job_id, ReportJob.status.in_(_UNFINISHED)]
    if idle_since is not None:
        condition.append(ReportJob.updated_at <= idle_since)
    now = utcnow()
    with db.engine.begin() as conn:
        changed = conn.execute(sa.update(ReportJob).where(*condition).values(
            status=JobStatus.failed, error=ABANDONED, finished_at=now, updated_at=now)).rowcount
    return bool(changed)


def settle_abandoned(job: ReportJob) -> ReportJob:
    """Mark failed a job whose process is gone (e.g. with the web worker that owned the pool):
    a running job without progress for ``REPORT_JOB_STALE_MINUTES`` (it reports progress at
    every unit of work, so only a dead one stays still that long), or a queued job that old
    while no job has progressed or finished meanwhile (a queue behind a busy pool waits)."""
    if job.status not in _UNFINISHED:
        return job
    minutes = int(current_app.config.get("REPORT_JOB_STALE_MINUTES", 30))
    idle_since = utcnow() - timedelta(minutes=minutes)
    if job.updated_at > idle_since:
        return job  # moved recently: no query, no write (this runs on every poll)
    if job.status is JobStatus.queued and db.session.scalar(
            sa.select(sa.func.count()).select_from(ReportJob).where(sa.or_(
                sa.and_(ReportJob.status == JobStatus.running,
                        ReportJob.updated_at > idle_since),
                sa.and_(ReportJob.finished_at > idle_since,
                        sa.or_(ReportJob.error.is_(None), ReportJob.error != ABANDONED))))):
        return job  # a pool is working through the queue
    if _fail_unfinished(job.id, idle_since=idle_since):
        log.error("report job %s (%s) abandoned: no progress for %s minutes", job.id, job.kind,
                  minutes)
        db.session.refresh(job)
    return job


def _set(job_id: int, **values: Any) -> None:
    """Update a job row on its own connection, committed at once (pollers see it now), without
    touching the session the job function reads with."""
    with db.engine.begin() as conn:
        conn.execute(sa.update(ReportJob).where(ReportJob.id == job_id)
                     .values(updated_at=utcnow(), **values))


def run_job(job_id: int) -> None:
    """Run one job in the current application context and store its result or its error."""
    from ..evidence.operations import storage

    job = db.session.get(ReportJob, job_id)
    if job is None or job.status is not JobStatus.queued:
        return
    kind, params, by = job.kind, dict(job.params), job.created_by
    _set(job_id, status=JobStatus.running, started_at=utcnow())

    def progress(done: int, total: int) -> None:
        _set(job_id, done=done, total=total)

    try:
        data, name, content_type = _job_function(kind)(params, progress=progress, by=by)
        key = storage().put(data, content_type=content_type)
    except DomainError as exc:
        db.session.rollback()
        _set(job_id, status=JobStatus.failed, error=exc.message, finished_at=utcnow())
        return
    except Exception:
        db.session.rollback()
        log.exception("report job %s (%s) failed", job_id, kind)
        _set(job_id, status=JobStatus.failed, error=N_("生成失败，请稍后重试或联系管理员"),
             finished_at=utcnow())
        return
    db.session.rollback()  # the job only read; end its transaction before the final update
    _set(job_id, status=JobStatus.done, result_key=key, result_name=name,
         result_type=content_type, result_size=len(data), finished_at=utcnow())
    db.session.expire_all()


# -- the process pool -------------------------------------------------------------------------

_EXECUTOR: ProcessPoolExecutor | None = None
_EXECUTOR_LOCK = threading.Lock()


def executor() -> ProcessPoolExecutor:
    """The process-wide pool (created on first use; ``spawn``: no forked Flask/DB state)."""
    global _EXECUTOR
    with _EXECUTOR_LOCK:
        if _EXECUTOR is None:
            _EXECUTOR = ProcessPoolExecutor(
                max_workers=int(current_app.config.get("REPORT_WORKERS", 1)),
                mp_context=multiprocessing.get_context("spawn"),
                max_tasks_per_child=int(current_app.config.get("REPORT_MAX_TASKS_PER_CHILD", 20)),
                initializer=exit_with_parent, initargs=(os.getpid(),))
        return _EXECUTOR


def exit_with_parent(parent_pid: int, *, interval: float = 2.0) -> threading.Thread:
    """In a pool's child: leave as soon as the process that started it is gone. A web worker
    killed (its timeout, a restart) never shuts its pool down, and the orphaned children would
    otherwise live on, each holding a database connection."""
    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(interval)
        os._exit(0)

    thread = threading.Thread(target=watch, name="exit-with-parent", daemon=True)
    thread.start()
    return thread


def shutdown_executor() -> None:
    """Stop the pool (tests, and a clean shutdown)."""
    global _EXECUTOR
    with _EXECUTOR_LOCK:
        if _EXECUTOR is not None:
            _EXECUTOR.shutdown(wait=True)
            _EXECUTOR = None


def child_config() -> dict[str, Any]:
    """The parent's configuration, as far as it can travel to a child process."""
    config = {}
    for key, value in current_app.config.items():
        try:
            pickle.dumps(value)
        except Exception:
            continue
        config[key] = value
    return config


_CHILD_APPS: dict[bytes, Any] = {}


def _run_in_child(config: dict[str, Any], job_id: int) -> None:
    """Entry point in the pool's child: one app per configuration, then :func:`run_job`."""
    from .. import create_app

    key = pickle.dumps(sorted(config.items(), key=lambda kv: kv[0]))
    app = _CHILD_APPS.get(key)
    if app is None:
        app = _CHILD_APPS[key] = create_app(config)
    with app.app_context():
        try:
            run_job(job_id)
        finally:
            db.session.remove()


def _after_child(app, pool: ProcessPoolExecutor, job_id: int, future: Future) -> None:
    """The pool's callback: a child that died outside :func:`run_job`'s own error handling
    (killed, out of memory) leaves its job failed, not running; a broken pool is replaced."""
    exc = future.exception()
    if exc is None:
        return
    log.error("report job %s: its process failed: %r", job_id, exc)
    if isinstance(exc, BrokenProcessPool):
        _replace(pool)  # first: whoever retries after seeing "failed" gets a working pool
    try:
        with app.app_context():
            _fail_unfinished(job_id)
    except Exception:  # the database is away: the poll marks it failed once it is stale
        log.exception("report job %s: could not be marked failed", job_id)


def _replace(pool: ProcessPoolExecutor) -> None:
    """Drop a broken pool; the next job starts a fresh one."""
    global _EXECUTOR
    with _EXECUTOR_LOCK:
        if _EXECUTOR is pool:
            _EXECUTOR = None
    pool.shutdown(wait=False)
