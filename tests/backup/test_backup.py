"""Backups: does one archive hold every row and photo, and does restore rebuild exactly that?"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from inspect_app import create_app
from inspect_app.audit.models import AuditEntry
from inspect_app.backup import operations
from inspect_app.backup.cli import EXIT_INCOMPLETE, register
from inspect_app.backup.operations import ArchiveInvalid, BackupError, iter_keys, verify_archive
from inspect_app.db import utcnow
from inspect_app.evidence.storage import key_path, make_storage
from inspect_app.extensions import db
from inspect_app.orgs.models import OrgKind, OrgUnit
from inspect_app.orgs.operations import create_unit

from ..conftest import POSTGRES_ADMIN_URL, base_config, postgres_available, upgrade
from ..helpers import filler_of
from ..helpers import jpeg as camera_jpeg

# ----------------------------------------------------------------------------- helpers


@pytest.fixture
def cli(app, runner):
    """The CLI runner with ``backup``/``restore`` registered (a no-op once create_app does it)."""
    register(app)
    return runner


@pytest.fixture
def fresh_app(backend, tmp_path):
    """Factory: another app on a new, migrated, empty database with its own empty photo folder.

    ``fresh_app()`` gives a database of the test's kind; ``fresh_app("sqlite")`` or
    ``fresh_app("postgresql")`` a given kind (for cross-database restores).
    """
    made: list[tuple] = []
    admin = None

    def make(kind: str | None = None):
        nonlocal admin
        kind = kind or backend.name
        root = tmp_path / f"target-{len(made)}"
        root.mkdir()
        dbname = None
        if kind == "sqlite":
            url = f"sqlite:///{root / 'target.sqlite3'}"
            if backend.name == "sqlite":
                shutil.copyfile(backend.template, root / "target.sqlite3")
            else:
                upgrade(url, root)
        else:
            reason = postgres_available()
            if reason:
                pytest.skip(f"PostgreSQL not reachable: {reason}")
            dbname = f"inspect_restore_{uuid.uuid4().hex[:10]}"
            admin = admin or sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{dbname}"'))
            url = sa.make_url(POSTGRES_ADMIN_URL).set(database=dbname) \
                .render_as_string(hide_password=False)
            upgrade(url, root)
        target = create_app(base_config(root, url))
        register(target)
        made.append((target, dbname))
        return target

    yield make
    for target, dbname in made:
        with target.app_context():
            db.session.remove()
            db.engine.dispose()
        if dbname:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
    if admin is not None:
        admin.dispose()


def jpeg(color: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), color).save(buffer, "JPEG")
    return buffer.getvalue()


def table_rows() -> dict[str, list[tuple]]:
    """Every row of every table of the current app, ordered by primary key.

    JSON columns are read as their stored text and parsed, wrapped in a tuple, so a JSON
    ``null`` document and SQL NULL compare different, on either database.
    """
    rows = {}
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            json_columns = [c.name for c in table.columns if isinstance(c.type, sa.JSON)]
            columns = [sa.cast(c, sa.Text()).label(c.name) if c.name in json_columns else c
                       for c in table.columns]
            result = conn.execute(sa.select(*columns).order_by(*table.primary_key.columns))
            rows[table.name] = [
                tuple((json.loads(value),) if name in json_columns and value is not None
                      else value for name, value in row._mapping.items())
                for row in result]
    return rows


def restored_rows() -> tuple[dict[str, list[tuple]], list[AuditEntry]]:
    """:func:`table_rows` without the audit entries a restore writes about itself, and those
    entries: the rest must be exactly what was backed up."""
    entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "backup.restore")
                                 .order_by(AuditEntry.id)).all()
    ids = {entry.id for entry in entries}
    rows = table_rows()
    rows["audit_entries"] = [row for row in rows["audit_entries"] if row[0] not in ids]
    return rows, entries


def photo_hashes(app) -> dict[str, str]:
    """SHA-256 of every blob in the app's photo storage, by key."""
    storage = make_storage(app.config)
    return {key: hashlib.sha256(storage.open(key)).hexdigest() for key in iter_keys(storage)}


