"""Backup and restore: one archive holding a logical dump of every table, the photo store and a
manifest with the SHA-256 of everything in it.

Archive layout (a gzip-compressed tar whose members are regular files with fixed names)::

    tables/<table>.jsonl   one JSON object per row (keys: column names), ordered by primary key;
                           the tables come in dependency order (parents first)
    blobs/ab/cd/<sha256>   every photo blob under its own SHA-256 (the local backend's layout)
    manifest.json          format version, creation time, Alembic revision, source dialect,
                           tool version; per table its columns with their codecs, row count,
                           size and SHA-256; per blob its key, size and SHA-256; written last

Values are encoded by column type, identically on SQLite and PostgreSQL, so an archive made on
one restores on the other. The codec of every column is recorded in the manifest:

- ``int``, ``float``, ``bool``, ``str``: plain JSON (an enum as the string it is stored as);
- ``decimal``: a string such as ``"39.640000"``, never a float, so nothing is rounded;
- ``datetime``, ``date``, ``time``: ISO 8601, keeping the UTC offset when the value has one;
- ``bytes``: base64; ``uuid``: its canonical string;
- ``json``: the document wrapped in a one-element list, ``[document]``, so that a stored JSON
  ``null`` document (``[null]``) stays distinct from SQL NULL;
- SQL NULL is always ``null``.

Nothing in an archive is trusted before it is verified: member names must be exactly the names
this module writes (no absolute paths, no ``..``, no links, no duplicates), nothing is ever
extracted to disk by name, and every checksum is checked before the database is touched.
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import logging
import os
import re
import tarfile
import tempfile
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as dtime
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from ..audit.operations import record
from ..db import utcnow
from ..errors import DomainError
from ..evidence.storage import (
    BlobNotFound,
    LocalStorage,
    S3Storage,
    Storage,
    StorageError,
    StorageFull,
    content_key,
    key_path,
    make_storage,
)
from ..extensions import db
from ..i18n import N_
from ..messages import Message

log = logging.getLogger(__name__)

__all__ = [
    "FORMAT", "FORMAT_VERSION", "BackupError", "ArchiveInvalid", "TargetNotReady",
    "TargetNotEmpty", "RestoreRefused", "BackupReport", "RestoreReport", "create_backup", "restore_backup",
    "verify_archive", "describe_archive", "archive_complete", "photo_gap_lines", "iter_keys", "default_backup_path", "BLOB_KEY_COLUMNS",
]

FORMAT = "inspect-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
#: Rows fetched and inserted per round trip: bounded memory whatever the table size.
BATCH = 1000
#: A manifest is a few kilobytes per thousand photos; anything huge is not ours.
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
CHUNK = 1024 * 1024

_TABLE_NAME = re.compile(r"[A-Za-z0-9_]{1,63}")
_KEY = re.compile(r"[0-9a-f]{64}")
_SHA256 = _KEY
#: The only member names an archive may contain (a full match also excludes ``/x`` and ``..``).
_MEMBER = re.compile(r"manifest\.json|tables/[A-Za-z0-9_]{1,63}\.jsonl"
                     r"|blobs/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}")


# ----------------------------------------------------------------------------- errors


class BackupError(DomainError):
    """A backup or restore that cannot be done; the message says why, in Chinese."""

    status, code, message = 409, "backup_failed", N_("备份或恢复失败")


class ArchiveInvalid(BackupError):
    """The archive is damaged, incomplete, tampered with or not one of ours."""

    status, code, message = 422, "archive_invalid", N_("备份文件已损坏或不是本系统的备份文件")


class TargetNotReady(BackupError):
    """The target database is not migrated to the archive's revision."""

    code = "target_not_ready"


class TargetNotEmpty(BackupError):
    """The target database holds data and the caller did not agree to replace it."""

    code = "target_not_empty"


class RestoreRefused(BackupError):
    """The target database refused the archive's data (a value too long for its column, a
    duplicate key …); the restore was rolled back. ``--check`` cannot foresee this: it checks
    the archive, not what the target's schema accepts."""

    status, code = 422, "restore_refused"


# ----------------------------------------------------------------------------- reports


class _Counts:
    """What a backup and a restore both report: rows per table and the photos not archived."""

    tables: dict[str, int]
    corrupt_blobs: list[str]
    missing_blobs: list[str]

    @property
    def complete(self) -> bool:
        """Whether every photo the storage holds or the database refers to is in the archive
        (and, after a restore, back in storage)."""
        return not (self.corrupt_blobs or self.missing_blobs)

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


@dataclass
class BackupReport(_Counts):
    """What :func:`create_backup` wrote."""

    path: Path
    revision: str
    dialect: str
    #: Rows per table, in dump order.
    tables: dict[str, int]
    blobs: int
    blob_bytes: int
    size: int
    #: Blobs whose content no longer matches their key; left out of the archive.
    corrupt_blobs: list[str] = field(default_factory=list)
    #: Keys the database refers to that the storage does not hold.
    missing_blobs: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"备份完成：{len(self.tables)} 张表，共 {self.rows} 行；"
            f"{stored_files(self.tables, self.blobs)}（{_human_size(self.blob_bytes)}）",
            f"文件：{self.path}（{_human_size(self.size)}）",
            f"数据库迁移版本：{self.revision}",
        ]
        if self.corrupt_blobs:
            lines.append(f"警告：{len(self.corrupt_blobs)} 个存储文件的内容与其校验值不符，已跳过：")
            lines.extend(f"  {key}" for key in self.corrupt_blobs)
        if self.missing_blobs:
            lines.append(f"警告：数据库引用的 {len(self.missing_blobs)} 个存储文件在存储中不存在：")
            lines.extend(f"  {key}" for key in self.missing_blobs)
        return "\n".join(lines)


@dataclass
class RestoreReport(_Counts):
    """What :func:`restore_backup` put back."""

    path: Path
    revision: str
    tables: dict[str, int]
    blobs: int
    #: Whether existing rows were deleted first (``wipe=True`` on a non-empty database).
    wiped: bool
    #: SHA-256 of the archive file, as recorded in the audit entry of the restore.
    sha256: str = ""
    #: Photos the backup could not take (see :class:`BackupReport`): still missing now.
    corrupt_blobs: list[str] = field(default_factory=list)
    missing_blobs: list[str] = field(default_factory=list)
    #: The restored rows that refer to each of those photos, e.g. ``{key: ["photos id 7"]}``.
    referrers: dict[str, list[str]] = field(default_factory=dict)

    def summary(self) -> str:
        head = "已清空原有数据并恢复" if self.wiped else "恢复完成"
        lines = [f"{head}：{len(self.tables)} 张表，共 {self.rows} 行；"
                 f"{stored_files(self.tables, self.blobs)}",
                 f"来自：{self.path}（SHA-256 {self.sha256}）", f"数据库迁移版本：{self.revision}"]
        lines.extend(photo_gap_lines(self.corrupt_blobs, self.missing_blobs, self.referrers))
        return "\n".join(lines)


