"""Photo evidence through the API: intake, duplicates, hostile files, flags, private serving."""
from __future__ import annotations

import io
import os

import pytest
import sqlalchemy as sa
from PIL import Image

from inspect_app.evidence.models import Photo
from inspect_app.extensions import db
from inspect_app.inspections.models import Inspection

from ..helpers import counted_statements, filler_of, jpeg, new_key


@pytest.fixture
def spot(first):
    return first("spot_check")


def upload(client, headers, inspection_id, data: bytes, *, item="ENV-01", client_id=None,
           name="photo.jpg", facts=None):
    form = {"client_id": client_id or new_key(), "item_code": item,
            "file": (io.BytesIO(data), name)}
    if facts is not None:
        import json
        form["client_facts"] = json.dumps(facts)
    return client.post(f"/api/v1/inspections/{inspection_id}/photos", headers=headers,
                       data=form, content_type="multipart/form-data")


def stored_files(app) -> int:
    root = app.config["PHOTO_STORAGE_ROOT"]
    return sum(len(files) for _, _, files in os.walk(root)) if os.path.isdir(root) else 0


def test_inspector_attaches_a_photo_and_gets_its_sha256(client, api, spot):
    """Does an upload return the photo with its SHA-256, size and rendition links?"""
    import hashlib

    data = jpeg(1)
    response = upload(client, api(filler_of(spot)), spot.id, data)
    assert response.status_code == 201, response.get_json()
    photo = response.get_json()
    assert photo["sha256"] == hashlib.sha256(data).hexdigest()
    assert photo["thumbnail_url"].endswith("/thumb")


def test_resending_the_same_photo_never_stores_a_second_copy(app, client, api, spot):
    """Does re-sending with the same client id return the stored record (200), not a copy?"""
    headers, key, data = api(filler_of(spot)), new_key(), jpeg(2)
    first = upload(client, headers, spot.id, data, client_id=key)
    files = stored_files(app)
    again = upload(client, headers, spot.id, data, client_id=key)
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Photo)) == 1
    assert stored_files(app) == files


def test_other_bytes_under_a_used_client_id_are_refused(app, client, api, spot):
    """Another photo sent under a client id already used is not answered with the first
    photo as if it had been stored: a 422 ``client_id_reused``, and nothing stored."""
    headers, key = api(filler_of(spot)), new_key()
    first = upload(client, headers, spot.id, jpeg(2), client_id=key)
    files = stored_files(app)
    other = upload(client, headers, spot.id, jpeg(3), client_id=key)
    assert first.status_code == 201 and other.status_code == 422, other.get_json()
    assert other.get_json()["error"]["code"] == "client_id_reused"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Photo)) == 1
    assert stored_files(app) == files


