"""JSON shapes of photos. GPS only for those who may see it; flags only for reviewers."""
from __future__ import annotations

import json

import marshmallow as ma
from flask import g, url_for
from marshmallow import fields, validate

from ..api.fields import UNSTORABLE, Moment, Upload, unstorable
from ..i18n import N_, translated
from .models import FLAG_LABELS


class ClientFactsField(fields.Field):
    """The app's capture facts, sent as a JSON string in the multipart form."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, dict):
            parsed = value
        else:
            try:
                parsed = json.loads(value)
            except (TypeError, ValueError, RecursionError) as exc:
                raise ma.ValidationError(N_("拍摄信息必须是 JSON")) from exc
        found = unstorable(parsed)  # spelt \u0000 inside the form field: the hook cannot see it
        if found:
            raise ma.ValidationError(UNSTORABLE[found])
        return ClientFactsSchema().load(parsed)


class GeoSchema(ma.Schema):
    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    lon = fields.Float(required=True, validate=validate.Range(min=-180, max=180))
    accuracy = fields.Float(validate=validate.Range(min=0))


class ClientFactsSchema(ma.Schema):
    device_time = fields.String(validate=validate.Length(max=40))
    geolocation = fields.Nested(GeoSchema)
    exif_time = fields.String(validate=validate.Length(max=40))
    exif_gps = fields.Nested(GeoSchema)
    source = fields.String(validate=validate.OneOf(["camera", "gallery"]))


class PhotoUploadFormSchema(ma.Schema):
    client_id = fields.UUID(required=True, metadata={"description": "客户端为这张照片生成的 UUID"})
    item_code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    client_facts = ClientFactsField(load_default=dict)
    purpose = fields.String(load_default="before", validate=validate.OneOf(["before", "after"]),
                            metadata={"description": "before：检查照片；after：立查立改后的照片"})


class PhotoFileSchema(ma.Schema):
    file = Upload(required=True)


class PhotoUploadSchema(PhotoUploadFormSchema, PhotoFileSchema):
    """An evidence photo upload: the file and its form fields, one multipart body."""


class PhotoSchema(ma.Schema):
    id = fields.Integer()
    client_id = fields.String()
    purpose = fields.String(attribute="purpose.value")
    inspection_id = fields.Integer(allow_none=True)
    item_code = fields.String(allow_none=True)
    rectification_item_id = fields.Integer(allow_none=True)
    sha256 = fields.String(metadata={"description": "原始文件的 SHA-256，可据此核验照片未被修改"})
    width = fields.Integer()
    height = fields.Integer()
    size = fields.Integer()
    content_type = fields.String()
    exif_present = fields.Boolean()
    camera = fields.Function(lambda p: " ".join(x for x in (p.camera_make, p.camera_model) if x)
                             or None)
    captured_at = fields.String(allow_none=True)
    uploaded_at = Moment()
    thumbnail_url = fields.Function(lambda p: url_for("evidence_api.PhotoFile", photo_id=p.id,
                                                      rendition="thumb"))
    display_url = fields.Function(lambda p: url_for("evidence_api.PhotoFile", photo_id=p.id,
                                                    rendition="display"))
    gps = fields.Method("dump_gps")
    flags = fields.Method("dump_flags")
    client_facts = fields.Method("dump_client_facts")

    def _access(self, photo):
        """The viewer's access to ``photo``, worked out once per photo and dump."""
        from .access import photo_access

        known = g.setdefault("photo_access", {})  # per request: the schema itself is shared
        if id(photo) not in known:
            known[id(photo)] = (photo, photo_access(g.user, photo))
        return known[id(photo)][1]

    def dump_gps(self, photo):
        if photo.gps_lat is None or not self._access(photo).sensitive:
            return None
        return {"lat": photo.gps_lat, "lon": photo.gps_lon}

    def dump_flags(self, photo):
        if not self._access(photo).reviewer:
            return None
        return [{**flag, "label": translated(FLAG_LABELS[flag["code"]])} for flag in photo.flags]

    def dump_client_facts(self, photo):
        return photo.client_facts if self._access(photo).sensitive else None

    @ma.post_dump(pass_original=True)
    def anonymous_mystery(self, data, photo, **kwargs):
        if not self._access(photo).identity:
            from ..inspections.schemas import dates_only

            data["captured_at"] = None  # exact times could identify the shopper
            data["camera"] = None
            data = dates_only(data)  # e.g. uploaded_at: the day only
        return data