def stored_files(tables: dict[str, int], blobs: int) -> Message:
    """How many photos (rows of ``photos``) and how many files in the photo storage: a photo
    is stored as three files (the original and two renditions), and bulk exports' ZIPs are
    stored there too, so the two counts differ (``照片 1 张，存储文件 3 个``)."""
    return Message(N_("照片 %(photos)s 张，存储文件 %(blobs)s 个"),
                   photos=tables.get("photos", 0), blobs=blobs)


def photo_gap_lines(corrupt: list[str], missing: list[str],
                    referrers: dict[str, list[str]] | None = None) -> list[str]:
    """Warnings for the photos a backup could not take, as ``restore`` and ``--check`` say them.

    An archive that verifies can still lack photos: ``backup`` leaves out blobs damaged in
    storage and cannot archive those the database refers to but storage lacks. It warns and
    exits 3 then, and records them in the manifest; whoever restores must hear it too, or the
    gaps surface only when someone opens a result whose photos no longer display.
    """
    referrers = referrers or {}
    lines: list[str] = []
    for keys, warning in (
            (corrupt, N_("警告：备份时有 %(count)s 个存储文件的内容与其校验值不符（已损坏），"
                         "未包含在备份中，恢复后无法显示：")),
            (missing, N_("警告：备份时数据库引用的 %(count)s 个存储文件在存储中不存在，"
                         "未包含在备份中，恢复后无法显示："))):
        if keys:
            lines.append(Message(warning, count=len(keys)))
            lines.extend(f"  {key}" + (f"（{'、'.join(referrers[key])}）"
                                        if referrers.get(key) else "") for key in keys)
    return lines


def describe_archive(manifest: dict[str, Any]) -> str:
    """What ``restore --check`` says about an archive that verified, photo gaps included."""
    tables = {table["name"]: table["rows"] for table in manifest["tables"]}
    lines = [Message(N_("备份文件完好：%(tables)s 张表，共 %(rows)s 行；%(files)s；"
                        "迁移版本 %(revision)s；创建于 %(created)s"),
                     tables=len(tables), rows=sum(tables.values()),
                     files=stored_files(tables, len(manifest["blobs"])),
                     revision=manifest["alembic_revision"], created=manifest["created_at"])]
    lines.extend(photo_gap_lines(manifest["corrupt_blobs"], manifest["missing_blobs"]))
    return "\n".join(lines)


def archive_complete(manifest: dict[str, Any]) -> bool:
    """Whether the backup took every photo (none damaged or missing when it was made)."""
    return not (manifest["corrupt_blobs"] or manifest["missing_blobs"])


# ----------------------------------------------------------------------------- value codecs


def column_codec(column: sa.Column) -> str:
    """The codec (see the module docstring) used for ``column``'s values."""
    type_ = column.type
    if isinstance(type_, sa.TypeDecorator):
        type_ = type_.impl_instance
    for cls, codec in _CODEC_BY_TYPE:
        if isinstance(type_, cls):
            if codec == "decimal" and not type_.asdecimal:
                return "float"
            return codec
    raise BackupError(N_("无法备份 %(column)s：不支持的列类型 %(type)r"),
                      column=f"{column.table.name}.{column.name}", type=type_)


#: Most specific first: Enum is a String, Float a Numeric, JSON must win over everything.
_CODEC_BY_TYPE: list[tuple[type, str]] = [
    (sa.JSON, "json"),
    (sa.Enum, "str"),
    (sa.Boolean, "bool"),
    (sa.DateTime, "datetime"),
    (sa.Date, "date"),
    (sa.Time, "time"),
    (sa.Float, "float"),
    (sa.Numeric, "decimal"),
    (sa.Integer, "int"),
    (sa.LargeBinary, "bytes"),
    (sa.Uuid, "uuid"),
    (sa.String, "str"),
]

_ENCODERS: dict[str, Callable[[Any], Any]] = {
    "json": lambda text: [json.loads(text)],  # selected as text: see _select_expression
    "str": str,
    "bool": bool,
    "int": int,
    "float": float,
    "decimal": str,
    "datetime": datetime.isoformat,
    "date": date.isoformat,
    "time": dtime.isoformat,
    "bytes": lambda value: base64.b64encode(value).decode("ascii"),
    "uuid": str,
}


def _decode_json(value: list) -> Any:
    if not isinstance(value, list) or len(value) != 1:
        raise ValueError("a json value must be a one-element list")
    #: JSON.NULL stores the JSON document ``null``; a plain None would too, but say it.
    return sa.JSON.NULL if value[0] is None else value[0]


def _decode_uuid(value: str):
    import uuid

    return uuid.UUID(value)


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "json": _decode_json,
    "str": str,
    "bool": lambda value: _typed(value, bool),
    "int": lambda value: _typed(value, int),
    "float": float,
    "decimal": Decimal,
    "datetime": datetime.fromisoformat,
    "date": date.fromisoformat,
    "time": dtime.fromisoformat,
    "bytes": lambda value: base64.b64decode(value, validate=True),
    "uuid": _decode_uuid,
}


def _typed(value: Any, kind: type) -> Any:
    if type(value) is not kind:
        raise ValueError(f"expected {kind.__name__}, got {value!r}")
    return value


def _select_expression(column: sa.Column, codec: str):
    if codec == "json":
        #: Read the stored text, not the parsed document: only the text tells SQL NULL
        #: from a JSON null document.
        return sa.cast(column, sa.Text()).label(column.name)
    if isinstance(column.type, sa.Enum):
        #: The stored string, whatever the enum class makes of it.
        return sa.type_coerce(column, sa.String()).label(column.name)
    return column


# ----------------------------------------------------------------------------- photo keys


def _local_keys(storage: LocalStorage) -> Iterator[str]:
    root = storage.root
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            if name.startswith(".tmp-"):
                continue  # a write in progress (or one a crash left): not a blob
            relative = os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/")
            if _KEY.fullmatch(name) and key_path(name) == relative:
                yield name
            else:
                log.warning("ignoring %s in the photo store: not a blob", relative)


