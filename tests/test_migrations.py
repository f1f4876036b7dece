"""The schema comes from the migrations alone, and they agree with the models on both databases."""
from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from inspect_app import create_app
from inspect_app.cli import DATABASE_UNREACHABLE
from inspect_app.extensions import db

from .conftest import POSTGRES_ADMIN_URL, base_config, postgres_available


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path):
    """The URL of a brand-new, empty database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    reason = postgres_available()
    if reason:
        pytest.skip(f"PostgreSQL not reachable: {reason}")
    name = f"inspect_migr_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield sa.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def expression_indexes(conn: sa.Connection) -> set[str]:
    """Names of the indexes on expressions (SQLite's reflection skips them, so ask directly)."""
    if conn.dialect.name == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND sql LIKE '%(%(%'"
    else:
        # a bracket inside the column list: ``USING btree (substr(…))``, not a partial
        # index's ``(unit_id) WHERE ((status)::text = …)``
        sql = r"SELECT indexname FROM pg_indexes WHERE indexdef ~ 'USING \w+ \([^)]*\('"
    return set(conn.execute(sa.text(sql)).scalars())


# SQLite cannot reflect indexes on expressions: they are compared by name below instead.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_migrations_match_the_models_and_downgrade_to_base(empty_database_url, tmp_path):
    """Does upgrade give exactly the models' schema, and downgrade leave an empty database?"""
    app = create_app(base_config(tmp_path, empty_database_url))
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
            migrated = expression_indexes(conn)
        assert differences == [], differences
        modelled = {index.name for table in db.metadata.tables.values()
                    for index in table.indexes
                    if any(not isinstance(e, sa.Column) for e in index.expressions)}
        assert modelled and migrated == modelled
        downgrade(revision="base")
        with db.engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names()) - {"alembic_version"}
        assert tables == set()
        upgrade()  # and back up again: the round trip is clean
        db.engine.dispose()


def test_upgrade_flags_inspections_submitted_after_their_window(app, demo):
    """Upgrading a database that already holds submissions: is an inspection flagged late
    exactly when its submission date where the bank is (not in UTC) is after its window — and
    is the flag dropped cleanly by a downgrade?"""
    db.session.remove()
    downgrade(revision="0009_follow_ups_not_scored")
    inspections = sa.table("inspections", sa.column("id", sa.Integer()),
                           sa.column("due_end", sa.Date()),
                           sa.column("submitted_at", sa.DateTime()))
    with db.engine.begin() as conn:
        assert "submitted_late" not in {c["name"] for c in sa.inspect(conn).get_columns(
            "inspections")}
        rows = conn.execute(sa.select(inspections.c.id, inspections.c.due_end)
                            .where(inspections.c.submitted_at.is_not(None))
                            .order_by(inspections.c.id).limit(3)).all()
        moments = {  # naive UTC, as stored; Tangshan is 8 hours ahead
            rows[0].id: datetime.combine(rows[0].due_end, time(15, 59)),  # 23:59 there
            rows[1].id: datetime.combine(rows[1].due_end, time(16, 0)),  # next day there
            rows[2].id: datetime.combine(rows[2].due_end + timedelta(days=20), time(2)),
        }
        for inspection_id, moment in moments.items():
            conn.execute(sa.update(inspections).where(inspections.c.id == inspection_id)
                         .values(submitted_at=moment))
    upgrade()
    with db.engine.connect() as conn:
        late = set(conn.execute(sa.text(
            "SELECT id FROM inspections WHERE submitted_late")).scalars())
    assert late == {rows[1].id, rows[2].id}