def rewrite_archive(source: Path, target: Path, change) -> None:
    """Copy a backup, letting ``change(name, data)`` return new bytes for each member."""
    with tarfile.open(source, "r:gz") as old, tarfile.open(target, "w:gz") as new:
        for member in old:
            data = change(member.name, old.extractfile(member).read())
            member.size = len(data)
            new.addfile(member, io.BytesIO(data))


def rewrite_table(source: Path, target: Path, table: str, change) -> None:
    """Copy a backup, letting ``change(rows)`` edit one table's rows (dicts), and update the
    manifest's row count and checksums so the copy still verifies: a consistent archive the
    target database may still refuse."""
    name = f"tables/{table}.jsonl"
    with tarfile.open(source, "r:gz") as old:
        members = {m.name: old.extractfile(m).read() for m in old}
    rows = change([json.loads(line) for line in members[name].splitlines()])
    data = b"".join(json.dumps(row, ensure_ascii=False).encode() + b"\n" for row in rows)
    members[name] = data
    manifest = json.loads(members["manifest.json"])
    (entry,) = [t for t in manifest["tables"] if t["name"] == table]
    entry.update(rows=len(rows), size=len(data), sha256=hashlib.sha256(data).hexdigest())
    members["manifest.json"] = json.dumps(manifest).encode()
    with tarfile.open(target, "w:gz") as new:
        for member_name, content in members.items():
            info = tarfile.TarInfo(member_name)
            info.size = len(content)
            new.addfile(info, io.BytesIO(content))


def add_awkward_rows(org) -> None:
    """Rows a naive dump gets wrong: a link to a later row of the same table, SQL NULL next to
    JSON null in a JSON column, a JSON document with Unicode and nested numbers."""
    late_parent = create_unit(kind=OrgKind.subbranch, code="TS-NEW", name="新设支行",
                              parent=org["TS"])
    db.session.flush()
    #: An older outlet moved under a newer sub-branch: its parent comes later in id order.
    db.session.execute(sa.update(OrgUnit.__table__)
                       .where(OrgUnit.id == org["TS-LB-01"].id)
                       .values(parent_id=late_parent.id))
    db.session.execute(sa.insert(AuditEntry.__table__).values(
        at=utcnow(),
        actor_name="system", action="test.raw", object_type="test", object_id="1",
        before=sa.null(), after={"名称": "唐山", "n": [1, 2.5, None], "ok": True}))
    db.session.commit()


# ----------------------------------------------------------------------------- round trips


def test_demo_data_round_trips_row_for_row_and_photo_for_photo(cli, app, org, fresh_app,
                                                               tmp_path):
    """Does restoring a backup of the demo data into a fresh database give back every row of
    every table and every photo, byte for byte — and do new rows then get fresh ids?"""
    result = cli.invoke(args=["seed-demo", "--quiet"])
    assert result.exit_code == 0, result.output
    add_awkward_rows(org)
    storage = make_storage(app.config)
    keys = {storage.put(jpeg(color), content_type="image/jpeg") for color in ("red", "navy")}
    archive = tmp_path / "demo.tar.gz"

    result = cli.invoke(args=["backup", "--output", str(archive)])

    assert result.exit_code == 0, result.output
    assert "备份完成" in result.output and "照片 0 张，存储文件 2 个" in result.output
    source_rows, source_photos = table_rows(), photo_hashes(app)
    assert set(source_photos) == keys
    assert all(source_rows[name] for name in ("org_units", "users", "audit_entries",
                                              "checklists", "checklist_items"))
    target = fresh_app()
    with target.app_context():
        result = target.test_cli_runner().invoke(args=["restore", str(archive)])
        assert result.exit_code == 0, result.output
        assert "恢复完成" in result.output
        rows, (entry,) = restored_rows()
        assert rows == source_rows
        assert entry.id == max(row[0] for row in source_rows["audit_entries"]) + 1
        assert photo_hashes(target) == source_photos
        newest = max(row[0] for row in source_rows["org_units"])
        unit = create_unit(kind=OrgKind.outlet, code="TS-NEW-01", name="新网点",
                           parent=db.session.get(OrgUnit, newest))
        db.session.commit()
        assert unit.id == newest + 1