def _s3_keys(storage: S3Storage) -> Iterator[str]:
    paginator = storage.client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=storage.bucket, Prefix=storage.prefix):
        for obj in page.get("Contents", ()):
            relative = obj["Key"][len(storage.prefix):]
            name = relative.rsplit("/", 1)[-1]
            if _KEY.fullmatch(name) and key_path(name) == relative:
                yield name
            else:
                log.warning("ignoring %s in the photo bucket: not a blob", obj["Key"])


#: How to list every blob of each storage backend (storage.py has no listing method).
KEY_LISTERS: dict[type[Storage], Callable[[Any], Iterator[str]]] = {
    LocalStorage: _local_keys,
    S3Storage: _s3_keys,
}


def iter_keys(storage: Storage) -> Iterator[str]:
    """Every blob key in ``storage``, each once, in sorted order."""
    for cls in type(storage).__mro__:
        if cls in KEY_LISTERS:
            return iter(sorted(set(KEY_LISTERS[cls](storage))))
    raise BackupError(N_("无法列出照片存储 %(storage)r 中的文件：不支持的存储类型"), storage=storage)


# ----------------------------------------------------------------------------- helpers


def _human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _tool_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("inspect-app")
    except PackageNotFoundError:
        return "unknown"


def _app_tables() -> list[sa.Table]:
    return list(db.metadata.sorted_tables)


def _alembic_revision(conn: sa.Connection) -> str | None:
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
    return ",".join(sorted(versions)) or None


def _sqlite_begin(conn: sa.Connection, mode: str = "") -> None:
    """Open a real SQLite transaction now.

    pysqlite only begins one before INSERT/UPDATE/DELETE, so without this each SELECT reads its
    own snapshot and DDL (dropping triggers) would commit on its own.
    """
    if conn.dialect.name == "sqlite" and not conn.connection.dbapi_connection.in_transaction:
        conn.exec_driver_sql(f"BEGIN {mode}".strip())


def _table_file(name: str) -> str:
    return f"tables/{name}.jsonl"


def _blob_file(key: str) -> str:
    return f"blobs/{key_path(key)}"


def _add_member(tar: tarfile.TarFile, name: str, path: Path) -> int:
    info = tarfile.TarInfo(name)
    info.size = path.stat().st_size
    info.mtime = int(time.time())
    info.mode = 0o600  # dumps hold password hashes: readable by their owner only once unpacked
    with path.open("rb") as fh:
        tar.addfile(info, fh)
    return info.size


def _backup_folder(folder: Path, *, create: bool) -> None:
    """Make sure the archive's folder exists: create it (owner-only) if allowed, else refuse."""
    if create:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    elif not folder.is_dir():
        raise BackupError(N_("备份文件所在的目录不存在：%(folder)s。请先创建该目录，"
                             "或检查 --output 路径是否写错"), folder=folder)


def _open_private(path: Path) -> BinaryIO:
    """Create ``path`` for writing, readable and writable by its owner only (0600).

    An archive holds password and token hashes and mystery shoppers' identities. The mode is
    given to ``open(2)`` itself, so the file is never readable by others, not even for the
    moment between creating it and a later ``chmod``, whatever the umask. A ``.partial`` left
    by a crashed run is removed first: ``O_EXCL`` then guarantees the mode is ours (and that
    a symbolic link planted under that name is not followed).
    """
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    return os.fdopen(fd, "wb")


#: How ``backup`` names an archive by default: its UTC time, so names sort oldest first.
ARCHIVE_NAME = re.compile(r"inspect-\d{8}T\d{6}Z\.tar\.gz")


def default_backup_path() -> Path:
    """``instance/backups/inspect-<UTC timestamp>.tar.gz`` of the current application."""
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    return Path(current_app.instance_path) / "backups" / f"inspect-{stamp}.tar.gz"


def prune_backups(folder: Path, keep: int, *, current: Path | None = None) -> list[Path]:
    """Delete all but the ``keep`` newest archives in ``folder`` named as :data:`ARCHIVE_NAME`
    (by their names' times, not the files' dates a copy may have changed), never ``current``
    (the archive just written, which counts as one of them); any other file is left alone.
    Returns the archives deleted, oldest first."""
    others = sorted(path for path in folder.iterdir()
                    if ARCHIVE_NAME.fullmatch(path.name) and path.is_file()
                    and path.name != getattr(current, "name", None))
    room = max(0, keep - (current is not None))
    doomed = others[:len(others) - room]
    for path in doomed:
        path.unlink(missing_ok=True)
        log.info("old backup %s deleted (keeping the %s newest)", path, keep)
    return doomed


# ----------------------------------------------------------------------------- backup


def create_backup(path: str | os.PathLike, *, create_folder: bool = False) -> BackupReport:
    """Write one archive at ``path`` with every table, every photo and a manifest.

    The tables are read in a single read transaction (REPEATABLE READ on PostgreSQL, one
    ``BEGIN`` on SQLite), so they are consistent with each other; rows are streamed in batches
    through temporary files next to the archive, never held in memory all at once. The archive
    is written under ``<path>.partial`` and renamed when complete, so ``path`` is never a
    half-written backup.

    The photos archived are the keys the database refers to (:data:`BLOB_KEY_COLUMNS`, read in
    the same transaction) plus every blob found in the storage. Photos whose content does not
    match their key, and referenced keys the storage lacks, are listed in the report and the
    manifest instead of failing the whole backup.

    The folder ``path`` is in must exist unless ``create_folder`` is true (meant for the
    default ``instance/backups``): a mistyped ``-o`` must not quietly create directories, as
    root anywhere on the disk.
    """
    path = Path(path)
    if not (path.name.endswith(".tar.gz") or path.name.endswith(".tgz")):
        raise BackupError(N_("备份文件名须以 .tar.gz 结尾：%(path)s"), path=path)
    if path.exists():
        raise BackupError(N_("文件已存在，不会覆盖：%(path)s"), path=path)
    _backup_folder(path.parent, create=create_folder)
    storage = make_storage(current_app.config)
    partial = path.with_name(path.name + ".partial")
    log.info("backup to %s started", path)
    try:
        with tempfile.TemporaryDirectory(prefix=".backup-", dir=path.parent) as scratch, \
                _open_private(partial) as raw:
            with tarfile.open(fileobj=raw, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
                manifest, referenced = _dump_database(tar, Path(scratch))
                _dump_blobs(tar, storage, Path(scratch), manifest, referenced)
                data = json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8")
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
                tar.addfile(info, io.BytesIO(data))
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    report = BackupReport(
        path=path, revision=manifest["alembic_revision"], dialect=manifest["database"]["dialect"],
        tables={t["name"]: t["rows"] for t in manifest["tables"]},
        blobs=len(manifest["blobs"]), blob_bytes=sum(b["size"] for b in manifest["blobs"]),
        size=path.stat().st_size, corrupt_blobs=manifest["corrupt_blobs"],
        missing_blobs=manifest["missing_blobs"])
    log.info("backup %s written: %d tables, %d rows, %d photos, %d bytes",
             path, len(report.tables), report.rows, report.blobs, report.size)
    return report


def _dump_database(tar: tarfile.TarFile, scratch: Path) -> tuple[dict[str, Any], set[str]]:
    engine = db.engine
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with conn.begin():
            _sqlite_begin(conn)
            revision = _alembic_revision(conn)
            if revision is None:
                raise BackupError(N_("数据库尚未迁移（没有 alembic_version 表），请先执行 "
                                     "flask --app inspect_app db upgrade"))
            manifest: dict[str, Any] = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "created_at": utcnow().isoformat(),
                "tool": {"name": "inspect-app", "version": _tool_version()},
                "alembic_revision": revision,
                "database": {"dialect": conn.dialect.name},
                "tables": [],
                "blobs": [],
                "corrupt_blobs": [],
                "missing_blobs": [],
            }
            for table in _app_tables():
                scratch_file = scratch / f"{table.name}.jsonl"
                entry = _dump_table(conn, table, scratch_file)
                entry["size"] = _add_member(tar, entry["file"], scratch_file)
                scratch_file.unlink()
                manifest["tables"].append(entry)
                log.info("dumped table %s: %d rows", table.name, entry["rows"])
            referenced = _referenced_keys(conn)
    return manifest, referenced


