"""audit entries about a person with roles in several branches are read in each of them only

Revision ID: 0020_audit_entry_units
Revises: 0019_watchlist_progress
Create Date: 2026-11-30 13:30:00

An entry about a person (their account, sign-ins, tokens, report jobs) is filed under the
narrowest unit holding all their roles. For a person with roles in two branches there was none,
so the entry was filed as about the whole bank and every branch's administrators read it. Such
an entry now names one unit per branch (``audit_entry_units``, append-only like the log) and
``audit_entries.org_path`` is ``''``: each of those branches reads it, no other. Existing
entries get theirs from the person's roles now, as 0014 did; the log's triggers are lifted for
that one derived column and put back in the same transaction; no recorded content changes.
"""
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = '0020_audit_entry_units'
down_revision = '0019_watchlist_progress'
branch_labels = None
depends_on = None

#: object type → SQL giving (object id, user id): entries about a person's things (as 0014)
PERSON_OF = {
    "user": "SELECT id, id FROM users",
    "api_token": "SELECT id, user_id FROM api_tokens",
    "report_job": "SELECT id, created_by_id FROM report_jobs",
}


def _common(paths):
    parts = [p.strip("/").split("/") for p in paths]
    shared = []
    for level in zip(*parts):
        if len(set(level)) > 1:
            break
        shared.append(level[0])
    return f"/{'/'.join(shared)}/"


def _several(conn):
    """(object type, object id as text) → the person's path in each branch, for the things of
    every person with roles in more than one branch."""
    units = dict(conn.execute(sa.text("SELECT id, path FROM org_units")).all())
    grants = defaultdict(lambda: defaultdict(list))
    for user_id, unit_id in conn.execute(sa.text("SELECT user_id, org_unit_id FROM role_grants")):
        path = units[unit_id]
        grants[user_id][path.strip("/").split("/")[0]].append(path)
    people = {user_id: sorted(_common(paths) for paths in branches.values())
              for user_id, branches in grants.items() if len(branches) > 1}
    found = {}
    for kind, sql in PERSON_OF.items():
        for object_id, user_id in conn.execute(sa.text(sql)):
            if user_id in people:
                found[kind, str(object_id)] = people[user_id]
    return found


def _protect(table):
    """Append-only in the database too, as ``audit_entries`` (0001)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()")
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")


def _entry_triggers(conn, enabled):
    if conn.dialect.name == "postgresql":
        state = "ENABLE" if enabled else "DISABLE"
        op.execute(f"ALTER TABLE audit_entries {state} TRIGGER audit_entries_append_only")
    elif enabled:
        op.execute("CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries "
                   "BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_update")


def upgrade():
    op.create_table(
        'audit_entry_units',
        sa.Column('entry_id', sa.Integer(), nullable=False),
        sa.Column('org_path', sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(['entry_id'], ['audit_entries.id'],
                                name=op.f('fk_audit_entry_units_entry_id_audit_entries')),
        sa.PrimaryKeyConstraint('entry_id', 'org_path', name=op.f('pk_audit_entry_units')))
    op.create_index(op.f('ix_audit_entry_units_org_path'), 'audit_entry_units', ['org_path'],
                    unique=False)
    _protect("audit_entry_units")

    conn = op.get_bind()
    found = _several(conn)
    rows = []
    for entry_id, kind, object_id in conn.execute(sa.text(
            "SELECT id, object_type, object_id FROM audit_entries WHERE org_path IS NULL")):
        for path in found.get((kind, object_id), ()):
            rows.append({"entry_id": entry_id, "org_path": path})
    if not rows:
        return
    units = sa.table("audit_entry_units", sa.column("entry_id", sa.Integer()),
                     sa.column("org_path", sa.String()))
    conn.execute(units.insert(), rows)
    ids = sorted({row["entry_id"] for row in rows})
    _entry_triggers(conn, enabled=False)
    update = sa.text("UPDATE audit_entries SET org_path = '' WHERE id IN :ids") \
        .bindparams(sa.bindparam("ids", expanding=True))
    for start in range(0, len(ids), 500):
        conn.execute(update, {"ids": ids[start:start + 500]})
    _entry_triggers(conn, enabled=True)


def downgrade():
    conn = op.get_bind()
    _entry_triggers(conn, enabled=False)
    op.execute("UPDATE audit_entries SET org_path = NULL WHERE org_path = ''")
    _entry_triggers(conn, enabled=True)
    # its triggers go with the table (PostgreSQL's function stays: audit_entries' own)
    op.drop_index(op.f('ix_audit_entry_units_org_path'), table_name='audit_entry_units')
    op.drop_table('audit_entry_units')
