"""Bulk export: every sub-branch's list for a month as one ZIP, through a background job
(API: start → poll → download) and from the command line."""
from __future__ import annotations

import io
import os
import signal
import time
import zipfile
from datetime import timedelta

import pytest
import sqlalchemy as sa

from inspect_app.auth.models import User
from inspect_app.db import utcnow
from inspect_app.extensions import db
from inspect_app.orgs.models import OrgKind, OrgUnit
from inspect_app.rectification.operations import local_today
from inspect_app.reports import jobs
from inspect_app.reports.jobs import ABANDONED, JobStatus, ReportJob, shutdown_executor


def subbranch_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(OrgUnit).where(
        OrgUnit.kind == OrgKind.subbranch, OrgUnit.is_active.is_(True)))


def pdf_names(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        assert all(archive.read(name).startswith(b"%PDF") for name in names)
    return names


def poll_until_finished(client, api, url: str, seconds: float = 120) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        job = client.get(url, headers=api("fwgl")).get_json()
        if job["status"] in {"done", "failed"} or time.monotonic() > deadline:
            return job
        time.sleep(0.3)


def test_export_job_zips_one_pdf_per_subbranch(app, client, api, failed_inspection):
    """Does the export job (run synchronously here) produce a ZIP with one PDF per
    sub-branch, polled and downloaded through the API, for its creator only?"""
    app.config["REPORT_JOBS_SYNC"] = True
    inspection, _ = failed_inspection(count=1)
    period = local_today().strftime("%Y-%m")
    refused = client.post("/api/v1/rectification/exports", json={"period": period},
                          headers=api("zh.lubei"))
    assert refused.status_code == 403
    started = client.post("/api/v1/rectification/exports", json={"period": period},
                          headers=api("fwgl"))
    assert started.status_code == 202, started.get_json()
    job = started.get_json()
    assert job["status"] == "done" and job["progress"] == 100
    assert job["done"] == job["total"] == subbranch_count()
    polled = client.get(f"/api/v1/rectification/exports/{job['id']}", headers=api("fwgl"))
    assert polled.get_json()["download_url"].endswith(f"/exports/{job['id']}/download")
    download = client.get(polled.get_json()["download_url"], headers=api("fwgl"))
    assert download.status_code == 200 and download.mimetype == "application/zip"
    names = pdf_names(download.data)
    assert len(names) == subbranch_count()
    assert any(inspection.outlet.parent.name in name for name in names)
    assert client.get(f"/api/v1/rectification/exports/{job['id']}",
                      headers=api("fwgl2")).status_code == 404
    # a job still running has nothing to download yet: 409, not "not found"
    from inspect_app.reports.jobs import JobStatus, ReportJob

    db.session.get(ReportJob, job["id"]).status = JobStatus.running
    db.session.commit()
    early = client.get(polled.get_json()["download_url"], headers=api("fwgl"))
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "job_not_done"


@pytest.fixture
def pooled(app):
    """Jobs run in the real process pool (spawned workers with their own app)."""
    app.config["REPORT_JOBS_SYNC"] = False
    yield
    shutdown_executor()


def start_export(client, api) -> str:
    """Start this month's export as the service manager; the job's URL."""
    started = client.post("/api/v1/rectification/exports",
                          json={"period": local_today().strftime("%Y-%m")}, headers=api("fwgl"))
    assert started.status_code == 202, started.get_json()
    assert started.get_json()["status"] in {"queued", "running"}
    return f"/api/v1/rectification/exports/{started.get_json()['id']}"


def test_export_job_runs_in_the_process_pool(client, api, failed_inspection, pooled):
    """Does the real path — a spawned worker process with its own app — finish the job and
    store the ZIP where any web worker can serve it?"""
    failed_inspection(count=1)
    job = poll_until_finished(client, api, start_export(client, api))
    assert job["status"] == "done", job
    download = client.get(job["download_url"], headers=api("fwgl"))
    assert len(pdf_names(download.data)) == subbranch_count()


def test_an_export_whose_process_was_killed_fails_and_the_next_one_runs(client, api,
                                                                       failed_inspection,
                                                                       pooled):
    """Is a job whose worker process is SIGKILLed reported failed (not "running" for ever),
    and does the next export get a fresh pool and finish?"""
    failed_inspection(count=1)
    url = start_export(client, api)
    children = list(jobs.executor()._processes)  # spawned, still importing the app
    assert children
    for pid in children:
        os.kill(pid, signal.SIGKILL)
    job = poll_until_finished(client, api, url, seconds=60)
    assert job["status"] == "failed" and job["error"] == ABANDONED, job
    job = poll_until_finished(client, api, start_export(client, api))
    assert job["status"] == "done", job
    # an idle child dying (the OOM killer's choice) breaks the pool with no job to fail:
    # the next export still runs
    pool = jobs.executor()
    for pid in list(pool._processes):
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while not pool._broken and time.monotonic() < deadline:
        time.sleep(0.1)
    assert pool._broken
    job = poll_until_finished(client, api, start_export(client, api))
    assert job["status"] == "done", job


def test_an_export_without_progress_for_too_long_is_reported_failed(app, client, api, demo):
    """When the process that ran a job is gone with its web worker, is the job reported
    failed once it has made no progress for REPORT_JOB_STALE_MINUTES — and a job that is
    moving left alone?"""
    by = db.session.scalar(sa.select(User).where(User.username == "fwgl"))
    stale, moving = (ReportJob(kind="rectification_lists_zip", params={"period": "2026-11"},
                               status=JobStatus.running, created_by_id=by.id, done=3, total=12)
                     for _ in range(2))
    db.session.add_all([stale, moving])
    db.session.flush()
    db.session.execute(sa.update(ReportJob).where(ReportJob.id == stale.id)
                       .values(updated_at=utcnow() - timedelta(minutes=31)))
    db.session.commit()
    stale_id, moving_id = stale.id, moving.id
    polled = client.get(f"/api/v1/rectification/exports/{stale_id}", headers=api("fwgl"))
    assert polled.get_json()["status"] == "failed"
    assert polled.get_json()["error"] == ABANDONED
    polled = client.get(f"/api/v1/rectification/exports/{moving_id}", headers=api("fwgl"))
    assert polled.get_json()["status"] == "running"
    # a job queued that long waits behind a pool that is still moving...
    waiting = ReportJob(kind="rectification_lists_zip", params={"period": "2026-11"},
                        status=JobStatus.queued, created_by_id=by.id)
    db.session.add(waiting)
    db.session.flush()
    db.session.execute(sa.update(ReportJob).where(ReportJob.id == waiting.id)
                       .values(updated_at=utcnow() - timedelta(minutes=45)))
    db.session.commit()
    waiting_id = waiting.id
    url = f"/api/v1/rectification/exports/{waiting_id}"
    assert client.get(url, headers=api("fwgl")).get_json()["status"] == "queued"
    # ...but once nothing has moved for that long, nothing will run it
    db.session.execute(sa.update(ReportJob).where(ReportJob.id == moving_id)
                       .values(updated_at=utcnow() - timedelta(minutes=40)))
    db.session.commit()
    polled = client.get(url, headers=api("fwgl")).get_json()
    assert polled["status"] == "failed" and polled["error"] == ABANDONED


def test_cli_exports_the_lists_with_a_progress_bar(runner, demo, tmp_path):
    """Does ``flask rectification export-lists`` write the ZIP and report what it did?"""
    output = tmp_path / "lists.zip"
    result = runner.invoke(args=["rectification", "export-lists", "--period", "2026-11",
                                 "--output", str(output), "--as-user", "fwgl"])
    assert result.exit_code == 0, result.output
    assert "已导出" in result.output
    assert len(pdf_names(output.read_bytes())) == subbranch_count()
    bad = runner.invoke(args=["rectification", "export-lists", "--period", "11-2026",
                              "--output", str(output), "--as-user", "fwgl"])
    assert bad.exit_code != 0 and "YYYY-MM" in bad.output


def test_the_exported_copy_holds_back_the_items_of_an_inspection_returned_for_correction(
        app, client, api, failed_inspection):
    """An inspection is returned to its inspector: does the sub-branch's list in the bulk
    export (handed to the sub-branch) leave its items out, as the sub-branch manager's own
    download does?"""
    from inspect_app.rectification.documents import parse_period, subbranch_list

    from .conftest import items_of, subbranch_manager_of

    inspection, _ = failed_inspection(count=1)
    returned = client.post(f"/api/v1/inspections/{inspection.id}/return",
                           json={"reason": "请补充说明"}, headers=api("fwgl"))
    assert returned.status_code == 200, returned.get_json()
    held = (inspection.outlet.code, items_of(inspection)[0].item_code)
    start, end = parse_period(local_today().strftime("%Y-%m"))

    def user(name: str) -> User:
        return db.session.scalar(sa.select(User).where(User.username == name))

    def rows(context: dict) -> list[tuple[str, str]]:
        return [(outlet["code"], row["item_code"]) for outlet in context["outlets"]
                for row in outlet["items"]]

    with app.test_request_context():
        exported = subbranch_list(inspection.outlet.parent, user("fwgl"), start, end,
                                  audience="outlet").context  # as export_lists makes it
        own = subbranch_list(inspection.outlet.parent,
                             user(subbranch_manager_of(inspection)), start, end).context
    assert held not in rows(exported)
    assert rows(exported) == rows(own) and exported["summary"] == own["summary"]