def test_summaries_count_photos_and_stored_files_apart(cli, client, api, first, fresh_app,
                                                       tmp_path):
    """One uploaded photo is three stored files (the original and two renditions): do the
    summaries of backup, restore --check and restore say 照片 1 张 and 存储文件 3 个, rather
    than "3 张照片" that the photos table (1 row) contradicts?"""
    spot = first("spot_check")
    response = client.post(f"/api/v1/inspections/{spot.id}/photos",
                           headers=api(filler_of(spot)), content_type="multipart/form-data",
                           data={"client_id": str(uuid.uuid4()), "item_code": "ENV-01",
                                 "file": (io.BytesIO(camera_jpeg(1, (640, 480))), "p.jpg")})
    assert response.status_code == 201, response.get_json()
    assert len(list(iter_keys(make_storage(client.application.config)))) == 3
    archive = tmp_path / "one-photo.tar.gz"

    backed_up = cli.invoke(args=["backup", "-o", str(archive)])

    assert backed_up.exit_code == 0, backed_up.output
    assert "照片 1 张，存储文件 3 个（" in backed_up.output, backed_up.output
    target = fresh_app()
    with target.app_context():
        runner = target.test_cli_runner()
        checked = runner.invoke(args=["restore", str(archive), "--check"])
        restored = runner.invoke(args=["restore", str(archive)])
    assert "照片 1 张，存储文件 3 个" in checked.output, checked.output
    assert "恢复完成" in restored.output and "照片 1 张，存储文件 3 个" in restored.output
    assert "张照片" not in backed_up.output + checked.output + restored.output


def test_a_backup_restores_into_the_other_kind_of_database(cli, app, backend, org, fresh_app,
                                                           tmp_path):
    """Is the dump really logical: does a SQLite backup restore into PostgreSQL and back?"""
    add_awkward_rows(org)
    make_storage(app.config).put(jpeg("green"))
    archive = tmp_path / "cross.tar.gz"
    assert cli.invoke(args=["backup", "-o", str(archive)]).exit_code == 0
    source_rows, source_photos = table_rows(), photo_hashes(app)

    target = fresh_app("postgresql" if backend.name == "sqlite" else "sqlite")
    with target.app_context():
        result = target.test_cli_runner().invoke(args=["restore", str(archive)])
        assert result.exit_code == 0, result.output
        assert restored_rows()[0] == source_rows
        assert photo_hashes(target) == source_photos


def test_restore_with_yes_replaces_the_data_and_keeps_the_audit_log_append_only(
        cli, app, org, make_unit, tmp_path):
    """Does ``restore --yes`` put the database back as it was at backup time, with the audit
    log's triggers still refusing deletes, and ids that do not collide afterwards?"""
    archive = tmp_path / "before.tar.gz"
    assert cli.invoke(args=["backup", "-o", str(archive)]).exit_code == 0
    at_backup = table_rows()
    subbranch_id = org["TS-LB"].id
    make_unit("outlet", "TS-LB-03", parent=org["TS-LB"])  # a unit and an audit entry, later
    db.session.remove()

    result = cli.invoke(args=["restore", str(archive), "--yes"])

    assert result.exit_code == 0, result.output
    assert "已清空原有数据并恢复" in result.output
    rows, (restore_entry,) = restored_rows()
    assert rows == at_backup
    newest_unit = max(row[0] for row in at_backup["org_units"])
    newest_entry = max(row[0] for row in at_backup["audit_entries"])
    assert restore_entry.id == newest_entry + 1
    unit = make_unit("outlet", "TS-LB-09", parent=db.session.get(OrgUnit, subbranch_id))
    assert unit.id == newest_unit + 1
    assert db.session.scalar(sa.func.max(AuditEntry.id)) == newest_entry + 2
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with db.engine.begin() as conn:
            conn.execute(sa.delete(AuditEntry.__table__))


