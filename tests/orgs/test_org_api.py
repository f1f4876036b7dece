"""Managing the organisation and people through the API, within each role's scope."""
from __future__ import annotations

import sqlalchemy as sa

from inspect_app.audit.models import AuditEntry
from inspect_app.auth.permissions import Role
from inspect_app.extensions import db
from inspect_app.inspections.models import Finding, Inspection, InspectionStatus

from ..helpers import attach_photos, new_key, passing_answers


def test_admin_creates_an_outlet_with_location_and_benchmark_flag(client, org, make_user,
                                                                    token_for):
    """Can an administrator add an outlet with area type, coordinates and benchmark flag?"""
    make_user("admin", (Role.admin, "TS"))
    body = {"kind": "outlet", "code": "ts-lb-03", "name": "龙泉分理处",
            "parent_id": org["TS-LB"].id, "area_type": "urban", "latitude": 39.65,
            "longitude": 118.21, "is_benchmark": True}
    response = client.post("/api/v1/org-units", json=body, headers=token_for("admin"))
    assert response.status_code == 201, response.get_json()
    unit = response.get_json()
    assert unit["code"] == "TS-LB-03" and unit["is_benchmark"] is True
    assert unit["latitude"] == 39.65 and unit["path"].startswith(org["TS-LB"].path)
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "org_unit.create",
                                                          AuditEntry.object_id == str(unit["id"])))
    assert entry.actor_name == "admin" and entry.after["name"] == "龙泉分理处"


def test_outlet_must_sit_under_a_subbranch(client, org, make_user, token_for):
    """Is an outlet placed directly under the branch refused with a Chinese reason?"""
    make_user("admin", (Role.admin, "TS"))
    body = {"kind": "outlet", "code": "TS-X", "name": "错位网点", "parent_id": org["TS"].id}
    response = client.post("/api/v1/org-units", json=body, headers=token_for("admin"))
    assert response.status_code == 422
    assert "支行" in response.get_json()["error"]["message"]


def test_duplicate_code_is_a_conflict(client, org, make_user, token_for):
    """Is a second unit with an existing code refused with 409?"""
    make_user("admin", (Role.admin, "TS"))
    body = {"kind": "outlet", "code": "TS-LB-01", "name": "重复", "parent_id": org["TS-LB"].id}
    response = client.post("/api/v1/org-units", json=body, headers=token_for("admin"))
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "code_taken"


def test_subbranch_manager_sees_only_their_own_subbranch(client, org, make_user, token_for):
    """Can the manager of 路北 list 路北's outlets but not read 路南's?"""
    make_user("zh.lubei", (Role.subbranch_manager, "TS-LB"))
    headers = token_for("zh.lubei")
    listed = client.get("/api/v1/org-units?kind=outlet", headers=headers).get_json()
    assert {u["code"] for u in listed["items"]} == {"TS-LB-01", "TS-LB-02"}
    assert listed["total"] == 2
    other = client.get(f"/api/v1/org-units/{org['TS-LN-01'].id}", headers=headers)
    assert other.status_code == 404
    own = client.get(f"/api/v1/org-units/{org['TS-LB-01'].id}", headers=headers)
    assert own.status_code == 200


def test_subbranch_manager_cannot_read_other_subbranch_users(client, org, make_user, token_for):
    """Does the manager of 路北 see 路北's people but not 路南's?"""
    make_user("zh.lubei", (Role.subbranch_manager, "TS-LB"))
    make_user("wd.lb01", (Role.outlet_manager, "TS-LB-01"))
    other = make_user("wd.ln01", (Role.outlet_manager, "TS-LN-01"))
    headers = token_for("zh.lubei")
    names = {u["username"] for u in client.get("/api/v1/users", headers=headers).get_json()["items"]}
    assert names == {"zh.lubei", "wd.lb01"}
    assert client.get(f"/api/v1/users/{other.id}", headers=headers).status_code == 404


def test_subbranch_manager_cannot_change_the_organisation(client, org, make_user, token_for):
    """Is a sub-branch manager refused when renaming an outlet?"""
    make_user("zh.lubei", (Role.subbranch_manager, "TS-LB"))
    response = client.patch(f"/api/v1/org-units/{org['TS-LB-01'].id}", json={"name": "改名"},
                            headers=token_for("zh.lubei"))
    assert response.status_code == 403


def test_admin_creates_a_user_with_several_roles(client, org, make_user, token_for):
    """Can an administrator create a person holding two roles at two units?"""
    make_user("admin", (Role.admin, "TS"))
    body = {"username": "Li.Na", "display_name": "李娜", "password": "Start2026",
            "grants": [{"role": "inspector", "org_unit_id": org["TS-LB"].id},
                       {"role": "outlet_manager", "org_unit_id": org["TS-LB-01"].id}]}
    response = client.post("/api/v1/users", json=body, headers=token_for("admin"))
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["username"] == "li.na" and "password" not in created
    assert {g["role"] for g in created["grants"]} == {"inspector", "outlet_manager"}
    assert client.post("/api/v1/auth/token",
                       json={"username": "li.na", "password": "Start2026"}).status_code == 201


def test_role_change_is_audited_with_before_and_after(client, org, make_user, token_for):
    """Does a role change leave an audit entry with the old and the new roles?"""
    make_user("admin", (Role.admin, "TS"))
    person = make_user("jc1", (Role.inspector, "TS-LB"))
    body = {"grants": [{"role": "inspector", "org_unit_id": org["TS-LN"].id}]}
    assert client.patch(f"/api/v1/users/{person.id}", json=body,
                        headers=token_for("admin")).status_code == 200
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "user.update"))
    assert entry.before["grants"] == ["inspector@TS-LB"]
    assert entry.after["grants"] == ["inspector@TS-LN"]