def test_upgrade_gives_the_rules_notes_their_data(app, demo):
    """Upgrading a database whose watch-list history holds only the rules' Chinese sentences:
    does every note the rules wrote get back exactly the data it was said from, and a note a
    person wrote none?"""
    events = sa.table("watchlist_events", sa.column("id", sa.Integer()),
                      sa.column("entry_id", sa.Integer()), sa.column("kind", sa.String()),
                      sa.column("on", sa.Date()), sa.column("hits", sa.JSON()),
                      sa.column("note", sa.Text()), sa.column("note_data", sa.JSON()),
                      sa.column("created_at", sa.DateTime()))
    entries = sa.table("watchlist_entries", sa.column("id", sa.Integer()),
                       sa.column("exit_kind", sa.String()), sa.column("exit_reason", sa.Text()),
                       sa.column("exit_note", sa.JSON()))
    with db.engine.begin() as conn:
        entry_id = conn.execute(sa.select(entries.c.id).limit(1)).scalar_one()
        conn.execute(sa.insert(events).values(entry_id=entry_id, kind="manual_exit",
                                              on=datetime(2026, 11, 2).date(),
                                              hits=[], note="命中规则：整改逾期（人工核实）",
                                              created_at=datetime(2026, 11, 2, 8)))
        said = {row.id: row.note_data for row in conn.execute(sa.select(events))}
        exits = {row.id: row.exit_note for row in conn.execute(sa.select(entries))}
    kinds = {data["key"] for data in said.values() if data}
    assert {"entered", "changed", "exited"} <= kinds  # the demo's history has each kind
    # the notes the rules wrote as sentences alone; a later kind ("cleared": a listed unit
    # that meets no rule any more) has always been stored with its data
    said = {key: data for key, data in said.items()
            if not data or data["key"] in {"entered", "changed", "reentered", "exited"}}
    db.session.remove()
    downgrade(revision="0010_inspections_submitted_late")
    upgrade()
    with db.engine.connect() as conn:
        again = {row.id: row.note_data for row in conn.execute(sa.select(events))}
        assert {key: again[key] for key in said} == said
        assert {row.id: row.exit_note for row in conn.execute(sa.select(entries))} == exits
    assert any(exits.values())


def test_upgrade_tells_each_audit_entry_its_unit(app, demo):
    """Upgrading a log whose entries did not name their unit: does each get the unit the app
    records for it now (an inspection's outlet, a person's units …), does the log stay
    append-only, and does a downgrade drop the column cleanly?"""
    read = sa.text("SELECT id, org_path FROM audit_entries")
    with db.engine.connect() as conn:
        recorded = dict(conn.execute(read).all())
    assert sum(1 for path in recorded.values() if path) > len(recorded) / 2
    db.session.remove()
    downgrade(revision="0013_failures_counted")
    with db.engine.connect() as conn:
        assert "org_path" not in {c["name"] for c in sa.inspect(conn).get_columns(
            "audit_entries")}
    upgrade()
    with db.engine.connect() as conn:
        assert dict(conn.execute(read).all()) == recorded
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_entries SET reason = 'x'"))


def test_upgrade_tells_a_correction_from_an_appeal_upheld(app, demo):
    """Items closed by a corrected resubmission before ``corrected`` existed read "申诉成立":
    does the upgrade make them ``corrected``, and leave an appeal's ``withdrawn`` alone?"""
    from inspect_app.audit.operations import record
    from inspect_app.rectification.models import (
        ClosedReason,
        RectificationItem,
        RectificationState,
    )

    two = db.session.scalars(sa.select(RectificationItem).limit(2)).all()
    reasons = {two[0].id: "检查退回修改后该项合格", two[1].id: "申诉成立"}
    for item in two:
        item.state, item.closed_reason = RectificationState.closed, ClosedReason.withdrawn
        record("rectification.withdraw", item, object_type="rectification_item",
               reason=reasons[item.id])
    db.session.commit()
    db.session.remove()
    downgrade(revision="0014_audit_org_path")
    upgrade()
    with db.engine.connect() as conn:
        stored = dict(conn.execute(sa.text(
            "SELECT id, closed_reason FROM rectification_items WHERE id IN (:a, :b)"),
            {"a": two[0].id, "b": two[1].id}).all())
    assert stored == {two[0].id: "corrected", two[1].id: "withdrawn"}