#: Columns that hold photo storage keys, as (table, column). Tables this version does not
#: have are skipped, so the list may name tables before their migration exists.
BLOB_KEY_COLUMNS: list[tuple[str, str]] = [
    ("photos", "original_key"),
    ("photos", "display_key"),
    ("photos", "thumb_key"),
]


def _referenced_keys(conn: sa.Connection) -> set[str]:
    """Every storage key the database refers to (see :data:`BLOB_KEY_COLUMNS`)."""
    tables = db.metadata.tables
    keys: set[str] = set()
    for table_name, column_name in BLOB_KEY_COLUMNS:
        if table_name not in tables or column_name not in tables[table_name].c:
            continue
        column = tables[table_name].c[column_name]
        result = conn.execution_options(yield_per=BATCH).execute(
            sa.select(column).where(column.is_not(None)).distinct())
        keys.update(key for key in result.scalars() if _KEY.fullmatch(key))
    return keys


def _dump_table(conn: sa.Connection, table: sa.Table, target: Path) -> dict[str, Any]:
    columns = [(column, column_codec(column)) for column in table.columns]
    encoders = [(column.name, _ENCODERS[codec]) for column, codec in columns]
    order = list(table.primary_key.columns) or list(table.columns)
    stmt = sa.select(*(_select_expression(c, codec) for c, codec in columns)).order_by(*order)
    digest, rows = hashlib.sha256(), 0
    result = conn.execution_options(yield_per=BATCH).execute(stmt)
    with target.open("wb") as out:
        for partition in result.partitions():
            for row in partition:
                record = {name: None if value is None else encode(value)
                          for (name, encode), value in zip(encoders, row)}
                line = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
                data = line.encode("utf-8") + b"\n"
                digest.update(data)
                out.write(data)
                rows += 1
    return {
        "name": table.name,
        "file": _table_file(table.name),
        "columns": {column.name: codec for column, codec in columns},
        "primary_key": [column.name for column in table.primary_key.columns],
        "rows": rows,
        "sha256": digest.hexdigest(),
    }