@pytest.mark.parametrize("name,data,status", [
    ("empty.jpg", b"", 400),
    ("drawing.jpg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
     415),
    ("report.jpg", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", 415),
    ("page.png", b"<!doctype html><html><body>hi</body></html>", 415),
    ("setup.jpg", b"MZ\x90\x00" + b"\x00" * 200, 415),
    ("cut.jpg", None, 422),
    ("../../etc/passwd.jpg", None, 422),
])
def test_hostile_or_broken_files_are_refused_and_nothing_is_stored(app, client, api, spot,
                                                                   name, data, status):
    """Is every non-photo, broken or disguised file refused with a JSON error, storing
    nothing?"""
    if data is None:
        data = jpeg(3)[:400]  # truncated JPEG
    response = upload(client, api(filler_of(spot)), spot.id, data, name=name)
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"]["message"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Photo)) == 0
    assert stored_files(app) == 0


def test_polyglot_is_refused(client, api, spot):
    """Is a JPEG with a PDF appended (a polyglot) refused?"""
    data = jpeg(4) + b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF"
    response = upload(client, api(filler_of(spot)), spot.id, data)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "polyglot_file"


def test_decompression_bomb_is_refused_without_decoding(client, api, spot, monkeypatch):
    """Is a tiny file claiming a huge picture refused with 422 before any decoding?"""
    buffer = io.BytesIO()
    Image.new("1", (12000, 12000)).save(buffer, "PNG")  # ~144 MP, a few KB compressed
    monkeypatch.setattr(Image.Image, "load", lambda self: pytest.fail("decoded a bomb"))
    response = upload(client, api(filler_of(spot)), spot.id, buffer.getvalue(), name="b.png")
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "too_many_pixels"


def test_oversized_request_gets_a_json_413(app, client, api, spot):
    """Is a body over the size limit answered with 413 in the JSON error shape?"""
    app.config["MAX_CONTENT_LENGTH"] = 50_000
    response = upload(client, api(filler_of(spot)), spot.id, jpeg(5, (400, 400)) + b"0" * 60_000)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"


def test_renditions_are_private_stripped_and_cacheable(client, api, spot):
    """Are renditions served only to those who may see the inspection, without metadata, with
    an ETag that answers 304?"""
    headers = api(filler_of(spot))
    photo = upload(client, headers, spot.id, jpeg(6, (800, 600))).get_json()
    response = client.get(photo["display_url"], headers=headers)
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert "inline" in response.headers["Content-Disposition"]
    assert "private" in response.headers["Cache-Control"]
    picture = Image.open(io.BytesIO(response.data))
    assert not picture.getexif() and "exif" not in picture.info
    again = client.get(photo["display_url"], headers={**headers,
                                                      "If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    assert client.get(photo["display_url"], headers=api("wd.cfd01")).status_code == 404
    assert client.get(photo["display_url"]).status_code == 401
    assert client.get("/static/../instance/photos").status_code == 404


def test_flags_reused_photo_from_another_inspection(client, api, first):
    """Is the same photo attached to a second inspection flagged as re-used?"""
    spot, peer = first("spot_check"), first("peer_check")
    data = jpeg(7)
    upload(client, api(filler_of(spot)), spot.id, data)
    second = upload(client, api(filler_of(peer)), peer.id, data).get_json()
    flags = client.get(f"/api/v1/photos/{second['id']}", headers=api("fwgl")).get_json()["flags"]
    assert "reused_exact" in {f["code"] for f in flags}


def test_flags_near_duplicate_after_re_encoding(client, api, first):
    """Is a re-encoded copy of a photo used elsewhere flagged as similar?"""
    spot, peer = first("spot_check"), first("peer_check")
    original = jpeg(8, (320, 240))
    reencoded = io.BytesIO()
    Image.open(io.BytesIO(original)).save(reencoded, "JPEG", quality=60)
    upload(client, api(filler_of(spot)), spot.id, original)
    second = upload(client, api(filler_of(peer)), peer.id, reencoded.getvalue()).get_json()
    flags = client.get(f"/api/v1/photos/{second['id']}", headers=api("fwgl")).get_json()["flags"]
    assert {"reused_similar", "no_camera_metadata"} <= {f["code"] for f in flags}


def test_an_upload_costs_the_same_few_statements_however_many_photos_are_stored(client, api,
                                                                             first):
    """Does an upload run a fixed handful of SQL statements (no reloading after the commit,
    no scan of the stored photos), whether 1 or 30 photos are already stored?"""
    spot, peer = first("spot_check"), first("peer_check")
    targets = [(api(filler_of(spot)), spot.id), (api(filler_of(peer)), peer.id)]
    counts = []
    for seed in range(30):
        headers, inspection_id = targets[seed % 2]
        with counted_statements(db.engine) as statements:
            response = upload(client, headers, inspection_id, jpeg(100 + seed))
        assert response.status_code == 201, response.get_json()
        counts.append(len([s for s in statements if not s.startswith(("BEGIN", "COMMIT"))]))
    # the first use of a token also notes when it was used; one statement locks the
    # inspection to check, under the lock its submission takes, that it is still being filled
    assert max(counts) <= 10, counts
    assert len(set(counts[2::2])) == 1 and len(set(counts[3::2])) == 1, counts


def test_reuse_check_reads_the_dhash_indexes_not_the_table(app):
    """Does the re-used photo check look candidates up through the per-byte dhash indexes
    (and the SHA-256 index), rather than reading every stored photo?"""
    from inspect_app.evidence.operations import _REUSE_ANYWHERE, _REUSE_ELSEWHERE

    params = {"outlet_id": 1, "inspection_id": 2, "sha256": "ab" * 32, "agree": 2,
              **{f"band{i}": "0f" for i in range(8)}}
    with db.engine.connect() as conn:
        for query in (_REUSE_ELSEWHERE, _REUSE_ANYWHERE):
            sql = str(query.params(**params).compile(conn, compile_kwargs={"literal_binds": True}))
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # the table is tiny here
                plan = "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + sql))
            else:
                plan = "\n".join(row[-1] for row in conn.exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + sql))
            names = [f"ix_photos_dhash_byte{i}" for i in range(8)]
            assert all(name in plan for name in names) and "ix_photos_sha256" in plan, plan
            assert "Seq Scan" not in plan and "SCAN photos" not in plan, plan
        conn.rollback()


def test_reuse_check_fetches_only_photos_sharing_enough_of_the_dhash(client, api, spot):
    """Does the candidate query return a stored photo only when the hashes share enough bytes
    to be within the threshold (pictures with flat areas share single bytes by the thousand),
    or the same SHA-256?"""
    from inspect_app.evidence.operations import _REUSE_ANYWHERE, bytes_in_common

    headers = api(filler_of(spot))
    ids = [upload(client, headers, spot.id, jpeg(seed)).get_json()["id"] for seed in (40, 41)]
    older, newer = (db.session.get(Photo, photo_id) for photo_id in ids)
    newer.dhash = older.dhash  # a near-identical picture, stored later
    db.session.commit()
    stored = older.dhash

    def found(dhash: str, sha256: str = "0" * 64) -> list[int]:
        params = {"sha256": sha256, "agree": bytes_in_common(6),
                  **{f"band{i}": dhash[2 * i:2 * i + 2] for i in range(8)}}
        return sorted(row.id for row in db.session.execute(_REUSE_ANYWHERE, params))

    def flipped(dhash: str, positions: range) -> str:
        return "".join(f"{int(dhash[2 * i:2 * i + 2], 16) ^ 0x01:02x}" if i in positions
                       else dhash[2 * i:2 * i + 2] for i in range(8))

    assert bytes_in_common(6) == 2 and bytes_in_common(7) == 1 and bytes_in_common(12) == 1
    assert found(stored) == ids
    assert found(flipped(stored, range(6))) == ids  # six bits off: two bytes still agree
    assert found(flipped(stored, range(7))) == []  # one byte in common is not enough
    assert found(flipped(stored, range(8)), sha256=older.sha256) == [older.id]


def test_flags_far_away_and_out_of_window_photos(client, api, spot):
    """Are photos taken far from the outlet or outside the visit window flagged, with GPS
    shown only to service managers?"""
    facts = {"exif_gps": {"lat": 31.23, "lon": 121.47}, "exif_time": "2025-01-01T10:00:00",
             "source": "camera"}
    photo = upload(client, api(filler_of(spot)), spot.id, jpeg(9, exif=False),
                   facts=facts).get_json()
    manager_view = client.get(f"/api/v1/photos/{photo['id']}", headers=api("fwgl")).get_json()
    codes = {f["code"] for f in manager_view["flags"]}
    assert {"too_far", "outside_window"} <= codes
    assert manager_view["client_facts"]["exif_gps"]["source"] == "exif_before_resize"
    assert photo["gps"] is None  # the inspector does not get GPS back


def test_gps_is_hidden_from_the_outlet(client, api, first):
    """Does the outlet's view of a photo carry no GPS and no flags?"""
    from ..helpers import submit_filled

    spot = first("spot_check")
    submit_filled(client, api(filler_of(spot)), spot.id)
    code = spot.outlet.code.split("-")
    manager = api(f"wd.{code[1].lower()}{code[2]}")
    photos = client.get(f"/api/v1/inspections/{spot.id}/photos", headers=manager).get_json()
    assert photos and all(p["gps"] is None and p["flags"] is None for p in photos)


def test_photo_for_an_item_not_in_the_form_is_refused(client, api, first):
    """Is a photo for an item outside this inspection's form refused?"""
    spot = first("spot_check")
    response = upload(client, api(filler_of(spot)), spot.id, jpeg(10), item="NOPE-99")
    assert response.status_code == 422


def test_full_disk_gives_507_and_no_record(client, api, spot, monkeypatch):
    """When the disk is full, is the answer a clear 507 with no photo row left behind?"""
    import errno

    from inspect_app.evidence import storage as storage_module

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(storage_module.os, "fsync", full)
    response = upload(client, api(filler_of(spot)), spot.id, jpeg(11))
    assert response.status_code == 507
    assert response.get_json()["error"]["code"] == "storage_full"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Photo)) == 0
    assert db.session.get(Inspection, spot.id) is not None