def test_upgrade_gives_cancelled_tasks_the_reason_their_planner_gave(app, demo):
    """Tasks cancelled while the reason was kept in the audit log alone: does the upgrade give
    each the reason of its ``inspection.cancel`` entry (one cancelled without an entry none),
    and does a downgrade drop the column cleanly?"""
    from inspect_app.audit.operations import record
    from inspect_app.inspections.models import Inspection, InspectionStatus

    logged, unlogged = db.session.scalars(sa.select(Inspection).where(
        Inspection.status == InspectionStatus.assigned).order_by(Inspection.id).limit(2)).all()
    for task in (logged, unlogged):
        task.status = InspectionStatus.cancelled
    record("inspection.cancel", logged, reason="网点装修，本期不检查")
    db.session.commit()
    ids = {"a": logged.id, "b": unlogged.id}
    db.session.remove()
    downgrade(revision="0017_means_rounded_half_up")
    with db.engine.connect() as conn:
        assert "cancel_reason" not in {c["name"] for c in sa.inspect(conn).get_columns(
            "inspections")}
    upgrade()
    with db.engine.connect() as conn:
        stored = dict(conn.execute(sa.text(
            "SELECT id, cancel_reason FROM inspections WHERE id IN (:a, :b)"), ids).all())
    assert stored == {ids["a"]: "网点装修，本期不检查", ids["b"]: None}


def test_upgrade_files_a_person_with_roles_in_two_branches_under_both(app, demo):
    """Entries about a person with roles in two branches were filed as about the whole bank:
    does the upgrade file them under the person's unit in each branch, as the app now records
    them — and a downgrade put them back as they were?"""
    from inspect_app.auth.operations import create_user
    from inspect_app.auth.permissions import Role
    from inspect_app.demo.seed import DEMO_PASSWORD
    from inspect_app.orgs.models import OrgKind, OrgUnit
    from inspect_app.orgs.operations import create_unit

    beijing = create_unit(kind=OrgKind.branch, code="BJ", name="北京分行")
    lubei = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == "TS-LB"))
    person = create_user(username="smr.two", display_name="两地神秘人", password=DEMO_PASSWORD,
                         grants=[(Role.mystery_shopper, lubei), (Role.mystery_shopper, beijing)])
    db.session.commit()
    about = sa.text("SELECT e.id, e.org_path, u.org_path FROM audit_entries e LEFT JOIN "
                    "audit_entry_units u ON u.entry_id = e.id WHERE e.object_type = 'user' "
                    "AND e.object_id = :id ORDER BY e.id, u.org_path")
    with db.engine.connect() as conn:
        recorded = conn.execute(about, {"id": str(person.id)}).all()
    assert recorded and {(path, unit) for _, path, unit in recorded} == {
        ("", lubei.path), ("", beijing.path)}
    db.session.remove()
    downgrade(revision="0019_watchlist_progress")
    with db.engine.connect() as conn:
        assert "audit_entry_units" not in sa.inspect(conn).get_table_names()
        assert set(conn.execute(sa.text(
            "SELECT org_path FROM audit_entries WHERE object_type = 'user' AND object_id = :id"),
            {"id": str(person.id)}).scalars()) == {None}
    upgrade()
    with db.engine.connect() as conn:
        assert conn.execute(about, {"id": str(person.id)}).all() == recorded