def _dump_blobs(tar: tarfile.TarFile, storage: Storage, scratch: Path,
                manifest: dict[str, Any], referenced: set[str]) -> None:
    staged = scratch / "blob"
    corrupt: list[str] = []
    missing: list[str] = []
    for key in sorted(set(iter_keys(storage)) | referenced):
        #: Staged through a file while hashing: a blob that fails its check never reaches the
        #: archive, and S3 objects are streamed rather than held in memory.
        digest, size = hashlib.sha256(), 0
        try:
            with staged.open("wb") as out:
                for chunk in storage.stream(key, CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
        except BlobNotFound:
            log.error("photo blob %s is referenced by the database but not in storage", key)
            missing.append(key)
            continue
        if digest.hexdigest() != key:
            log.error("photo blob %s does not match its SHA-256 (got %s): left out of the backup",
                      key, digest.hexdigest())
            corrupt.append(key)
            continue
        _add_member(tar, _blob_file(key), staged)
        manifest["blobs"].append({"key": key, "file": _blob_file(key), "size": size,
                                  "sha256": key})
    staged.unlink(missing_ok=True)
    manifest["corrupt_blobs"], manifest["missing_blobs"] = corrupt, missing
    log.info("archived %d photo blobs (%d corrupt and %d missing, not archived)",
             len(manifest["blobs"]), len(corrupt), len(missing))


# ----------------------------------------------------------------------------- verify


def _members(tar: tarfile.TarFile) -> Iterator[tuple[tarfile.TarInfo, str]]:
    """The archive's members in order, refusing any name or kind this module never writes."""
    seen: set[str] = set()
    for member in tar:
        name = member.name
        if not _MEMBER.fullmatch(name) or not member.isreg():
            raise ArchiveInvalid(N_("备份文件中有不应出现的条目：%(name)r，已拒绝"), name=name)
        if name in seen:
            raise ArchiveInvalid(N_("备份文件中的条目 %(name)s 重复出现，已拒绝"), name=name)
        seen.add(name)
        yield member, name


#: Errors reading an archive: the compressed stream, the tar structure or the file itself.
READ_ERRORS = (tarfile.TarError, OSError, EOFError, zlib.error)

#: What the gzip/tar/zlib libraries' English texts mean, said for an administrator (first
#: match wins; the library's text is only logged).
_READ_PROBLEMS: list[tuple[str, str]] = [
    ("empty file", N_("文件为空")),
    ("not a gzip", N_("不是 gzip 压缩文件")),
    ("crc check failed", N_("校验失败（解压后的数据与文件记录的 CRC 校验值不符）")),
    ("incorrect length", N_("校验失败（解压后的数据长度与文件记录的不符）")),
    ("zlib", N_("压缩数据已损坏，无法解压")),
    ("unexpected end of data", N_("文件不完整（归档内容提前结束）")),
    ("truncated header", N_("文件不完整（归档内容提前结束）")),
    ("header", N_("归档结构已损坏（条目头无效）")),
    ("bad checksum", N_("归档结构已损坏（条目头无效）")),
]


def _read_problem(exc: BaseException) -> Message:
    """A Chinese description of why the archive could not be read.

    The libraries say it in English ("Compressed file ended before the end-of-stream marker
    was reached", "CRC check failed 0x…"); an administrator needs to know whether the file is
    cut short, damaged or not a backup at all. The original text goes to the log (INFO).
    """
    log.info("reading the archive failed: %s: %s", type(exc).__name__, exc)
    if isinstance(exc, EOFError):
        return Message(N_("文件不完整（压缩数据提前结束）"))
    if isinstance(exc, zlib.error):
        return Message(N_("压缩数据已损坏，无法解压"))
    if isinstance(exc, PermissionError):
        return Message(N_("没有读取该文件的权限"))
    text = str(exc).lower()
    if isinstance(exc, (tarfile.TarError, gzip.BadGzipFile)):
        for clue, problem in _READ_PROBLEMS:
            if clue in text:
                return Message(problem)
        return Message(N_("文件已损坏或格式无法识别"))
    if isinstance(exc, OSError) and exc.errno is not None:
        return Message(N_("读取文件时发生系统错误（错误号 %(errno)s）"), errno=exc.errno)
    return Message(N_("文件已损坏或格式无法识别"))


def _open_archive(path: Path) -> tarfile.TarFile:
    if not path.is_file():
        raise BackupError(N_("找不到备份文件：%(path)s"), path=path)
    try:
        return tarfile.open(path, "r:gz")
    except READ_ERRORS as exc:
        raise ArchiveInvalid(N_("无法读取备份文件 %(path)s：%(error)s"), path=path,
                             error=_read_problem(exc)) from exc


def _hash_stream(fh: BinaryIO) -> str:
    return _hash_chunks(iter(lambda: fh.read(CHUNK), b""))


def _hash_chunks(chunks: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def verify_archive(path: str | os.PathLike) -> dict[str, Any]:
    """Check every member of the archive at ``path`` against its manifest; return the manifest.

    Reads the archive once, front to back, and changes nothing. Raises :class:`ArchiveInvalid`
    (with a Chinese message naming the first problem) when a checksum, a size, a row count or a
    member is wrong, missing or unexpected.
    """
    path = Path(path)
    digests: dict[str, tuple[str, int]] = {}
    raw_manifest = None
    tar = _open_archive(path)
    try:
        with tar:
            for member, name in _members(tar):
                fh = tar.extractfile(member)
                if name == MANIFEST:
                    if member.size > MAX_MANIFEST_BYTES:
                        raise ArchiveInvalid(N_("备份文件的清单过大，不是本系统的备份文件"))
                    raw_manifest = fh.read()
                else:
                    digests[name] = (_hash_stream(fh), member.size)
            #: tarfile stops quietly at a damaged header; reading the rest of the gzip stream
            #: makes its CRC and length check speak up instead.
            while tar.fileobj.read(CHUNK):
                pass
    except READ_ERRORS as exc:
        raise ArchiveInvalid(N_("备份文件已损坏，无法完整读取：%(error)s"),
                             error=_read_problem(exc)) from exc
    if raw_manifest is None:
        raise ArchiveInvalid(N_("备份文件中没有 manifest.json：文件不完整、已损坏或不是本系统的备份"))
    manifest = _parse_manifest(raw_manifest)
    expected = {t["file"]: (t["sha256"], t.get("size")) for t in manifest["tables"]}
    expected.update({b["file"]: (b["sha256"], b["size"]) for b in manifest["blobs"]})
    missing = sorted(set(expected) - set(digests))
    if missing:
        raise ArchiveInvalid(N_("备份文件不完整，缺少 %(count)s 个文件，例如 %(example)s"),
                             count=len(missing), example=missing[0])
    extra = sorted(set(digests) - set(expected))
    if extra:
        raise ArchiveInvalid(N_("备份文件中有清单未列出的文件：%(name)s"), name=extra[0])
    for name, (sha, size) in expected.items():
        actual_sha, actual_size = digests[name]
        if actual_sha != sha or (size is not None and actual_size != size):
            raise ArchiveInvalid(N_("备份文件已损坏：%(name)s 的校验值与清单不符，已拒绝恢复"), name=name)
    log.info("archive %s verified: %d tables, %d photo blobs", path, len(manifest["tables"]),
             len(manifest["blobs"]))
    return manifest


def _parse_manifest(raw: bytes) -> dict[str, Any]:
    """Parse the manifest and check its shape; file names are derived, never taken on trust."""
    try:
        manifest = json.loads(raw.decode("utf-8"))
        if manifest.get("format") != FORMAT:
            raise ArchiveInvalid(N_("不是本系统的备份文件（清单格式不符）"))
        if manifest.get("format_version") != FORMAT_VERSION:
            raise ArchiveInvalid(N_("备份格式版本 %(version)s 不受支持（本程序支持版本 %(supported)s）"),
                                 version=manifest.get("format_version"), supported=FORMAT_VERSION)
        if not isinstance(manifest.get("alembic_revision"), str):
            raise ValueError("alembic_revision")
        for table in manifest["tables"]:
            if not _TABLE_NAME.fullmatch(table["name"]) \
                    or table["file"] != _table_file(table["name"]) \
                    or not _SHA256.fullmatch(table["sha256"]) \
                    or type(table["rows"]) is not int \
                    or any(codec not in _DECODERS for codec in table["columns"].values()):
                raise ValueError(table.get("name"))
        for blob in manifest["blobs"]:
            if not _KEY.fullmatch(blob["key"]) or blob["sha256"] != blob["key"] \
                    or blob["file"] != _blob_file(blob["key"]) or type(blob["size"]) is not int:
                raise ValueError(blob.get("key"))
        for gap in ("corrupt_blobs", "missing_blobs"):
            keys = manifest.setdefault(gap, [])
            if not isinstance(keys, list) or not all(
                    isinstance(key, str) and _KEY.fullmatch(key) for key in keys):
                raise ValueError(gap)
    except ArchiveInvalid:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ArchiveInvalid(N_("备份文件的清单 manifest.json 无效（%(error)s）"), error=exc) from exc
    return manifest


# ----------------------------------------------------------------------------- restore


def restore_backup(path: str | os.PathLike, *, wipe: bool = False) -> RestoreReport:
    """Rebuild the configured database and photo store from the archive at ``path``.

    Order of work, so that a refusal never leaves anything changed:

    1. :func:`verify_archive` — every checksum, before anything is touched;
    2. in one write transaction: the database must be at the archive's Alembic revision and
       empty, unless ``wipe`` is true, in which case every app table is emptied first
       (PostgreSQL: ``TRUNCATE … RESTART IDENTITY CASCADE``; SQLite: ``DELETE`` in reverse
       dependency order, with the audit log's append-only triggers dropped and re-created
       around the deletion inside the same transaction — they are back before the commit);
    3. rows are inserted table by table in dependency order, in batches; each table's file is
       hashed again while it is read;
    4. PostgreSQL sequences are moved past the restored ids;
    5. every photo is put into the configured storage and read back to check its SHA-256;
    6. an audit entry ``backup.restore`` (the archive's name and SHA-256, who ran it, whether
       data was emptied, the counts): emptying the append-only audit log must leave a trace,
       and since it is written in the same transaction it exists exactly when the restore
       does;
    7. commit. Any failure before it rolls the database back (photos already stored are
       harmless: storage is content-addressed).
    """
    path = Path(path)
    manifest = verify_archive(path)
    archive_sha256 = _file_sha256(path)
    storage = make_storage(current_app.config)
    tables = {table.name: table for table in _app_tables()}
    #: An open ORM transaction would hold locks that block TRUNCATE, and its objects would be
    #: stale after the restore anyway.
    db.session.remove()
    log.warning("restore from %s into %s started (wipe=%s)", path,
                db.engine.url.render_as_string(hide_password=True), wipe)
    try:
        counts, blobs, wiped = _restore_into_database(path, archive_sha256, manifest, storage,
                                                      tables, wipe)
    except sa.exc.SQLAlchemyError as exc:
        #: The rows are refused in _load_table; this is the rest (emptying, sequences).
        reason = _database_reason(exc)
        log.info("restore from %s failed in the database: %s", path, reason)
        raise RestoreRefused(N_("恢复时数据库报错：%(reason)s。恢复已回滚，目标数据库保持原样"),
                             reason=reason) from exc
    report = RestoreReport(path=path, revision=manifest["alembic_revision"], tables=counts,
                           blobs=blobs, wiped=wiped, sha256=archive_sha256,
                           corrupt_blobs=manifest["corrupt_blobs"],
                           missing_blobs=manifest["missing_blobs"],
                           referrers=_referrers(manifest["corrupt_blobs"]
                                                + manifest["missing_blobs"]))
    if not report.complete:
        log.warning("restored from %s without %d photos the backup lacked (damaged: %s; "
                    "missing: %s)", path, len(report.corrupt_blobs) + len(report.missing_blobs),
                    report.corrupt_blobs, report.missing_blobs)
    log.warning("restore from %s done: %d tables, %d rows, %d photos%s", path,
                len(report.tables), report.rows, report.blobs,
                " (existing data replaced)" if wiped else "")
    return report


def _referrers(keys: list[str]) -> dict[str, list[str]]:
    """For each photo key, the restored rows that refer to it (``photos id 7``), read from
    :data:`BLOB_KEY_COLUMNS` after the commit, so the warning says which photos are gone."""
    found: dict[str, list[str]] = {}
    if not keys:
        return found
    tables = db.metadata.tables
    with db.engine.connect() as conn:
        for table_name, column_name in BLOB_KEY_COLUMNS:
            if table_name not in tables or column_name not in tables[table_name].c:
                continue
            table = tables[table_name]
            pk = list(table.primary_key.columns)
            if len(pk) != 1:
                continue
            column = table.c[column_name]
            for key, row_id in conn.execute(
                    sa.select(column, pk[0]).where(column.in_(keys)).order_by(pk[0])):
                label = f"{table_name} id {row_id}"
                if label not in found.setdefault(key, []):
                    found[key].append(label)
    return found


def _restore_into_database(path: Path, archive_sha256: str, manifest: dict[str, Any],
                           storage: Storage, tables: dict[str, sa.Table],
                           wipe: bool) -> tuple[dict[str, int], int, bool]:
    """Steps 2 to 7 of :func:`restore_backup`, in one transaction: (rows per table, photos
    stored, whether existing data was emptied)."""
    counts: dict[str, int] = {}
    blobs = 0
    with db.engine.connect() as conn:
        with conn.begin():
            _sqlite_begin(conn, "IMMEDIATE")
            wiped = _prepare_target(conn, manifest, tables, wipe)
            by_file = {entry["file"]: entry for entry in manifest["tables"]}
            tar = _open_archive(path)
            try:
                with tar:
                    for member, name in _members(tar):
                        if name in by_file:
                            entry = by_file[name]
                            counts[entry["name"]] = _load_table(
                                conn, tables[entry["name"]], tar.extractfile(member), entry)
                        elif name.startswith("blobs/"):
                            _restore_blob(storage, name.rsplit("/", 1)[-1],
                                          tar.extractfile(member))
                            blobs += 1
            except READ_ERRORS as exc:
                raise ArchiveInvalid(N_("读取备份文件时出错，已回滚：%(error)s"),
                                     error=_read_problem(exc)) from exc
            if len(counts) != len(manifest["tables"]) or blobs != len(manifest["blobs"]):
                raise ArchiveInvalid(N_("备份文件在恢复过程中发生变化（内容不完整），已回滚"))
            if conn.dialect.name == "postgresql":
                _reset_sequences(conn, tables.values())
            _record_restore(conn, path, archive_sha256, manifest, counts, blobs, wiped)
    return counts, blobs, wiped


def _record_restore(conn: sa.Connection, path: Path, archive_sha256: str,
                    manifest: dict[str, Any], counts: dict[str, int], blobs: int,
                    wiped: bool) -> None:
    """Write the restore's audit entry on ``conn``, inside the restore's transaction.

    After the sequences were reset, so the entry takes the next id after the restored ones.
    The actor is whoever ran the command (``cli:<login name>``, see :func:`record`).
    """
    with Session(bind=conn) as session:
        record("backup.restore", object_type="backup", object_id=archive_sha256, after={
            "file": path.name,
            "sha256": archive_sha256,
            "wipe": wiped,
            "backup_created_at": manifest["created_at"],
            "revision": manifest["alembic_revision"],
            "rows": sum(counts.values()),
            "tables": counts,
            "photos": blobs,
            "photos_lacking": len(manifest["corrupt_blobs"]) + len(manifest["missing_blobs"]),
        }, session=session)
        session.flush()


def _file_sha256(path: Path) -> str:
    """The SHA-256 of the whole archive file, naming it in the audit log."""
    try:
        with path.open("rb") as fh:
            return _hash_stream(fh)
    except OSError as exc:
        raise ArchiveInvalid(N_("无法读取备份文件 %(path)s：%(error)s"), path=path,
                             error=_read_problem(exc)) from exc


def _prepare_target(conn: sa.Connection, manifest: dict[str, Any],
                    tables: dict[str, sa.Table], wipe: bool) -> bool:
    """Refuse a target that cannot take the archive; empty it when allowed. True if emptied."""
    revision = _alembic_revision(conn)
    wanted = manifest["alembic_revision"]
    if revision != wanted:
        raise TargetNotReady(
            N_("目标数据库的迁移版本是 %(revision)s，而备份的版本是 %(wanted)s。"
               "请先执行 flask --app inspect_app db upgrade %(wanted)s "
               "把（空的）目标数据库迁移到与备份相同的版本，再恢复；恢复后可再升级到最新版本"),
            revision=revision or Message("（尚未迁移）"), wanted=wanted)
    archived = [entry["name"] for entry in manifest["tables"]]
    if set(archived) != set(tables):
        raise TargetNotReady(N_("备份中的表与本程序的表不一致（程序版本与备份不匹配），已拒绝恢复"))
    for position, name in enumerate(archived):
        entry, table = manifest["tables"][position], tables[name]
        if set(entry["columns"]) != {c.name for c in table.columns}:
            raise TargetNotReady(N_("备份中表 %(table)s 的列与本程序不一致，已拒绝恢复"), table=name)
        parents = {fk.column.table.name for fk in table.foreign_keys} - {name}
        if not parents <= set(archived[:position]):
            raise ArchiveInvalid(N_("备份中表 %(table)s 排在它引用的表之前，无法按顺序恢复"), table=name)
    occupied = [table.name for table in tables.values()
                if conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first()]
    if not occupied:
        return False
    if not wipe:
        raise TargetNotEmpty(
            N_("目标数据库不是空的（%(tables)s 等 %(count)s 张表已有数据）。"
               "恢复会删除这些数据；如确认要用备份替换现有数据，请加 --yes 重试"
               "（建议先执行 backup 备份当前数据）"),
            tables="、".join(occupied[:5]), count=len(occupied))
    log.warning("emptying %d tables before the restore (including the audit log)",
                len(occupied))
    WIPERS.get(conn.dialect.name, _wipe_generic)(conn, list(tables.values()))
    return True


def _quote(conn: sa.Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def _wipe_postgresql(conn: sa.Connection, tables: list[sa.Table]) -> None:
    #: TRUNCATE fires no row-level DELETE trigger, so the audit log's append-only trigger
    #: stays in place; RESTART IDENTITY resets the id sequences.
    names = ", ".join(_quote(conn, table.name) for table in tables)
    conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


def _wipe_sqlite(conn: sa.Connection, tables: list[sa.Table]) -> None:
    names = [table.name for table in tables]
    marks = ", ".join("?" for _ in names)
    #: The triggers (the audit log's append-only guard) are read back from the schema and
    #: re-created exactly as they were, inside this transaction, so they cannot stay missing.
    triggers = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
        f"AND tbl_name IN ({marks}) ORDER BY name", tuple(names)).all()
    for name, _ in triggers:
        conn.exec_driver_sql(f"DROP TRIGGER {_quote(conn, name)}")
    _wipe_generic(conn, tables)
    for _, sql in triggers:
        conn.exec_driver_sql(sql)
    log.info("re-created %d triggers after emptying the tables", len(triggers))


def _wipe_generic(conn: sa.Connection, tables: list[sa.Table]) -> None:
    for table in reversed(tables):
        conn.execute(table.delete())


#: How to empty every app table on each database before a restore with ``wipe=True``.
WIPERS: dict[str, Callable[[sa.Connection, list[sa.Table]], None]] = {
    "postgresql": _wipe_postgresql,
    "sqlite": _wipe_sqlite,
}


def _load_table(conn: sa.Connection, table: sa.Table, fh: BinaryIO,
                entry: dict[str, Any]) -> int:
    """Insert the rows of one table file in batches; return how many."""
    decoders = {name: _DECODERS[codec] for name, codec in entry["columns"].items()}
    json_columns = {name for name, codec in entry["columns"].items() if codec == "json"}
    expected = set(decoders)
    pk = [column.name for column in table.primary_key.columns]
    #: Rows pointing at a row of the same table that comes later (a unit moved under a newer
    #: parent) are inserted without the link, and linked once the whole table is in.
    self_refs = [(fk.parent.name, fk.column.name) for fk in table.foreign_keys
                 if fk.column.table is table]
    seen: dict[str, set] = {ref: set() for _, ref in self_refs}
    relink: list[dict[str, Any]] = []
    digest, rows, batch = hashlib.sha256(), 0, []
    for line in fh:
        digest.update(line)
        rows += 1
        try:
            record = json.loads(line)
            if set(record) != expected:
                raise ValueError("columns differ from the manifest")
            row = {name: (sa.null() if name in json_columns else None) if value is None
                   else decoders[name](value) for name, value in record.items()}
        except (ValueError, TypeError) as exc:
            raise ArchiveInvalid(N_("备份中表 %(table)s 第 %(row)s 行无法解析：%(error)s"), table=table.name,
                                 row=rows, error=exc) from exc
        for column, ref in self_refs:
            if row[column] is not None and row[column] not in seen[ref]:
                relink.append(dict(row))
                row[column] = None
        for ref, values in seen.items():
            values.add(row[ref])
        batch.append(row)
        if len(batch) >= BATCH:
            _insert_batch(conn, table, batch, rows - len(batch) + 1)
            batch = []
    if batch:
        _insert_batch(conn, table, batch, rows - len(batch) + 1)
    if digest.hexdigest() != entry["sha256"] or rows != entry["rows"]:
        raise ArchiveInvalid(N_("备份文件在恢复过程中发生变化（%(file)s），已回滚"), file=entry["file"])
    for row in relink:
        #: Every column is set back, so onupdate defaults (updated_at) cannot fire.
        where = [table.c[name] == row[name] for name in pk]
        try:
            conn.execute(table.update().where(*where).values(
                {name: value for name, value in row.items() if name not in pk}))
        except sa.exc.SQLAlchemyError as exc:
            raise _refusal(table, exc, row=row) from exc
    log.info("restored table %s: %d rows", table.name, rows)
    return rows


def _insert_batch(conn: sa.Connection, table: sa.Table, batch: list[dict[str, Any]],
                  first_line: int) -> None:
    """Insert one batch of rows; when the database refuses it, say which row and why.

    The batch runs inside a savepoint so that, on PostgreSQL, the transaction stays usable
    after a refusal and the rows can be tried one by one to find the one refused. Everything
    is rolled back afterwards anyway: this is only to name the row.
    """
    try:
        with conn.begin_nested():
            conn.execute(table.insert(), batch)
    except sa.exc.SQLAlchemyError as exc:
        line, row, cause = _find_refused_row(conn, table, batch, first_line) or (None, None, exc)
        raise _refusal(table, cause, line=line, row=row) from exc


def _find_refused_row(conn: sa.Connection, table: sa.Table, batch: list[dict[str, Any]],
                      first_line: int) -> tuple[int, dict[str, Any], Exception] | None:
    """The first row of ``batch`` the database refuses on its own (its line in the table's
    file, the row, the error), or None when each row alone is accepted or trying fails."""
    try:
        for offset, row in enumerate(batch):
            try:
                with conn.begin_nested():
                    conn.execute(table.insert(), [row])
            except sa.exc.DBAPIError as exc:
                if exc.connection_invalidated:
                    return None
                return first_line + offset, row, exc
            except sa.exc.StatementError as exc:
                return first_line + offset, row, exc
    except sa.exc.SQLAlchemyError:
        log.info("could not find the row %s refused", table.name, exc_info=True)
    return None


def _refusal(table: sa.Table, exc: Exception, *, line: int | None = None,
             row: dict[str, Any] | None = None) -> RestoreRefused:
    """A :class:`RestoreRefused` naming the table, the row and the database's reason in short.

    Never the statement or its parameters: SQLAlchemy's own message lists them, password and
    token hashes included.
    """
    reason = _database_reason(exc)
    log.info("the database refused a row of %s (line %s): %s", table.name, line, reason)
    problem = _problem(table, exc, row)
    if row is None:
        return RestoreRefused(
            N_("恢复表 %(table)s 时数据库拒绝了其中的数据：%(problem)s（数据库的原因：%(reason)s）。"
               "恢复已回滚，目标数据库保持原样"),
            table=table.name, problem=problem, reason=reason)
    return RestoreRefused(
        N_("恢复表 %(table)s 时数据库拒绝了备份中第 %(line)s 行（%(key)s）：%(problem)s"
           "（数据库的原因：%(reason)s）。恢复已回滚，目标数据库保持原样"),
        table=table.name, line=line, key=_row_key(table, row), problem=problem, reason=reason)


def _row_key(table: sa.Table, row: dict[str, Any]) -> str:
    """The row's primary key as ``id=5`` (never its other columns: they may be secrets)."""
    columns = [column.name for column in table.primary_key.columns]
    return ", ".join(f"{name}={row.get(name)}" for name in columns)


def _problem(table: sa.Table, exc: Exception, row: dict[str, Any] | None) -> Message:
    """What kind of refusal it is, in Chinese; for a text too long, which column and how long."""
    for column in table.columns:
        limit = getattr(column.type, "length", None)
        value = (row or {}).get(column.name)
        if isinstance(value, str) and limit and len(value) > limit:
            return Message(N_("列 %(column)s 的值有 %(length)s 个字符，超过该列的上限 %(limit)s"),
                           column=column.name, length=len(value), limit=limit)
    if isinstance(exc, sa.exc.IntegrityError):
        return Message(N_("违反了数据库的约束（如唯一键重复、引用的记录不存在或必填值为空）"))
    if isinstance(exc, sa.exc.DataError):
        return Message(N_("数据不符合该列的类型或长度"))
    return Message(N_("数据库不接受这些数据"))


def _database_reason(exc: Exception) -> str:
    """The database's own reason in one short line, without the statement or its parameters.

    PostgreSQL's detail is kept only when it names a key (``Key (code)=(TS) already
    exists.``): other details, such as ``Failing row contains (…)``, show the whole row.
    """
    orig = getattr(exc, "orig", None) or exc
    diag = getattr(orig, "diag", None)
    if diag is not None and getattr(diag, "message_primary", None):
        reason = diag.message_primary
        detail = diag.message_detail or ""
        if detail.startswith("Key ("):
            reason = f"{reason}; {detail}"
    else:
        lines = str(orig).strip().splitlines()
        reason = lines[0] if lines else type(orig).__name__
    return reason if len(reason) <= 300 else reason[:300] + "…"


def _reset_sequences(conn: sa.Connection, tables: Iterable[sa.Table]) -> None:
    """Move every id sequence past the restored ids so new rows get fresh ones."""
    for table in tables:
        columns = list(table.primary_key.columns)
        if len(columns) != 1 or not isinstance(columns[0].type, sa.Integer):
            continue
        column = columns[0].name
        sequence = conn.execute(sa.text("SELECT pg_get_serial_sequence(:table, :column)"),
                                {"table": _quote(conn, table.name), "column": column}).scalar()
        if sequence is None:
            continue
        conn.execute(sa.text(
            f"SELECT setval(CAST(:sequence AS regclass), "
            f"COALESCE((SELECT MAX({_quote(conn, column)}) FROM {_quote(conn, table.name)}), 0)"
            " + 1, false)"), {"sequence": sequence})


def _restore_blob(storage: Storage, key: str, fh: BinaryIO) -> None:
    data = fh.read()
    if content_key(data) != key:
        raise ArchiveInvalid(N_("备份文件在恢复过程中发生变化（照片 %(key)s），已回滚"), key=key)
    for attempt in (1, 2):
        try:
            storage.put(data, content_type=_content_type(data))
        except StorageFull as exc:
            raise BackupError(N_("照片存储空间已满，照片 %(key)s 未能写入；已回滚数据库，"
                                 "腾出空间后再恢复"), key=key) from exc
        except (StorageError, OSError) as exc:  # not the archive: the photo store
            log.exception("writing photo %s to storage failed during a restore", key)
            raise BackupError(N_("照片 %(key)s 写入照片存储失败（详见日志）；已回滚数据库"),
                              key=key) from exc
        if _hash_chunks(storage.stream(key, CHUNK)) == key:
            return
        #: The same-size file already there is damaged: replace it once, then give up.
        log.error("photo %s in storage does not match its SHA-256 (attempt %d)", key, attempt)
        storage.delete(key)
    raise BackupError(N_("照片 %(key)s 写入存储后校验失败，已回滚数据库"), key=key)


def _content_type(data: bytes) -> str:
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return "application/octet-stream"
