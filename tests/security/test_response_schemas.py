"""What the outlet sees of a mystery visit — no dates of the window, the day only of its last
change — still matches the documented OpenAPI schema (schemathesis's finding)."""
from __future__ import annotations

import sqlalchemy as sa
from openapi_schema_validator import OAS30Validator, validate

from inspect_app.auth.models import RoleGrant, User
from inspect_app.auth.permissions import Role
from inspect_app.extensions import db
from inspect_app.inspections.models import RESULT_VISIBLE, Inspection, Mode


def documented(spec: dict, path: str, method: str = "get", status: str = "200") -> dict:
    """The response schema of one operation, with the spec's components to resolve its refs."""
    schema = spec["paths"][path][method]["responses"][status]["content"]["application/json"][
        "schema"]
    return {**schema, "components": spec["components"]}


def test_a_mystery_visit_as_its_outlet_sees_it_matches_the_spec(client, api, demo):
    """Do the list and the detail of a submitted mystery visit, as the outlet's manager gets
    them (window hidden, times cut to the day), validate against the documented schemas?"""
    visit = db.session.scalar(sa.select(Inspection).where(
        Inspection.mode == Mode.mystery_visit, Inspection.status.in_(RESULT_VISIBLE))
        .order_by(Inspection.id))
    assert visit is not None  # the demo's history
    manager = db.session.scalar(sa.select(User.username).join(RoleGrant).where(
        RoleGrant.role == Role.outlet_manager, RoleGrant.org_unit_id == visit.outlet_id))
    headers = api(manager)
    spec = client.get("/api/v1/openapi.json").get_json()
    listed = client.get(f"/api/v1/inspections?mode=mystery_visit&outlet_id={visit.outlet_id}",
                        headers=headers).get_json()
    shown = next(i for i in listed["items"] if i["id"] == visit.id)
    assert shown["due_start"] is None and len(shown["updated_at"]) == 10  # what it hides
    validate(listed, documented(spec, "/api/v1/inspections"), cls=OAS30Validator,
             format_checker=OAS30Validator.FORMAT_CHECKER)
    detail = client.get(f"/api/v1/inspections/{visit.id}", headers=headers).get_json()
    validate(detail, documented(spec, "/api/v1/inspections/{inspection_id}"),
             cls=OAS30Validator,
             format_checker=OAS30Validator.FORMAT_CHECKER)


def test_uploads_document_their_form_fields_with_the_file(client):
    """Does each multipart upload document, in one request body, the file and the form fields
    it requires — so a client (or schemathesis) can build a valid one from the spec alone?"""
    spec = client.get("/api/v1/openapi.json").get_json()
    wanted = {"/api/v1/inspections/{inspection_id}/photos": {"file", "client_id", "item_code"},
              "/api/v1/rectification/items/{item_id}/photos": {"file", "client_id"},
              "/api/v1/checklists/import": {"file"}}
    for path, required in wanted.items():
        body = spec["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"]
        name = body["schema"]["$ref"].rsplit("/", 1)[1]
        schema = spec["components"]["schemas"][name]
        assert set(schema["required"]) == required, path
        assert schema["properties"]["file"] == {"type": "string", "format": "binary"}
    assert "base_id" in spec["components"]["schemas"]["ImportUpload"]["properties"]


def test_a_mystery_visits_fix_and_photos_as_the_outlet_sees_them_match_the_spec(client, api,
                                                                                demo):
    """A mystery visit's rectification item and its photos, as the outlet's manager gets them
    (every time cut to its date), validate against the documented schemas."""
    from inspect_app.rectification.models import RectificationItem

    item = db.session.scalar(sa.select(RectificationItem).join(
        Inspection, RectificationItem.inspection_id == Inspection.id).where(
        Inspection.mode == Mode.mystery_visit).order_by(RectificationItem.id))
    assert item is not None  # the demo's history
    manager = db.session.scalar(sa.select(User.username).join(RoleGrant).where(
        RoleGrant.role == Role.outlet_manager, RoleGrant.org_unit_id == item.outlet_id))
    headers = api(manager)
    spec = client.get("/api/v1/openapi.json").get_json()
    detail = client.get(f"/api/v1/rectification/items/{item.id}", headers=headers).get_json()
    assert len(detail["created_at"]) == 10  # what it hides
    validate(detail, documented(spec, "/api/v1/rectification/items/{item_id}"),
             cls=OAS30Validator,
             format_checker=OAS30Validator.FORMAT_CHECKER)
    listed = client.get(f"/api/v1/rectification/items?outlet_id={item.outlet_id}",
                        headers=headers).get_json()
    validate(listed, documented(spec, "/api/v1/rectification/items"), cls=OAS30Validator,
             format_checker=OAS30Validator.FORMAT_CHECKER)
    photos = client.get(f"/api/v1/inspections/{item.inspection_id}/photos",
                        headers=headers).get_json()
    validate(photos, documented(spec, "/api/v1/inspections/{inspection_id}/photos"),
             cls=OAS30Validator,
             format_checker=OAS30Validator.FORMAT_CHECKER)


def test_the_audit_log_keeps_results_from_administrators(client, api, first):
    """The administrator sees no results: in the audit log they read that an inspection was
    submitted, when and by whom, but not its score, grade or findings — which the service
    manager reads there; entries about people keep their contents for both."""
    from ..helpers import filler_of, submit_filled

    spot = first("spot_check")
    assert submit_filled(client, api(filler_of(spot)), spot.id).status_code == 200
    url = "/api/v1/audit-entries?action=inspection.submit&per_page=5"
    admin = client.get(url, headers=api("admin")).get_json()["items"]
    manager = client.get(url, headers=api("fwgl")).get_json()["items"]
    assert admin and [e["id"] for e in admin] == [e["id"] for e in manager]
    assert all(e["after"] is None and e["contents_hidden"] for e in admin)
    assert all("total" in e["after"] and not e["contents_hidden"] for e in manager)
    people = client.get("/api/v1/audit-entries?object_type=user&per_page=5",
                        headers=api("admin")).get_json()["items"]
    assert people and not any(e["contents_hidden"] for e in people)
    spec = client.get("/api/v1/openapi.json").get_json()
    validate(client.get(url, headers=api("admin")).get_json(),
             documented(spec, "/api/v1/audit-entries"), cls=OAS30Validator,
             format_checker=OAS30Validator.FORMAT_CHECKER)
