"""Upload abuse: every hostile or broken file gets a clean 4xx in the JSON error shape, nothing
reaches the photo store or the database, and the worker still serves a normal upload after it.

tests/evidence/test_photos_api.py covers the basic refusals one by one; this suite throws the
whole catalogue at one inspection and checks the aftermath each time.
"""
from __future__ import annotations

import io
import os
import struct
import uuid
import zlib

import pytest
import sqlalchemy as sa
from PIL import Image

from inspect_app.audit.models import AuditEntry
from inspect_app.evidence.models import Photo
from inspect_app.extensions import db

from ..evidence.images import png_bomb_header
from ..helpers import filler_of, jpeg


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(
        ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def _jpeg_with_segments(segments: list[bytes]) -> bytes:
    """A valid small JPEG with extra APPn segments inserted after SOI."""
    data = jpeg(7, (64, 48), exif=False)
    return data[:2] + b"".join(segments) + data[2:]


def _app_segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def _huge_exif() -> bytes:
    """A JPEG whose EXIF block is as large as a segment can be, full of nested junk."""
    exif = Image.Exif()
    exif[0x010F] = "A" * 30_000
    exif[0x0110] = "B" * 30_000
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "red").save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def _many_app_segments() -> bytes:
    """A JPEG carrying 12 MB of APP segments: metadata far larger than the picture."""
    return _jpeg_with_segments([_app_segment(0xE2, b"ICC_PROFILE\x00" + b"\x00" * 65_000)] * 190)


def _jpeg_bomb() -> bytes:
    """A JPEG header claiming 60000×60000 pixels (3.6 gigapixels) over a tiny body."""
    data = bytearray(jpeg(8, (64, 48), exif=False))
    index = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, index + 5, 60_000, 60_000)
    return bytes(data)


def _png_ztxt_bomb() -> bytes:
    """A tiny PNG with a zTXt chunk inflating to 100 MB (a text-chunk decompression bomb)."""
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), "blue").save(buffer, "PNG")
    png = buffer.getvalue()
    bomb = _png_chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"\x00" * 100_000_000, 9))
    return png[:33] + bomb + png[33:]


HOSTILE = {
    # name: (filename, data factory, acceptable statuses)
    "zero bytes": ("empty.jpg", lambda: b"", {400, 415, 422}),
    "one byte": ("x.jpg", lambda: b"\xff", {400, 415, 422}),
    "jpeg magic only": ("x.jpg", lambda: b"\xff\xd8\xff", {415, 422}),
    "truncated jpeg": ("cut.jpg", lambda: jpeg(3, (200, 150))[:500], {422}),
    "corrupt jpeg body": ("bad.jpg", lambda: jpeg(4, (200, 150))[:300] + os.urandom(3000)
                          + b"\xff\xd9", {422}),
    "random bytes": ("noise.jpg", lambda: os.urandom(20_000), {415, 422}),
    "png bomb": ("bomb.png", png_bomb_header, {413, 422}),
    "jpeg bomb": ("bomb.jpg", _jpeg_bomb, {413, 422}),
    "png text-chunk bomb": ("ztxt.png", _png_ztxt_bomb, {413, 422}),
    "svg as jpg": ("pic.jpg", lambda: b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/'
                   b'svg" onload="alert(1)"><rect width="10" height="10"/></svg>', {415}),
    "html as png": ("pic.png", lambda: b"<html><script>alert(document.cookie)</script></html>",
                    {415}),
    "pdf as jpg": ("pic.jpg", lambda: b"%PDF-1.7\n1 0 obj<</Type/Catalog>>endobj\n%%EOF",
                   {415}),
    "zip as jpg": ("pic.jpg", lambda: b"PK\x03\x04" + b"\x00" * 200, {415}),
    "elf as heic": ("pic.heic", lambda: b"\x7fELF\x02\x01\x01" + b"\x00" * 300, {415}),
    "jpeg + zip polyglot": ("poly.jpg", lambda: jpeg(5) + b"PK\x03\x04" + b"\x00" * 100,
                            {422}),
    "jpeg + html polyglot": ("poly.jpg", lambda: jpeg(6) + b"<script>alert(1)</script>", {422}),
    "jpeg + pdf polyglot": ("poly.jpg", lambda: jpeg(9) + b"%PDF-1.4\n%%EOF", {422}),
    "png + html polyglot": ("poly.png", lambda: _png() + b"<html><script>x</script></html>",
                            {422}),
    "huge exif": ("exif.jpg", _huge_exif, {201, 422}),
    "12 MB of APP segments": ("app.jpg", _many_app_segments, {201, 413, 422}),
    "path traversal name": ("../../../../etc/cron.d/evil.jpg", lambda: b"not a photo", {415}),
    "absolute path name": ("/var/www/evil.php", lambda: b"<?php system($_GET['c']); ?>",
                           {415}),
    "nul in name": ("a.jpg\x00.php", lambda: b"<?php ?>", {400, 415}),
}


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "green").save(buffer, "PNG")
    return buffer.getvalue()


