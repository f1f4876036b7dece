"""Photo intake: validate, process, store privately, flag, and never store a photo twice."""
from __future__ import annotations

import functools
import hashlib
import logging
import operator
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from ..audit.operations import record
from ..auth.models import User
from ..errors import DomainError, InvalidInput
from ..extensions import db
from ..i18n import N_
from ..inspections.models import EDITABLE, Inspection
from .imaging import ImageRejected, ProcessedPhoto, hamming, haversine_m, process_photo
from .models import Photo, PhotoPurpose, dhash_byte
from .storage import Storage, StorageError, StorageFull, make_storage

log = logging.getLogger(__name__)


class PhotoRefused(DomainError):
    """An upload the pipeline refused; carries the pipeline's code, status and message."""


class StorageUnavailable(DomainError):
    status, code, message = 503, "storage_unavailable", N_("照片存储暂时不可用，请稍后重试")


class StorageExhausted(DomainError):
    status, code, message = 507, "storage_full", N_("服务器存储空间不足，照片未保存，请联系管理员")


@functools.cache
def _storage_for(key: tuple) -> Storage:
    return make_storage(dict(key))


def storage() -> Storage:
    """The configured photo store (one instance per configuration)."""
    keys = [k for k in current_app.config if k.startswith("PHOTO_")]
    return _storage_for(tuple(sorted((k, current_app.config[k]) for k in keys
                                     if isinstance(current_app.config[k], (str, int, type(None))))))


def photo_counts(inspection, purpose: PhotoPurpose = PhotoPurpose.before) -> dict[str, int]:
    """Number of photos of ``purpose`` (before-photos unless said) attached to each item of
    ``inspection`` (item code → count). After-photos are those of a fix made on the spot."""
    rows = db.session.execute(
        sa.select(Photo.item_code, sa.func.count()).where(
            Photo.inspection_id == inspection.id, Photo.purpose == purpose)
        .group_by(Photo.item_code))
    return {code: count for code, count in rows}


def photos_by_item(inspection) -> dict[str, list[Photo]]:
    photos: dict[str, list[Photo]] = {}
    for photo in db.session.scalars(sa.select(Photo).where(
            Photo.inspection_id == inspection.id).order_by(Photo.id)):
        photos.setdefault(photo.item_code or "", []).append(photo)
    return photos


def _client_facts(raw: dict[str, Any]) -> dict[str, Any]:
    """Record each fact the app sent together with where it came from."""
    sources = {"device_time": "device", "geolocation": "device_geolocation",
               "exif_time": "exif_before_resize", "exif_gps": "exif_before_resize",
               "source": "app"}
    return {name: {"value": raw[name], "source": sources[name]}
            for name in sources if raw.get(name) is not None}


def _capture_date(processed: ProcessedPhoto, facts: dict[str, Any]) -> date | None:
    if processed.facts.captured_at is not None:
        return processed.facts.captured_at.date()
    exif_time = (facts.get("exif_time") or {}).get("value")
    if exif_time:
        try:
            return datetime.fromisoformat(str(exif_time)).date()
        except ValueError:
            return None
    return None


def _capture_position(processed: ProcessedPhoto, facts: dict[str, Any]
                      ) -> tuple[float, float] | None:
    if processed.facts.gps_lat is not None and processed.facts.gps_lon is not None:
        return processed.facts.gps_lat, processed.facts.gps_lon
    exif_gps = (facts.get("exif_gps") or {}).get("value")
    if isinstance(exif_gps, dict) and {"lat", "lon"} <= set(exif_gps):
        return float(exif_gps["lat"]), float(exif_gps["lon"])
    return None


def evidence_flags(processed: ProcessedPhoto, facts: dict[str, Any], *, outlet, window,
                   inspection_id: int | None) -> list[dict[str, Any]]:
    """Flags for reviewers: taken outside the window, far away, no camera data, re-used."""
    flags: list[dict[str, Any]] = []
    taken = _capture_date(processed, facts)
    if window is not None and taken is not None and not window[0] <= taken <= window[1]:
        flags.append({"code": "outside_window", "captured": taken.isoformat(),
                      "window": [window[0].isoformat(), window[1].isoformat()]})
    position = _capture_position(processed, facts)
    if position and outlet.latitude is not None and outlet.longitude is not None:
        distance = haversine_m(position[0], position[1], float(outlet.latitude),
                               float(outlet.longitude))
        limit = current_app.config.get("PHOTO_MAX_DISTANCE_M", 500)
        if distance > limit:
            flags.append({"code": "too_far", "distance_m": round(distance), "limit_m": limit})
    if not processed.facts.has_camera_metadata:
        flags.append({"code": "no_camera_metadata"})
    flags.extend(_reuse_flags(processed, outlet.id, inspection_id))
    return flags


