"""API: uploading evidence photos and serving them privately."""
from __future__ import annotations

import logging

from flask import Response, request
from flask.views import MethodView

from ..api.base import Blueprint
from ..auth.session import current_user
from ..errors import InvalidInput, NotFound, PermissionDenied
from ..extensions import db
from ..i18n import N_
from ..inspections.access import can_fill, get_inspection, require_fill, shopper_notes
from ..inspections.models import EDITABLE, Mode
from .access import get_photo
from .models import PhotoPurpose
from .operations import delete_photo, ingest_photo, lock_while_filled, storage
from .schemas import PhotoSchema, PhotoUploadSchema
from .storage import BlobNotFound

log = logging.getLogger(__name__)
blp = Blueprint("evidence_api", __name__, url_prefix="/api/v1",
                description="照片证据：上传、核验与私有访问")

RENDITIONS = {"thumb": "thumb_key", "display": "display_key", "original": "original_key"}


@blp.route("/inspections/<int:inspection_id>/photos")
class InspectionPhotos(MethodView):
    @blp.arguments(PhotoUploadSchema, location="multipart")
    @blp.response(201, PhotoSchema)
    @blp.alt_response(200, schema=PhotoSchema, description="同一照片编号已上传过：返回原记录")
    @blp.alt_response(413, description="文件过大")
    @blp.alt_response(415, description="不支持的文件类型")
    @blp.alt_response(422, description="文件损坏、像素过多（疑似解压炸弹）或伪装文件")
    def post(self, form, inspection_id):
        """Attach a photo to an answer. Re-sending the same ``client_id`` returns the stored
        photo, never a second copy. The type is decided from the content only."""
        by = current_user()
        inspection = get_inspection(inspection_id, by)
        require_fill(by, inspection, N_("只有检查人员可以上传检查照片"))
        if inspection.status not in EDITABLE:
            raise InvalidInput(N_("该检查已提交，不能再添加照片"), code="not_editable")
        if not inspection.holds_item(form["item_code"]):
            raise InvalidInput(N_("该检查项不在本次检查中"), code="unknown_item")
        if form["purpose"] == PhotoPurpose.after.value and inspection.mode is Mode.mystery_visit:
            # an after-photo proves a fix made on the spot, which a covert visit cannot ask for
            raise InvalidInput(N_("暗访不能立查立改：整改会暴露神秘人身份"),
                               code="fixed_on_spot_not_allowed")
        photo, created = ingest_photo(
            form["file"].read(), client_id=str(form["client_id"]),
            purpose=PhotoPurpose(form["purpose"]),
            outlet=inspection.outlet, by=by, inspection=inspection, item_code=form["item_code"],
            window=(inspection.due_start, inspection.due_end),
            client_facts=form["client_facts"])
        db.session.commit()
        return photo, 201 if created else 200

    @blp.response(200, PhotoSchema(many=True))
    def get(self, inspection_id):
        """The photos of an inspection (but those of a mystery shopper's notes, for whom may
        not know the shopper)."""
        from .operations import photos_by_item

        by = current_user()
        inspection = get_inspection(inspection_id, by)
        hidden = shopper_notes(by, inspection)
        return [p for code, photos in photos_by_item(inspection).items() if code not in hidden
                for p in photos]


@blp.route("/photos/<int:photo_id>")
class PhotoResource(MethodView):
    @blp.response(200, PhotoSchema)
    def get(self, photo_id):
        """A photo's facts, SHA-256 and (for reviewers) evidence flags."""
        return get_photo(photo_id, current_user())

    @blp.response(204)
    def delete(self, photo_id):
        """Remove a photo from an inspection that is still being filled in."""
        by = current_user()
        photo = get_photo(photo_id, by)
        inspection = photo.inspection
        locked = PermissionDenied(N_("不能删除该照片"), code="photo_locked")
        if inspection is None or not can_fill(by, inspection):
            raise locked
        lock_while_filled(inspection, locked)
        delete_photo(photo, by=by)
        db.session.commit()


@blp.route("/photos/<int:photo_id>/<string:rendition>")
class PhotoFile(MethodView):
    @blp.response(200, description="JPEG 图片（原图为上传时的原始文件）", content_type="image/jpeg")
    def get(self, photo_id, rendition):
        """The picture itself: ``thumb`` (≤320 px), ``display`` (≤1600 px) or ``original``
        (reviewers only). Served privately with an ETag; never from a public path."""
        by = current_user()
        photo = get_photo(photo_id, by)
        if rendition not in RENDITIONS:
            raise NotFound(N_("未知的图片规格"), code="unknown_rendition")
        if rendition == "original":
            from .access import photo_access

            if not photo_access(by, photo).reviewer:
                raise NotFound(N_("未找到该照片"), code="photo_not_found")
        key = getattr(photo, RENDITIONS[rendition])
        mimetype = photo.content_type if rendition == "original" else "image/jpeg"
        response = Response(mimetype=mimetype)
        response.set_etag(key)  # content-addressed: the key is the hash of these bytes
        response.cache_control.private = True
        response.cache_control.max_age = 86400
        ext = {"image/png": "png", "image/webp": "webp", "image/heic": "heic",
               "image/heif": "heif"}.get(mimetype, "jpg")
        response.headers["Content-Disposition"] = (
            f'inline; filename="photo-{photo.id}-{rendition}.{ext}"')
        response.headers["X-Content-Type-Options"] = "nosniff"
        if request.if_none_match.contains(key):
            response.status_code = 304
            return response
        try:
            response.set_data(storage().open(key))
        except BlobNotFound as exc:
            # evidence gone from storage: the administrator must hear of it, not only the user
            log.warning("photo %s: its %s file %s is missing from storage (sha256 %s)",
                        photo.id, rendition, key, photo.sha256)
            raise NotFound(N_("照片文件缺失"), code="photo_blob_missing") from exc
        return response