def test_admin_cannot_deactivate_themselves(client, org, make_user, token_for):
    """Is an administrator stopped from locking themselves out?"""
    admin = make_user("admin", (Role.admin, "TS"))
    response = client.patch(f"/api/v1/users/{admin.id}", json={"is_active": False},
                            headers=token_for("admin"))
    assert response.status_code == 403


def test_audit_log_is_readable_by_admin_only(client, org, make_user, token_for):
    """Can an administrator read the audit log while an inspector cannot?"""
    make_user("admin", (Role.admin, "TS"))
    make_user("jc1", (Role.inspector, "TS-LB"))
    entries = client.get("/api/v1/audit-entries?action=user.create",
                         headers=token_for("admin")).get_json()
    assert entries["total"] == 2
    assert client.get("/api/v1/audit-entries", headers=token_for("jc1")).status_code == 403


def test_a_new_password_takes_the_account_back(client, org, make_user, token_for):
    """An administrator resets a locked-out person's password: do the tokens issued under the
    old one stop working, is the lock lifted (shown before, gone after), and does the new
    password sign in at once?"""
    make_user("admin", (Role.admin, "TS"))
    person = make_user("jc1", (Role.inspector, "TS-LB"))
    old = token_for("jc1")
    assert client.get("/api/v1/me", headers=old).status_code == 200
    for _ in range(5):
        client.post("/api/v1/auth/token", json={"username": "jc1", "password": "Wrong2026x"})
    admin = token_for("admin")
    shown = client.get(f"/api/v1/users/{person.id}", headers=admin).get_json()
    assert shown["locked_until"] is not None

    reset = client.patch(f"/api/v1/users/{person.id}", json={"password": "Fresh2026ab"},
                         headers=admin)
    assert reset.status_code == 200 and reset.get_json()["locked_until"] is None
    assert client.get("/api/v1/me", headers=old).status_code == 401
    signed_in = client.post("/api/v1/auth/token",
                            json={"username": "jc1", "password": "Fresh2026ab"})
    assert signed_in.status_code == 201, signed_in.get_json()


def test_a_role_change_made_while_reactivating_is_not_hidden(client, org, make_user, token_for):
    """Reactivating a person and giving them another role in one request: does the audit log
    show the role change as a change of its own, not only "reactivate"?"""
    make_user("admin", (Role.admin, "TS"))
    person = make_user("jc1", (Role.inspector, "TS-LB"))
    admin = token_for("admin")
    client.patch(f"/api/v1/users/{person.id}", json={"is_active": False}, headers=admin)
    body = {"is_active": True,
            "grants": [{"role": "service_manager", "org_unit_id": org["TS"].id}]}
    assert client.patch(f"/api/v1/users/{person.id}", json=body,
                        headers=admin).status_code == 200
    entries = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.object_type == "user", AuditEntry.object_id == str(person.id))
        .order_by(AuditEntry.id)).all()
    assert [e.action for e in entries][-2:] == ["user.reactivate", "user.update"]
    assert entries[-1].after["grants"] == ["service_manager@TS"]


def test_a_closed_outlet_takes_no_new_inspection_results(client, api, first):
    """An administrator closes an outlet (is_active false) while a spot check of it is being
    filled in: is the task cancelled, saying 机构已停用 to its inspector and in the audit log,
    and are the phone's next save and submission refused as for any cancelled task (what the
    phone already understands), with no finding at the closed outlet?"""
    check = first("spot_check")
    headers = api(check.assignee.username)
    shown = client.get(f"/api/v1/inspections/{check.id}", headers=headers).get_json()
    items = shown["checklist"]["items"]
    answers = passing_answers(items, fail=(items[0]["code"],))
    attach_photos(client, headers, check.id, items, answers)
    closed = client.patch(f"/api/v1/org-units/{check.outlet_id}", headers=api("admin"),
                          json={"is_active": False})
    assert closed.status_code == 200, closed.get_json()

    task = client.get(f"/api/v1/inspections/{check.id}", headers=headers).get_json()
    assert (task["status"], task["cancel_reason"]) == ("cancelled", "机构已停用")
    audited = db.session.scalar(sa.select(AuditEntry).where(
        AuditEntry.action == "inspection.cancel", AuditEntry.object_id == str(check.id)))
    assert (audited.reason, audited.actor_name) == ("机构已停用", "admin")
    saved = client.put(f"/api/v1/inspections/{check.id}/draft", headers=headers,
                       json={"version": shown["version"], "answers": answers})
    assert saved.status_code == 409
    assert saved.get_json()["error"]["code"] == "not_editable"
    submitted = client.post(f"/api/v1/inspections/{check.id}/submit", json={"answers": answers},
                            headers={**headers, "Idempotency-Key": new_key()})
    assert submitted.status_code == 409
    assert submitted.get_json()["error"]["code"] == "inspection_cancelled"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Finding).where(
        Finding.outlet_id == check.outlet_id, Finding.inspection_id == check.id)) == 0
    left_open = db.session.scalar(sa.select(sa.func.count()).select_from(Inspection).where(
        Inspection.outlet_id == check.outlet_id,
        Inspection.status.in_([InspectionStatus.assigned, InspectionStatus.in_progress])))
    assert left_open == 0
    assert set(db.session.scalars(sa.select(Inspection.outlet_id).where(
        Inspection.cancel_reason == "机构已停用"))) == {check.outlet_id}  # no other's tasks
