"""Bulk export: every sub-branch's list for a month as one ZIP, through a background job
(API: start → poll → download) and from the command line."""
from __future__ import annotations

import io
import time
import zipfile

import sqlalchemy as sa

from inspect_app.extensions import db
from inspect_app.orgs.models import OrgKind, OrgUnit
from inspect_app.rectification.operations import local_today
from inspect_app.reports.jobs import shutdown_executor


def subbranch_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(OrgUnit).where(
        OrgUnit.kind == OrgKind.subbranch, OrgUnit.is_active.is_(True)))


def pdf_names(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        assert all(archive.read(name).startswith(b"%PDF") for name in names)
    return names


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


def test_export_job_runs_in_the_process_pool(app, client, api, failed_inspection):
    """Does the real path — a spawned worker process with its own app — finish the job and
    store the ZIP where any web worker can serve it?"""
    app.config["REPORT_JOBS_SYNC"] = False
    failed_inspection(count=1)
    period = local_today().strftime("%Y-%m")
    try:
        started = client.post("/api/v1/rectification/exports", json={"period": period},
                              headers=api("fwgl"))
        assert started.status_code == 202, started.get_json()
        assert started.get_json()["status"] in {"queued", "running"}
        url = f"/api/v1/rectification/exports/{started.get_json()['id']}"
        deadline = time.monotonic() + 120
        while True:
            job = client.get(url, headers=api("fwgl")).get_json()
            if job["status"] in {"done", "failed"} or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert job["status"] == "done", job
        download = client.get(job["download_url"], headers=api("fwgl"))
        assert len(pdf_names(download.data)) == subbranch_count()
    finally:
        shutdown_executor()


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