def _reuse_flags(processed: ProcessedPhoto, outlet_id: int, inspection_id: int | None
                 ) -> list[dict[str, Any]]:
    """Same bytes, or a near-identical picture, already attached elsewhere."""
    threshold = current_app.config.get("PHOTO_SIMILAR_HAMMING", 6)
    query = _REUSE_ANYWHERE if inspection_id is None else _REUSE_ELSEWHERE
    candidates = db.session.execute(query, {
        "outlet_id": outlet_id, "inspection_id": inspection_id, "sha256": processed.sha256,
        "agree": bytes_in_common(threshold),
        **{f"band{i}": processed.dhash[2 * i:2 * i + 2] for i in range(8)}}).all()
    # the oldest match is named, whichever index found it (sorted here: an ORDER BY would
    # tempt the planner into walking the primary key instead of the dhash indexes)
    candidates.sort(key=lambda row: row.id)
    exact = [photo_id for photo_id, sha256, _ in candidates if sha256 == processed.sha256]
    if exact:
        return [{"code": "reused_exact", "photo_id": exact[0]}]
    for photo_id, _, dhash in candidates:
        distance = hamming(dhash, processed.dhash)
        if distance <= threshold:
            return [{"code": "reused_similar", "photo_id": photo_id, "hamming": distance}]
    return []


def bytes_in_common(threshold: int) -> int:
    """How many of their eight bytes two 64-bit hashes at most ``threshold`` bits apart must
    share: each differing bit spoils at most one byte (pigeonhole). At least one, so that the
    per-byte indexes can find the candidates; a threshold above 7 bits is therefore not
    supported (it would call unrelated pictures re-used anyway)."""
    return max(1, 8 - threshold)


def _reuse_candidates(*, anywhere: bool) -> sa.Select:
    """Photos attached elsewhere with the same SHA-256 or a dhash near enough to compare.

    "Elsewhere" is another outlet or another inspection; a photo of no inspection (an
    after-photo) is compared with every stored one. Pigeonhole: two 64-bit hashes within 6 bits
    of each other agree exactly on at least two of their eight bytes (:func:`bytes_in_common`).
    Each byte position has its own expression index (``ix_photos_dhash_byte*``): the database
    finds the photos sharing one byte through a handful of index lookups however many photos
    are stored, and keeps those sharing enough bytes, so only real candidates come back
    (pictures with flat areas share single bytes by the thousand). Built once, with parameters,
    so each shape is compiled once per process.
    """
    bands = [dhash_byte(Photo.dhash, i) == sa.bindparam(f"band{i}") for i in range(8)]
    same = Photo.sha256 == sa.bindparam("sha256")
    one, nothing = sa.literal_column("1"), sa.literal_column("0")
    shared = functools.reduce(operator.add, (sa.case((band, one), else_=nothing)
                                             for band in bands))
    query = sa.select(Photo.id, Photo.sha256, Photo.dhash) \
        .where(sa.or_(same, *bands)) \
        .where(sa.or_(same, shared >= sa.bindparam("agree", type_=sa.Integer)))
    if not anywhere:
        query = query.where(sa.or_(Photo.outlet_id != sa.bindparam("outlet_id"),
                                   Photo.inspection_id != sa.bindparam("inspection_id"),
                                   Photo.inspection_id.is_(None)))
    return query


_REUSE_ELSEWHERE = _reuse_candidates(anywhere=False)
_REUSE_ANYWHERE = _reuse_candidates(anywhere=True)


def _store(processed: ProcessedPhoto, original: bytes) -> tuple[str, str, str]:
    store = storage()
    try:
        return (store.put(original, content_type=processed.content_type),
                store.put(processed.display, content_type="image/jpeg"),
                store.put(processed.thumbnail, content_type="image/jpeg"))
    except StorageFull as exc:
        log.error("photo store full: %s", exc)
        raise StorageExhausted() from exc
    except StorageError as exc:
        log.error("photo store failed: %s", exc)
        raise StorageUnavailable() from exc