def test_the_archive_is_private_from_the_moment_it_is_created(cli, app, tmp_path, monkeypatch):
    """With the usual umask 022, is the archive — and the ``.partial`` file it is written as —
    readable by its owner only (it holds password hashes), never world-readable even while
    the backup runs, and is a stale world-readable ``.partial`` not reused?"""
    archive = tmp_path / "private.tar.gz"
    partial = tmp_path / "private.tar.gz.partial"
    partial.write_bytes(b"left by a crash")
    partial.chmod(0o644)
    modes: list[int] = []
    dump_blobs = operations._dump_blobs

    def watching(*args, **kwargs):
        modes.append(partial.stat().st_mode & 0o777)
        return dump_blobs(*args, **kwargs)

    monkeypatch.setattr(operations, "_dump_blobs", watching)
    old_umask = os.umask(0o022)
    try:
        result = cli.invoke(args=["backup", "-o", str(archive)])
    finally:
        os.umask(old_umask)

    assert result.exit_code == 0, result.output
    assert modes == [0o600]
    assert archive.stat().st_mode & 0o777 == 0o600
    assert not partial.exists()
    verify_archive(archive)


def test_backup_refuses_an_output_folder_that_does_not_exist(cli, app, tmp_path, monkeypatch):
    """Does ``backup -o`` into a folder that does not exist refuse, in Chinese, instead of
    creating the missing directories — while the default instance/backups is still made?"""
    missing = tmp_path / "nonexistent" / "dir"

    result = cli.invoke(args=["backup", "-o", str(missing / "x.tar.gz")])

    assert result.exit_code != 0
    assert "目录不存在" in result.output and str(missing) in result.output, result.output
    assert not (tmp_path / "nonexistent").exists()
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    assert cli.invoke(args=["backup"]).exit_code == 0
    (archive,) = (tmp_path / "instance" / "backups").glob("inspect-*.tar.gz")
    assert archive.parent.stat().st_mode & 0o077 == 0


def test_a_restore_leaves_an_audit_entry_in_the_log_it_replaced(cli, app, org, tmp_path):
    """Does ``restore --yes``, which empties the append-only audit log, record itself in it —
    archive name and SHA-256, who ran it, that data was wiped, the counts — committed with
    the restore, so it is there exactly when the restored data is?"""
    archive = tmp_path / "audited.tar.gz"
    assert cli.invoke(args=["backup", "-o", str(archive)]).exit_code == 0
    sha256 = hashlib.sha256(archive.read_bytes()).hexdigest()
    rows_at_backup = sum(len(rows) for rows in table_rows().values())
    create_unit(kind=OrgKind.outlet, code="TS-LN-09", name="后来的网点", parent=org["TS-LN"])
    db.session.commit()
    db.session.remove()

    result = cli.invoke(args=["restore", str(archive), "--yes"])

    assert result.exit_code == 0, result.output
    assert sha256 in result.output
    _, (entry,) = restored_rows()
    assert entry.action == "backup.restore" and entry.object_type == "backup"
    assert entry.object_id == sha256
    assert entry.actor_id is None and entry.actor_name.startswith("cli")
    assert entry.after["file"] == "audited.tar.gz" and entry.after["sha256"] == sha256
    assert entry.after["wipe"] is True
    assert entry.after["rows"] == rows_at_backup
    assert entry.after["tables"]["org_units"] == len(org)
    assert entry.after["photos"] == 0


# ----------------------------------------------------------------------------- refusals


