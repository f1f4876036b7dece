"""Faults inside one request: a crash halfway through a photo upload or a submission, and a
disk that fills up halfway through storing a photo. Nothing half-written may remain, and the
client's retry with the same keys must succeed — once.

The same faults on a real gunicorn (a worker SIGKILLed mid-upload, the database dropping every
connection under load) are in ``test_live.py``.
"""
from __future__ import annotations

import errno
import io
import uuid

import pytest
import sqlalchemy as sa

from inspect_app.evidence import operations as evidence_operations
from inspect_app.evidence.models import Photo
from inspect_app.evidence.storage import LocalStorage
from inspect_app.extensions import db
from inspect_app.inspections import operations as inspection_operations
from inspect_app.inspections.models import (
    Finding,
    Inspection,
    InspectionAnswer,
    InspectionScore,
    InspectionStatus,
    Submission,
)

from ..helpers import attach_photos, filler_of, jpeg, passing_answers


class Crash(RuntimeError):
    """What a worker dying at that line looks like to the database: the transaction never
    commits."""


def count(model, **where) -> int:
    query = sa.select(sa.func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return db.session.scalar(query)


def upload(client, headers, inspection, client_id, data):
    return client.post(f"/api/v1/inspections/{inspection.id}/photos", headers=headers,
                       data={"client_id": client_id, "item_code": inspection.form_items()[0].code,
                             "file": (io.BytesIO(data), "p.jpg")},
                       content_type="multipart/form-data")


@pytest.fixture
def spot(first):
    return first("spot_check")


def test_crash_after_the_files_are_stored_leaves_no_photo_record(client, api, spot,
                                                                 monkeypatch):
    """If the request dies after the blobs are written but before the row commits, is there
    no photo row, and does the retry with the same client id store it exactly once?"""
    headers, key, data = api(filler_of(spot)), str(uuid.uuid4()), jpeg(21)

    def crash(*args, **kwargs):
        raise Crash("worker died")

    with monkeypatch.context() as patch:
        patch.setattr(evidence_operations, "record", crash)
        assert upload(client, headers, spot, key, data).status_code == 500
    assert count(Photo) == 0
    retry = upload(client, headers, spot, key, data)
    assert retry.status_code == 201, retry.get_json()
    again = upload(client, headers, spot, key, data)
    assert again.status_code == 200 and again.get_json()["id"] == retry.get_json()["id"]
    assert count(Photo, client_id=key) == 1


def test_crash_in_the_middle_of_a_submission_leaves_nothing_half_written(client, api, spot,
                                                                          monkeypatch):
    """If scoring's last step dies after answers and findings were added, are there no
    answers, findings or scores, is the inspection still open, and does the retry with the
    same Idempotency-Key submit it once?"""
    headers = api(filler_of(spot))
    items = client.get(f"/api/v1/inspections/{spot.id}", headers=headers).get_json()[
        "checklist"]["items"]
    fail = next(i["code"] for i in items if i["response_type"] == "pass_fail"
                and not i["red_line"])
    answers = passing_answers(items, fail=(fail,))
    attach_photos(client, headers, spot.id, items, answers)
    key = str(uuid.uuid4())

    def submit():
        return client.post(f"/api/v1/inspections/{spot.id}/submit", json={"answers": answers},
                           headers={**headers, "Idempotency-Key": key})

    def crash(*args, **kwargs):
        raise Crash("worker died while scoring")

    with monkeypatch.context() as patch:
        patch.setattr(inspection_operations, "_store_score", crash)
        assert submit().status_code == 500
    inspection = db.session.get(Inspection, spot.id)
    assert inspection.status is not InspectionStatus.submitted
    assert count(InspectionAnswer, inspection_id=spot.id) == 0
    assert count(Finding, inspection_id=spot.id) == 0
    assert count(InspectionScore, inspection_id=spot.id) == 0
    assert count(Submission, key=key) == 0  # the key was released for the retry
    first_try, replay = submit(), submit()
    assert first_try.status_code == 200, first_try.get_json()
    assert replay.status_code == 200 and replay.get_json() == first_try.get_json()
    assert count(InspectionScore, inspection_id=spot.id) == 1
    assert count(Finding, inspection_id=spot.id) == 1
    assert count(InspectionAnswer, inspection_id=spot.id) == len(items)


@pytest.mark.parametrize("full_on_call", [1, 2, 3])
def test_disk_full_while_storing_any_rendition_is_507_without_records(app, client, api, spot,
                                                                      monkeypatch, full_on_call):
    """Whichever of the three files (original, display, thumbnail) meets the full disk, is
    the answer a clear 507, with no photo row and no audit entry, and does the retry succeed
    once space is back?"""
    from inspect_app.audit.models import AuditEntry

    headers, key, data = api(filler_of(spot)), str(uuid.uuid4()), jpeg(22)
    real_put, calls = LocalStorage.put, []

    def filling_put(self, blob, **kwargs):
        calls.append(1)
        if len(calls) >= full_on_call:
            from inspect_app.evidence.storage import StorageFull

            raise StorageFull(f"[Errno {errno.ENOSPC}] No space left on device")
        return real_put(self, blob, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(LocalStorage, "put", filling_put)
        response = upload(client, headers, spot, key, data)
    assert response.status_code == 507
    assert response.get_json()["error"]["code"] == "storage_full"
    assert "存储空间不足" in response.get_json()["error"]["message"]
    assert count(Photo) == 0
    assert count(AuditEntry, action="photo.upload") == 0
    retry = upload(client, headers, spot, key, data)
    assert retry.status_code == 201, retry.get_json()
    assert count(Photo, client_id=key) == 1