def test_figures_are_recomputed_once_the_upgrade_reaches_the_newest_revision(app, demo, caplog):
    """0017 changes how the stored per-period figures are computed (means rounded half up): are
    they recomputed by the application's code only once the database has the newest schema that
    code is written for — an upgrade stopping short leaving them as they were and saying what
    to run, an upgrade through 0017 to the newest revision making them right?"""
    from inspect_app.watchlist.period_scores import differences

    spoil = sa.text("UPDATE period_scores SET inspections = inspections + 1000")
    spoiled = sa.text("SELECT count(*) FROM period_scores WHERE inspections >= 1000")
    db.session.remove()
    downgrade(revision="0016_after_photos_of_a_fix")
    with db.engine.begin() as conn:
        rows = conn.execute(spoil).rowcount
    assert rows > 0
    caplog.clear()
    upgrade(revision="0017_means_rounded_half_up")
    with db.engine.connect() as conn:
        assert conn.execute(spoiled).scalar() == rows
    assert any(r.name == "alembic.env" and r.levelname == "WARNING"
               and "Per-period figures not recomputed" in r.getMessage() for r in caplog.records)
    downgrade(revision="0016_after_photos_of_a_fix")
    upgrade()
    with db.engine.connect() as conn:
        assert conn.execute(spoiled).scalar() == 0
        assert differences(conn) == []


def test_upgrading_a_database_that_does_not_exist_says_so_in_one_line(tmp_path):
    """`flask db upgrade` against a PostgreSQL database nobody created: one line saying it
    cannot connect, why and what to check (createdb), exit 5 as every command that cannot
    reach its database — not a 30-line traceback?"""
    reason = postgres_available()
    if reason:
        pytest.skip(f"PostgreSQL not reachable: {reason}")
    url = sa.make_url(POSTGRES_ADMIN_URL).set(
        database=f"inspect_missing_{uuid.uuid4().hex[:8]}").render_as_string(False)
    app = create_app(base_config(tmp_path, url))
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    output = result.output  # stdout and stderr
    assert result.exit_code == DATABASE_UNREACHABLE, output
    assert "无法连接数据库" in output and "createdb" in output and "Traceback" not in output
    assert "does not exist" in output and len(output.strip().splitlines()) == 1, output
    with app.app_context():
        db.engine.dispose()


def test_upgrade_leaves_one_stay_per_unit_on_the_watch_list(app, demo):
    """A database holding a unit twice on the list (two racing listings, before the index):
    does the upgrade keep the earliest stay, close the later one on the day it began saying
    why, and then refuse a second active entry — and a downgrade drop the index cleanly?"""
    from inspect_app.watchlist.models import WatchlistEntry

    db.session.remove()
    downgrade(revision="0020_audit_entry_units")
    with db.engine.begin() as conn:
        first_id, unit_id = conn.execute(sa.text(
            "SELECT id, unit_id FROM watchlist_entries WHERE status = 'active' "
            "ORDER BY id LIMIT 1")).one()
        conn.execute(sa.text(
            "INSERT INTO watchlist_entries (unit_id, status, entered_on, entry_kind, "
            "entry_reason, reasons, rule_set_version, last_evaluated_on) SELECT unit_id, "
            "'active', entered_on, 'manual', '重复', reasons, rule_set_version, "
            "last_evaluated_on FROM watchlist_entries WHERE id = :id"), {"id": first_id})
    upgrade()
    with db.engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT id, status, exited_on = entered_on, exit_reason FROM watchlist_entries "
            "WHERE unit_id = :unit AND entry_kind = 'manual' AND entry_reason = '重复' "
            "OR id = :first ORDER BY id"), {"unit": unit_id, "first": first_id}).all()
    assert [(r[1], bool(r[2]) if r[2] is not None else None, r[3]) for r in rows] == [
        ("active", None, None), ("exited", True, "重复列入，已合并到先前的在册记录")]
    twin = db.session.get(WatchlistEntry, rows[1][0])
    twin.status = type(twin.status).active
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()
    db.session.remove()
    downgrade(revision="0020_audit_entry_units")
    with db.engine.connect() as conn:
        assert "uq_watchlist_entries_active_unit" not in {
            i["name"] for i in sa.inspect(conn).get_indexes("watchlist_entries")}
    upgrade()