def test_a_corrupted_archive_is_refused_and_changes_nothing(cli, app, org, tmp_path):
    """Is an archive with one flipped byte refused before anything is touched, even with
    --yes on a database that holds data?"""
    make_storage(app.config).put(jpeg("red"))
    archive = tmp_path / "good.tar.gz"
    assert cli.invoke(args=["backup", "-o", str(archive)]).exit_code == 0
    create_unit(kind=OrgKind.outlet, code="TS-LN-09", name="后来的网点", parent=org["TS-LN"])
    db.session.commit()
    before_rows, before_photos = table_rows(), photo_hashes(app)

    flipped_table = tmp_path / "flipped-table.tar.gz"
    rewrite_archive(archive, flipped_table, lambda name, data: (
        data[:10] + bytes([data[10] ^ 0x01]) + data[11:]
        if name == "tables/org_units.jsonl" else data))
    flipped_gzip = tmp_path / "flipped-gzip.tar.gz"
    raw = bytearray(archive.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    flipped_gzip.write_bytes(bytes(raw))

    for bad, reason in ((flipped_table, "tables/org_units.jsonl 的校验值与清单不符"),
                        (flipped_gzip, "已损坏")):
        result = cli.invoke(args=["restore", str(bad), "--yes"])
        assert result.exit_code != 0
        assert reason in result.output, result.output
        assert table_rows() == before_rows
        assert photo_hashes(app) == before_photos


def test_unreadable_archives_are_described_in_chinese(cli, app, org, tmp_path):
    """Is an archive cut short, with a failing CRC, not gzip at all or empty refused with a
    Chinese reason — not the gzip/tar library's English text — by --check and restore alike?"""
    make_storage(app.config).put(jpeg("red"))
    archive = tmp_path / "good.tar.gz"
    assert cli.invoke(args=["backup", "-o", str(archive)]).exit_code == 0
    raw = archive.read_bytes()
    crc = bytearray(raw)
    crc[-6] ^= 0xFF  # the gzip trailer's CRC-32
    cases = {
        "cut.tar.gz": (raw[: len(raw) // 2], "文件不完整（压缩数据提前结束）"),
        "crc.tar.gz": (bytes(crc), "校验失败"),
        "plain.tar.gz": (b"not an archive at all\n" * 40, "不是 gzip 压缩文件"),
        "empty.tar.gz": (b"", "文件为空"),
    }
    before = table_rows()
    for name, (data, reason) in cases.items():
        (tmp_path / name).write_bytes(data)
        for extra in (["--check"], ["--yes"]):
            result = cli.invoke(args=["restore", str(tmp_path / name), *extra])

            assert result.exit_code != 0
            assert reason in result.output, (name, result.output)
            for english in ("Compressed file", "CRC check", "not a gzip", "empty file",
                            "Traceback"):
                assert english not in result.output, (name, result.output)
    assert table_rows() == before


def test_a_consistent_archive_the_database_refuses_ends_in_a_clear_message(
        cli, app, org, make_user, tmp_path):
    """An archive whose checksums agree but which holds the same username twice: does restore
    say, in Chinese, which table and row the database refused and why — with no traceback and
    no SQL parameters (password hashes) — exit non-zero and change nothing?"""
    make_user("dup_source")
    archive, bad = tmp_path / "b.tar.gz", tmp_path / "dup.tar.gz"
    assert cli.invoke(args=["backup", "-o", str(archive)]).exit_code == 0

    def duplicate_user(rows):
        copy = dict(rows[-1], id=max(row["id"] for row in rows) + 1)
        return [*rows, copy]

    rewrite_table(archive, bad, "users", duplicate_user)
    assert cli.invoke(args=["restore", str(bad), "--check"]).exit_code == 0
    create_unit(kind=OrgKind.outlet, code="TS-LN-09", name="后来的网点", parent=org["TS-LN"])
    db.session.commit()
    before = table_rows()
    hashes = [row["password_hash"] for row in db.session.execute(
        sa.select(sa.text("password_hash")).select_from(sa.text("users"))).mappings()]

    result = cli.invoke(args=["restore", str(bad), "--yes"])

    assert result.exit_code != 0
    line = len(before["users"]) + 1
    assert f"恢复表 users 时数据库拒绝了备份中第 {line} 行（id=" in result.output, result.output
    assert "违反了数据库的约束" in result.output and "已回滚" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    for leak in ("Traceback", "[SQL:", "parameters", "INSERT INTO", *hashes):
        assert leak not in result.output, result.output
    assert table_rows() == before


def test_text_too_long_for_postgresql_names_the_table_row_and_column(cli, app, org, fresh_app,
                                                                    tmp_path):
    """SQLite keeps a 150-character unit name that PostgreSQL's varchar(100) refuses: does a
    restore into PostgreSQL name the table, the row and the column, and roll back?"""
    archive, long = tmp_path / "b.tar.gz", tmp_path / "long.tar.gz"
    assert cli.invoke(args=["backup", "-o", str(archive)]).exit_code == 0

    def lengthen(rows):
        rows[1]["name"] = "很长的网点名称" * 21 + "长长长"
        return rows

    rewrite_table(archive, long, "org_units", lengthen)
    target = fresh_app("postgresql")
    with target.app_context():
        result = target.test_cli_runner().invoke(args=["restore", str(long)])

        assert result.exit_code != 0
        assert "恢复表 org_units 时数据库拒绝了备份中第 2 行（id=" in result.output, result.output
        assert "列 name 的值有 150 个字符，超过该列的上限 100" in result.output
        assert "value too long" in result.output  # the database's reason, in short
        assert "Traceback" not in result.output and "[SQL:" not in result.output
        assert not any(table_rows().values())


def test_restore_into_a_database_with_data_is_refused_without_yes(cli, app, org, tmp_path):
    """Does restore refuse, in Chinese, to overwrite a database that already holds data?"""
    archive = tmp_path / "b.tar.gz"
    assert cli.invoke(args=["backup", "-o", str(archive)]).exit_code == 0
    before = table_rows()

    result = cli.invoke(args=["restore", str(archive)])

    assert result.exit_code != 0
    assert "目标数据库不是空的" in result.output and "--yes" in result.output
    assert table_rows() == before


def test_restore_refuses_a_database_at_another_migration(cli, app, org, tmp_path):
    """Is a backup from another schema version refused, telling the user what to upgrade to?"""
    archive, other = tmp_path / "b.tar.gz", tmp_path / "old.tar.gz"
    assert cli.invoke(args=["backup", "-o", str(archive)]).exit_code == 0

    def older(name, data):
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["alembic_revision"] = "0001_foundation"
        return json.dumps(manifest).encode()

    rewrite_archive(archive, other, older)
    result = cli.invoke(args=["restore", str(other), "--yes"])
    assert result.exit_code != 0
    assert "db upgrade 0001_foundation" in result.output


def test_archive_members_with_unsafe_or_unknown_names_are_refused(tmp_path):
    """Are members named ``../x``, ``/etc/x``, links or unknown files refused before reading?"""
    def archive_with(info: tarfile.TarInfo, data: bytes = b"x") -> Path:
        path = tmp_path / f"evil-{uuid.uuid4().hex[:6]}.tar.gz"
        with tarfile.open(path, "w:gz") as tar:
            info.size = len(data) if info.isreg() else 0
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
        return path

    link = tarfile.TarInfo("manifest.json")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    for info in (tarfile.TarInfo("../tables/users.jsonl"), tarfile.TarInfo("/etc/cron.d/x"),
                 tarfile.TarInfo("tables/../../x.jsonl"), tarfile.TarInfo("notes.txt"), link):
        with pytest.raises(ArchiveInvalid, match="不应出现的条目"):
            verify_archive(archive_with(info))
    with pytest.raises(ArchiveInvalid, match="manifest.json"):
        verify_archive(archive_with(tarfile.TarInfo("tables/users.jsonl")))


# ----------------------------------------------------------------------------- photos


def store_photos_with_gaps(app, monkeypatch) -> tuple[str, str, str, str]:
    """Photos ``good`` and ``referenced`` (the database refers to it), ``bad`` (its file does
    not match its key) and ``missing`` (referred to, never stored); their keys, in that order.

    No migrated table holds photo keys in every version: the audit log's object_id stands in.
    """
    storage = make_storage(app.config)
    good = storage.put(jpeg("red"))
    referenced = storage.put(jpeg("blue"))
    bad = hashlib.sha256(b"original").hexdigest()
    damaged = Path(storage.root, *key_path(bad).split("/"))
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes(b"tampered")
    Path(storage.root, "README.txt").write_text("not a blob")
    missing = hashlib.sha256(b"never stored").hexdigest()
    monkeypatch.setattr(operations, "BLOB_KEY_COLUMNS", [("audit_entries", "object_id")])
    for key in (referenced, missing):
        db.session.execute(sa.insert(AuditEntry.__table__).values(
            at=utcnow(), actor_name="system", action="test.photo", object_type="photo",
            object_id=key))
    db.session.commit()
    return good, referenced, bad, missing


def test_damaged_and_missing_photos_are_reported_not_archived(cli, app, tmp_path, monkeypatch):
    """Does a blob whose bytes no longer match its key stay out of the archive, and a key the
    database refers to but storage lacks get reported — with a non-zero exit — while the rest
    is backed up to instance/backups by default?"""
    good, referenced, bad, missing = store_photos_with_gaps(app, monkeypatch)
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))

    result = cli.invoke(args=["backup"])

    assert result.exit_code == EXIT_INCOMPLETE
    assert "校验值不符" in result.output and bad in result.output
    assert "在存储中不存在" in result.output and missing in result.output
    (archive,) = (tmp_path / "instance" / "backups").glob("inspect-*.tar.gz")
    manifest = verify_archive(archive)
    assert [blob["key"] for blob in manifest["blobs"]] == sorted([good, referenced])
    assert manifest["corrupt_blobs"] == [bad]
    assert manifest["missing_blobs"] == [missing]


def test_restore_says_which_photos_the_backup_lacked(cli, app, tmp_path, monkeypatch):
    """When the backup lacked photos (damaged or missing at backup time), do ``restore
    --check`` and ``restore`` say so in Chinese — how many, which keys, which rows refer to
    them — and exit with the same status as the backup did, after restoring the rest?"""
    good, referenced, bad, missing = store_photos_with_gaps(app, monkeypatch)
    archive = tmp_path / "gaps.tar.gz"
    assert cli.invoke(args=["backup", "-o", str(archive)]).exit_code == EXIT_INCOMPLETE
    (missing_entry,) = db.session.scalars(
        sa.select(AuditEntry.id).where(AuditEntry.object_id == missing))

    checked = cli.invoke(args=["restore", str(archive), "--check"])
    restored = cli.invoke(args=["restore", str(archive), "--yes"])

    assert checked.exit_code == EXIT_INCOMPLETE, checked.output
    assert "备份文件完好" in checked.output and "存储文件 2 个" in checked.output
    assert restored.exit_code == EXIT_INCOMPLETE, restored.output
    assert "已清空原有数据并恢复" in restored.output and "存储文件 2 个" in restored.output
    for output in (checked.output, restored.output):
        assert "警告：备份时有 1 个存储文件的内容与其校验值不符" in output, output
        assert "警告：备份时数据库引用的 1 个存储文件在存储中不存在" in output
        assert bad in output and missing in output and good not in output
    assert f"{missing}（audit_entries id {missing_entry}）" in restored.output


def test_photos_in_s3_are_backed_up_and_restored(cli, app, backend, tmp_path, monkeypatch):
    """Does the S3 backend round-trip too (listed with the bucket's own listing)?"""
    if backend.name != "sqlite":
        pytest.skip("storage behaviour: one database is enough")
    server_mod = pytest.importorskip("moto.server", reason="moto[server] is not installed")
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        config = {"PHOTO_STORAGE": "s3", "PHOTO_S3_ENDPOINT_URL": f"http://{host}:{port}",
                  "PHOTO_S3_REGION": "us-east-1", "PHOTO_S3_ACCESS_KEY_ID": "testing",
                  "PHOTO_S3_SECRET_ACCESS_KEY": "testing", "PHOTO_S3_PREFIX": "photos/"}
        for bucket in ("source", "target"):
            make_storage({**config, "PHOTO_S3_BUCKET": bucket}).client.create_bucket(
                Bucket=bucket)
        monkeypatch.setitem(app.config, "PHOTO_S3_BUCKET", "source")
        for key, value in config.items():
            monkeypatch.setitem(app.config, key, value)
        keys = {make_storage(app.config).put(jpeg(c)) for c in ("red", "blue", "white")}
        archive = tmp_path / "s3.tar.gz"
        assert cli.invoke(args=["backup", "-o", str(archive)]).exit_code == 0

        monkeypatch.setitem(app.config, "PHOTO_S3_BUCKET", "target")
        result = cli.invoke(args=["restore", str(archive), "--yes"])

        assert result.exit_code == 0, result.output
        assert "存储文件 3 个" in result.output
        assert set(photo_hashes(app)) == keys
        assert all(key == digest for key, digest in photo_hashes(app).items())
    finally:
        server.stop()


def test_a_failure_halfway_through_a_restore_rolls_everything_back(cli, app, org, tmp_path,
                                                                   monkeypatch):
    """If storing a photo fails after the tables were emptied and reloaded, is the database
    left exactly as before, audit-log triggers included?"""
    make_storage(app.config).put(jpeg("red"))
    archive = tmp_path / "b.tar.gz"
    assert cli.invoke(args=["backup", "-o", str(archive)]).exit_code == 0
    create_unit(kind=OrgKind.outlet, code="TS-LN-09", name="后来的网点", parent=org["TS-LN"])
    db.session.commit()
    before = table_rows()

    def broken_storage(*args, **kwargs):
        raise BackupError("照片存储不可用")

    monkeypatch.setattr(operations, "_restore_blob", broken_storage)
    result = cli.invoke(args=["restore", str(archive), "--yes"])

    assert result.exit_code != 0 and "照片存储不可用" in result.output
    assert table_rows() == before
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with db.engine.begin() as conn:
            conn.execute(sa.delete(AuditEntry.__table__))


def test_a_full_photo_store_during_a_restore_says_so_and_rolls_back(cli, app, org, tmp_path,
                                                                      monkeypatch):
    """The photo store fills up while a restore writes the photos back: does the restore say
    so in Chinese (not "cannot read the archive", not a traceback), exit non-zero and leave
    the database as it was?"""
    from inspect_app.evidence.storage import LocalStorage, StorageFull

    make_storage(app.config).put(jpeg("red"))
    archive = tmp_path / "b.tar.gz"
    assert cli.invoke(args=["backup", "-o", str(archive)]).exit_code == 0
    before = table_rows()

    def full(self, data, **kwargs):
        raise StorageFull("存储空间不足，照片未保存")

    monkeypatch.setattr(LocalStorage, "put", full)
    result = cli.invoke(args=["restore", str(archive), "--yes"])

    assert result.exit_code != 0
    assert "照片存储空间已满" in result.output and "已回滚数据库" in result.output, result.output
    assert "无法读取备份文件" not in result.output and "Traceback" not in result.output
    assert table_rows() == before


def test_a_nightly_backup_keeps_the_newest_archives_and_nothing_else_goes(cli, app, tmp_path,
                                                                          monkeypatch):
    """``backup --keep 3``: are the older archives beyond the newest three deleted — the new
    one counted, even when a copy from elsewhere carries a later time — while other files in
    the folder, and every archive after an incomplete backup, are left alone? And is ``--keep``
    with an ``-o`` name it would never count refused before anything is written?"""
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    folder = tmp_path / "instance" / "backups"
    folder.mkdir(parents=True)
    old = [folder / f"inspect-2026110{day}T023000Z.tar.gz" for day in range(1, 6)]
    later = folder / "inspect-20991231T023000Z.tar.gz"  # a clock ahead, somewhere
    others = [folder / "notes.txt", folder / "inspect-manual.tar.gz",
              folder / "inspect-20261101T023000Z.tar.gz.partial"]
    for path in [*old, later, *others]:
        path.write_bytes(b"x")

    result = cli.invoke(args=["backup", "--keep", "3"])

    assert result.exit_code == 0, result.output
    (new,) = set(folder.glob("inspect-*Z.tar.gz")) - {*old, later}
    verify_archive(new)
    left = {path.name for path in folder.iterdir()}
    assert left == {new.name, later.name, old[-1].name, *(p.name for p in others)}
    assert "已删除 4 份较早的备份（保留最近 3 份）" in result.output
    assert old[0].name in result.output

    from inspect_app.backup import cli as backup_cli

    def named_at(stamp):  # a later run than the first one's second
        monkeypatch.setattr(backup_cli, "default_backup_path",
                            lambda: folder / f"inspect-{stamp}.tar.gz")
        return folder / f"inspect-{stamp}.tar.gz"

    only = named_at("20261202T023000Z")
    assert cli.invoke(args=["backup", "--keep", "1"]).exit_code == 0
    # the archive just written stays, though one from a clock ahead sorts after it
    assert {path.name for path in folder.iterdir()} == {only.name, *(p.name for p in others)}

    store_photos_with_gaps(app, monkeypatch)
    named_at("20261203T023000Z")
    incomplete = cli.invoke(args=["backup", "--keep", "1"])
    assert incomplete.exit_code == EXIT_INCOMPLETE
    assert "较早的备份一份也没有删除" in incomplete.output
    assert only.exists()

    named = cli.invoke(args=["backup", "--keep", "2", "-o", str(tmp_path / "mine.tar.gz")])
    assert named.exit_code == 2 and "--keep 只清理按默认方式命名的备份" in named.output
    assert not (tmp_path / "mine.tar.gz").exists()
    assert cli.invoke(args=["backup", "--keep", "0"]).exit_code == 2