def multipart(fields: dict[str, str], file: tuple[bytes, str, str]) -> tuple[bytes, str]:
    """A multipart body built in memory (the test client would spool a large one to a
    temporary file that nobody closes)."""
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
             f"{value}\r\n".encode() for name, value in fields.items()]
    data, filename, mimetype = file
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                 f'filename="{filename}"\r\nContent-Type: {mimetype}\r\n\r\n'.encode()
                 + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _upload(client, headers, inspection_id, data, name, item_code, *, client_id=None):
    body, content_type = multipart({"client_id": client_id or str(uuid.uuid4()),
                                    "item_code": item_code}, (data, name, "image/jpeg"))
    return client.post(f"/api/v1/inspections/{inspection_id}/photos", headers=headers,
                       data=body, content_type=content_type)


def _stored_files(app) -> list[str]:
    root = app.config["PHOTO_STORAGE_ROOT"]
    return sorted(os.path.join(d, f) for d, _, files in os.walk(root) for f in files)


def _photo_rows() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Photo))


def _upload_audits() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "photo.upload"))


def test_every_hostile_file_is_refused_cleanly_and_leaves_nothing(app, client, api, first):
    """Is each file of the catalogue answered with its 4xx in the JSON error shape, with no
    blob, no row and no audit entry left behind, and does a normal photo still go through
    afterwards?"""
    spot = first("spot_check")
    headers = api(filler_of(spot))
    item = spot.form_items()[0].code
    problems = []
    for label, (name, make, allowed) in HOSTILE.items():
        files, rows, audits = _stored_files(app), _photo_rows(), _upload_audits()
        response = _upload(client, headers, spot.id, make(), name, item)
        body = response.get_json(silent=True) or {}
        if response.status_code not in allowed:
            problems.append(f"{label}: {response.status_code} (wanted {sorted(allowed)}) {body}")
            continue
        if response.status_code == 201:
            # Accepted (a real photo with absurd metadata): the renditions must carry none.
            display = client.get(body["display_url"], headers=headers)
            rendered = Image.open(io.BytesIO(display.get_data()))
            if rendered.info.get("exif") or rendered.info.get("icc_profile"):
                problems.append(f"{label}: rendition kept metadata")
            continue
        if not (body.get("error") or {}).get("message"):
            problems.append(f"{label}: {response.status_code} without the JSON error shape")
        if _stored_files(app) != files:
            problems.append(f"{label}: files written to the photo store")
        if _photo_rows() != rows or _upload_audits() != audits:
            problems.append(f"{label}: a photo row or audit entry was written")
    healthy = _upload(client, headers, spot.id, jpeg(99), "ok.jpg", item)
    assert healthy.status_code == 201, healthy.get_json()
    assert not problems, "\n".join(problems)


def test_oversize_body_is_a_json_413_and_stores_nothing(app, client, api, first):
    """Is a body over MAX_CONTENT_LENGTH cut off with the JSON 413, nothing stored, and the
    next upload fine?"""
    spot = first("spot_check")
    headers = api(filler_of(spot))
    item = spot.form_items()[0].code
    app.config["MAX_CONTENT_LENGTH"] = 200_000
    response = _upload(client, headers, spot.id, jpeg(1) + b"\x00" * 300_000, "big.jpg", item)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"
    assert _photo_rows() == 0 and _stored_files(app) == []
    assert _upload(client, headers, spot.id, jpeg(2), "ok.jpg", item).status_code == 201


def test_filenames_never_reach_the_store(app, client, api, first):
    """Is a photo sent under a path-traversal name stored under its content hash only?"""
    spot = first("spot_check")
    headers = api(filler_of(spot))
    item = spot.form_items()[0].code
    response = _upload(client, headers, spot.id, jpeg(3), "../../../../tmp/owned.jpg", item)
    assert response.status_code == 201
    root = os.path.realpath(app.config["PHOTO_STORAGE_ROOT"])
    for path in _stored_files(app):
        assert os.path.realpath(path).startswith(root + os.sep)
        assert "owned" not in path
    assert not os.path.exists("/tmp/owned.jpg")


@pytest.mark.parametrize("field,value", [("client_id", "not-a-uuid"), ("item_code", "x" * 500),
                                         ("client_facts", "{not json"),
                                         ("client_facts", '{"geolocation": {"lat": 999}}')])
def test_malformed_form_fields_are_422(client, api, first, field, value):
    """Are broken form fields (client id, item code, capture facts) refused as 422?"""
    spot = first("spot_check")
    form = {"client_id": str(uuid.uuid4()), "item_code": spot.form_items()[0].code,
            "file": (io.BytesIO(jpeg(4)), "p.jpg"), field: value}
    response = client.post(f"/api/v1/inspections/{spot.id}/photos", data=form,
                           headers=api(filler_of(spot)), content_type="multipart/form-data")
    assert response.status_code == 422, response.get_json()
    assert _photo_rows() == 0
