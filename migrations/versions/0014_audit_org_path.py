"""audit entries say which org unit they are about

Revision ID: 0014_audit_org_path
Revises: 0013_failures_counted
Create Date: 2026-11-29 21:30:00

``audit_entries.org_path`` holds the path of the unit an entry is about (an inspection's
outlet, a person's units…), so a reader of the log sees their own branch's entries and not
another branch's. Existing entries get theirs from the objects they name. The log is
append-only in the database: its triggers are lifted for this one derived column and put back
in the same transaction; no recorded content changes.
"""
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = '0014_audit_org_path'
down_revision = '0013_failures_counted'
branch_labels = None
depends_on = None

#: object type → SQL giving (object id, org unit id)
UNIT_OF = {
    "inspection": "SELECT id, outlet_id FROM inspections",
    "photo": "SELECT id, outlet_id FROM photos",
    "rectification_item": "SELECT id, outlet_id FROM rectification_items",
    "appeal": "SELECT a.id, f.outlet_id FROM appeals a JOIN findings f ON f.id = a.finding_id",
    "org_unit": "SELECT id, id FROM org_units",
    "watchlist_entry": "SELECT id, unit_id FROM watchlist_entries",
    "coaching_action": "SELECT c.id, e.unit_id FROM coaching_actions c "
                       "JOIN watchlist_entries e ON e.id = c.entry_id",
    "campaign": "SELECT id, scope_unit_id FROM campaigns",
    "inspection_team": "SELECT id, subbranch_id FROM inspection_teams",
}
#: object type → SQL giving (object id, user id): entries about a person's things
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
    return f"/{'/'.join(shared)}/" if shared else None


def _paths(conn):
    """(object type, object id as text) → path, for every object an entry may name."""
    units = dict(conn.execute(sa.text("SELECT id, path FROM org_units")).all())
    grants = defaultdict(list)
    for user_id, unit_id in conn.execute(sa.text("SELECT user_id, org_unit_id FROM role_grants")):
        grants[user_id].append(units[unit_id])
    people = {user_id: _common(paths) for user_id, paths in grants.items()}
    found = {}
    for kind, sql in UNIT_OF.items():
        for object_id, unit_id in conn.execute(sa.text(sql)):
            found[kind, str(object_id)] = units.get(unit_id)
    for kind, sql in PERSON_OF.items():
        for object_id, user_id in conn.execute(sa.text(sql)):
            found[kind, str(object_id)] = people.get(user_id)
    return found


def _triggers(conn, enabled):
    if conn.dialect.name == "postgresql":
        state = "ENABLE" if enabled else "DISABLE"
        op.execute(f"ALTER TABLE audit_entries {state} TRIGGER audit_entries_append_only")
    elif enabled:
        op.execute("CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries "
                   "BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_update")


def upgrade():
    op.add_column("audit_entries", sa.Column("org_path", sa.String(255), nullable=True))
    op.create_index("ix_audit_entries_org_path", "audit_entries", ["org_path"])
    conn = op.get_bind()
    found = _paths(conn)
    ids_by_path = defaultdict(list)
    for entry_id, kind, object_id in conn.execute(
            sa.text("SELECT id, object_type, object_id FROM audit_entries")):
        path = found.get((kind, object_id))
        if path:
            ids_by_path[path].append(entry_id)
    _triggers(conn, enabled=False)
    update = sa.text("UPDATE audit_entries SET org_path = :path WHERE id IN :ids") \
        .bindparams(sa.bindparam("ids", expanding=True))
    for path, ids in ids_by_path.items():
        for start in range(0, len(ids), 500):
            conn.execute(update, {"path": path, "ids": ids[start:start + 500]})
    _triggers(conn, enabled=True)


def downgrade():
    op.drop_index("ix_audit_entries_org_path", table_name="audit_entries")
    # plain SQL on both databases: SQLite's batch mode would rebuild the table without its
    # append-only triggers
    op.execute("ALTER TABLE audit_entries DROP COLUMN org_path")