def ingest_photo(data: bytes, *, client_id: str, purpose: PhotoPurpose, outlet, by: User,
                 inspection=None, item_code: str | None = None, window=None,
                 client_facts: dict[str, Any] | None = None,
                 rectification_item=None) -> tuple[Photo, bool]:
    """Accept one photo. Returns ``(photo, created)``; re-sending a client id returns the
    stored photo (``created`` False), never a second copy. Nothing is stored for a refused
    file. The caller commits. After-photos of a fix name their ``rectification_item``."""
    item_id = rectification_item.id if rectification_item is not None else None
    existing = db.session.scalar(sa.select(Photo).where(Photo.client_id == client_id))
    if existing is not None:
        return _same_upload(existing, inspection, item_code, item_id, data), False
    try:
        processed = process_photo(data)
    except ImageRejected as exc:
        raise PhotoRefused(exc.message, code=exc.code, status=exc.status) from exc
    facts = _client_facts(client_facts or {})
    flags = evidence_flags(processed, facts, outlet=outlet, window=window,
                           inspection_id=inspection.id if inspection is not None else None)
    if inspection is not None:
        lock_while_filled(inspection, InvalidInput(N_("该检查已提交，不能再添加照片"),
                                                   code="not_editable"))
    original_key, display_key, thumb_key = _store(processed, data)
    # Relationships as objects, not ids: the response is built from them, without reloading.
    photo = Photo(
        client_id=client_id, purpose=purpose, inspection=inspection, item_code=item_code,
        rectification_item=rectification_item, outlet=outlet, uploaded_by_id=by.id,
        sha256=processed.sha256,
        dhash=processed.dhash, content_type=processed.content_type, size=len(data),
        width=processed.width, height=processed.height, original_key=original_key,
        display_key=display_key, thumb_key=thumb_key, exif_present=processed.facts.exif_present,
        captured_at=_captured_text(processed), camera_make=processed.facts.camera_make,
        camera_model=processed.facts.camera_model, gps_lat=processed.facts.gps_lat,
        gps_lon=processed.facts.gps_lon, client_facts=facts, flags=flags)
    db.session.add(photo)
    try:
        db.session.flush()
    except IntegrityError:
        # A concurrent upload of the same client id won: return its row.
        db.session.rollback()
        existing = db.session.scalar(sa.select(Photo).where(Photo.client_id == client_id))
        return _same_upload(existing, inspection, item_code, item_id, data), False
    record("photo.upload", photo, actor=by,
           after={"sha256": photo.sha256, "item_code": item_code, "purpose": purpose.value,
                  "flags": [f["code"] for f in flags]})
    return photo, True


def lock_while_filled(inspection, refusal: DomainError) -> None:
    """Lock ``inspection`` (FOR UPDATE, until the caller commits) and check that it is still
    being filled in; raise ``refusal`` otherwise.

    A submission decides on the photos (those required, those of each finding) while it holds
    this same lock. A photo added or removed must take the lock too, and look at the status
    again under it: the status this request read at its access check may be stale by now (the
    photo took a while to process, or the submission was in flight), and a photo must never
    land on, or go from, a submitted inspection."""
    status = db.session.scalar(sa.select(Inspection.status)
                               .where(Inspection.id == inspection.id).with_for_update())
    if status not in EDITABLE:
        raise refusal


def _captured_text(processed: ProcessedPhoto) -> str | None:
    if processed.facts.captured_at is None:
        return None
    return processed.facts.captured_at.isoformat() + (processed.facts.captured_offset or "")


def _same_upload(existing: Photo, inspection, item_code: str | None,
                 rectification_item_id: int | None, data: bytes) -> Photo:
    """The stored photo when this is a retry of its upload: the same answer, the same bytes
    (the phone keeps what it sends). Other bytes under the same client id are another photo:
    refused, never answered with the first one as if it had been stored."""
    if (existing.inspection_id != (inspection.id if inspection is not None else None)
            or existing.item_code != item_code
            or existing.rectification_item_id != rectification_item_id):
        raise InvalidInput(N_("该照片编号已用于其他检查项，请勿重复使用"), code="client_id_reused")
    if existing.sha256 != hashlib.sha256(data).hexdigest():
        raise InvalidInput(N_("该照片编号已用于另一张照片，请勿重复使用"), code="client_id_reused")
    return existing


def delete_photo(photo: Photo, *, by: User) -> None:
    """Remove a photo from an answer that is still being filled in (the blobs stay: they are
    content-addressed and may be shared)."""
    record("photo.delete", photo, actor=by, before={"sha256": photo.sha256,
                                                     "item_code": photo.item_code})
    db.session.delete(photo)
    db.session.flush()