def test_a_photo_file_missing_from_storage_is_logged_for_the_administrator(app, client, api, spot,
                                                                         caplog):
    """Evidence gone from storage (a disk restored without it): besides the user's 404
    photo_blob_missing, does the log carry a WARNING naming the photo and its SHA-256?"""
    photo = upload(client, api(filler_of(spot)), spot.id, jpeg(9)).get_json()
    stored = db.session.get(Photo, photo["id"])
    from inspect_app.evidence.operations import storage

    os.remove(storage().path(stored.original_key))
    response = client.get(f"/api/v1/photos/{photo['id']}/original", headers=api("fwgl"))
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "photo_blob_missing"
    warned = [r for r in caplog.records if r.levelname == "WARNING"
              and stored.sha256 in r.getMessage()]
    assert warned and f"photo {photo['id']}" in warned[0].getMessage()


def _submitted_by_another_request(inspection_id: int) -> None:
    """The inspection's submission commits now, on a connection of its own."""
    with db.engine.begin() as connection:
        connection.execute(sa.update(Inspection).where(Inspection.id == inspection_id)
                           .values(status="submitted"))


def test_a_photo_processed_while_the_inspection_is_submitted_is_refused(app, client, api, spot,
                                                                         monkeypatch):
    """The photo is still being processed when the inspection's submission commits (another
    tab, a team mate's phone): is the photo refused as the inspection is submitted — not
    attached to a submitted inspection, whose photos its submission has already decided?"""
    from inspect_app.evidence import operations

    headers = api(filler_of(spot))
    before = stored_files(app)
    real = operations.process_photo

    def submitted_meanwhile(data):
        processed = real(data)
        _submitted_by_another_request(spot.id)
        return processed

    monkeypatch.setattr(operations, "process_photo", submitted_meanwhile)
    response = upload(client, headers, spot.id, jpeg(31))
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["code"] == "not_editable"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Photo)
                             .where(Photo.inspection_id == spot.id)) == 0
    assert stored_files(app) == before