def test_upgrade_keeps_the_shared_rules_for_every_branch_until_it_tunes_its_own(app, demo):
    """Watch-list rules tuned before they were per branch: after the upgrade does every branch
    go on with them (version and thresholds), does tuning make a version of one branch's own,
    numbered on, while the other keeps the shared rules — and does a downgrade keep the shared
    versions and restore the bank-wide numbering?"""
    from inspect_app.auth.models import User
    from inspect_app.db import JSONType
    from inspect_app.watchlist.operations import active_rule_set, update_rules
    from inspect_app.watchlist.rules import DEFAULT_RULE_SET

    from .helpers import demo_branch, second_branch

    db.session.remove()
    downgrade(revision="0023_coaching_action_client_id")
    with db.engine.begin() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM watchlist_rule_sets")).scalar() == 0
        conn.execute(sa.table(  # as 0023 has the table: no branch
            "watchlist_rule_sets", sa.column("version"), sa.column("rules", JSONType),
            sa.column("period_days"), sa.column("note"), sa.column("created_at")).insert(),
            [{"version": 1, "rules": DEFAULT_RULE_SET.to_dict(), "period_days": 90,
              "note": "默认规则", "created_at": datetime(2026, 1, 5)},
             {"version": 2, "rules": DEFAULT_RULE_SET.to_dict(), "period_days": 60,
              "note": "全行改为 60 天", "created_at": datetime(2026, 3, 5)}])
    upgrade()
    sjz = second_branch("sjz.fw")
    ts = demo_branch()
    for branch in (ts, sjz):
        shared = active_rule_set(branch)
        assert (shared.branch_id, shared.version, shared.period_days) == (None, 2, 60)
    manager = db.session.scalar(sa.select(User).where(User.username == "fwgl"))
    update_rules({"rules": shared.rules["rules"], "exit": shared.rules["exit"]}, branch=ts,
                 period_days=30, note="唐山改为 30 天", by=manager)
    db.session.commit()
    assert (active_rule_set(ts).branch_id, active_rule_set(ts).version) == (ts.id, 3)
    assert (active_rule_set(sjz).version, active_rule_set(sjz).period_days) == (2, 60)
    db.session.remove()
    downgrade(revision="0023_coaching_action_client_id")
    with db.engine.connect() as conn:
        assert conn.execute(sa.text(
            "SELECT version, period_days FROM watchlist_rule_sets ORDER BY version")).all() == [
            (1, 90), (2, 60)]
    upgrade()


def test_a_downgrade_reopens_the_items_closed_with_their_outlet(app, demo):
    """The code before 0025 cannot read an item closed as ``unit_closed`` (网点已停用): does a
    downgrade open such items again, as that code left a closed outlet's items, and leave the
    others as they were?"""
    db.session.remove()
    with db.engine.begin() as conn:
        ids = conn.execute(sa.text(
            "SELECT id FROM rectification_items WHERE state = 'open' ORDER BY id LIMIT 2")
        ).scalars().all()
        assert len(ids) == 2
        conn.execute(sa.text(
            "UPDATE rectification_items SET state = 'closed', closed_reason = 'unit_closed', "
            "closed_at = :at WHERE id = :id"), {"at": datetime(2026, 11, 30), "id": ids[0]})
        before = conn.execute(sa.text(
            "SELECT id, state, closed_reason FROM rectification_items WHERE id <> :id "
            "ORDER BY id"), {"id": ids[0]}).all()
    downgrade(revision="0024_watchlist_rules_per_branch")
    with db.engine.connect() as conn:
        assert conn.execute(sa.text(
            "SELECT state, closed_reason, closed_at FROM rectification_items WHERE id = :id"),
            {"id": ids[0]}).one() == ("open", None, None)
        assert conn.execute(sa.text(
            "SELECT id, state, closed_reason FROM rectification_items WHERE id <> :id "
            "ORDER BY id"), {"id": ids[0]}).all() == before
    upgrade()
