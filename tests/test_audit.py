"""The audit log is append-only: the ORM and the database both refuse changes."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from inspect_app.audit.models import AuditEntry, AuditLogIsAppendOnly
from inspect_app.extensions import db


def test_orm_refuses_to_change_an_audit_entry(org):
    """Does changing an audit entry through the ORM raise before it reaches the database?"""
    entry = db.session.scalars(sa.select(AuditEntry)).first()
    entry.action = "tampered"
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()


def test_orm_refuses_to_delete_an_audit_entry(org):
    """Does deleting an audit entry through the ORM raise?"""
    db.session.delete(db.session.scalars(sa.select(AuditEntry)).first())
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("statement", ["UPDATE audit_entries SET action = 'x'",
                                       "DELETE FROM audit_entries"])
def test_database_refuses_raw_changes(org, statement):
    """Does the database itself refuse UPDATE and DELETE on the audit log?"""
    with pytest.raises(DBAPIError):
        db.session.execute(sa.text(statement))
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) > 0


def test_org_changes_record_who_when_and_before_after(org):
    """Does an org change from the command line name the CLI user and both states?"""
    from inspect_app.orgs.operations import update_unit

    update_unit(org["TS-LB-01"], {"name": "路北新名字"})
    db.session.commit()
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "org_unit.update"))
    assert entry.actor_name.startswith("cli")
    assert entry.before["name"] == "路北支行网点1" and entry.after["name"] == "路北新名字"
    assert entry.at is not None