def test_a_photo_removed_while_the_inspection_is_submitted_stays(client, api, spot, monkeypatch):
    """× on a photo while the inspection's submission, which counted that photo, commits: is
    the removal refused — not the photo taken from a submitted inspection?"""
    from inspect_app.evidence import api as evidence_api

    headers = api(filler_of(spot))
    photo = upload(client, headers, spot.id, jpeg(32)).get_json()
    real = evidence_api.get_photo

    def submitted_meanwhile(photo_id, by):
        found = real(photo_id, by)
        _submitted_by_another_request(spot.id)
        return found

    monkeypatch.setattr(evidence_api, "get_photo", submitted_meanwhile)
    response = client.delete(f"/api/v1/photos/{photo['id']}", headers=headers)
    assert response.status_code == 403, response.get_json()
    assert response.get_json()["error"]["code"] == "photo_locked"
    db.session.expire_all()
    assert db.session.get(Photo, photo["id"]) is not None


def test_photos_of_a_shoppers_notes_stay_with_those_who_know_the_shopper(client, api, first):
    """A shopper photographs their ticket for EFF-09, an item the outlet's copy of the visit
    leaves out: is the photo neither listed nor served to the outlet or sub-branch manager
    ("not found"), while the service manager still sees it and the scored items' photos stay
    visible to all?"""
    from ..helpers import submit_filled, visit_times
    from ..inspections.test_visibility_and_appeals import (
        outlet_manager_of,
        subbranch_manager_of,
    )

    mystery = first("mystery_visit")
    shopper = api(mystery.assignee.username)
    uploaded = upload(client, shopper, mystery.id, jpeg(4242), item="EFF-09", name="ticket.jpg")
    assert uploaded.status_code == 201, uploaded.get_json()
    photo = uploaded.get_json()["id"]
    events = visit_times(mystery, arrival=0, ticket=1, called=10, served=11, left=25)
    response = submit_filled(client, shopper, mystery.id, extra={"events": events})
    assert response.status_code == 200, response.get_json()
    for username in (outlet_manager_of(mystery), subbranch_manager_of(mystery)):
        headers = api(username)
        listed = client.get(f"/api/v1/inspections/{mystery.id}/photos", headers=headers)
        codes = {p["item_code"] for p in listed.get_json()}
        assert "EFF-09" not in codes and codes, (username, codes)
        for path in (f"/api/v1/photos/{photo}", f"/api/v1/photos/{photo}/display",
                     f"/api/v1/photos/{photo}/thumb"):
            refused = client.get(path, headers=headers)
            assert refused.status_code == 404, (username, path)
            assert refused.get_json()["error"]["code"] == "photo_not_found"
    manager = api("fwgl")
    listed = client.get(f"/api/v1/inspections/{mystery.id}/photos", headers=manager).get_json()
    assert photo in {p["id"] for p in listed}
    assert client.get(f"/api/v1/photos/{photo}/display", headers=manager).status_code == 200
