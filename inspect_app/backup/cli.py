"""``flask --app inspect_app backup [--output PATH] [--keep N]`` and ``restore PATH [--yes]``."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext

from ..evidence.storage import StorageError
from .operations import (
    ARCHIVE_NAME,
    BackupError,
    archive_complete,
    create_backup,
    default_backup_path,
    describe_archive,
    prune_backups,
    restore_backup,
    verify_archive,
)

#: Exit status of a backup that was written but lacks photos (damaged in storage, or referenced
#: by the database and absent), so that a scheduled job notices; ``restore`` and
#: ``restore --check`` of such a backup exit with it too.
EXIT_INCOMPLETE = 3


@click.command("backup", help="备份全部数据与照片到一个归档文件（默认 instance/backups/）")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="备份文件路径，须以 .tar.gz 结尾；所在目录须已存在")
@click.option("--keep", type=click.IntRange(min=1), metavar="N",
              help="备份完整时，只保留同一目录中最近的 N 份备份（inspect-<时间>.tar.gz），"
                   "删除更早的；其他文件不动")
@with_appcontext
def backup_command(output: Path | None, keep: int | None) -> None:
    """Write one archive with every table, every photo and a manifest of checksums; with
    ``--keep``, then delete the older archives beyond the newest N (a nightly job's rotation)."""
    path = output or default_backup_path()
    if keep and not ARCHIVE_NAME.fullmatch(path.name):
        # the archives --keep counts are those named as the default names them
        raise click.UsageError("--keep 只清理按默认方式命名的备份（inspect-20261201T023000Z.tar.gz"
                               "，UTC 时间）：-o 的文件名也须这样命名，或不用 --keep")
    try:
        #: Only the default folder (instance/backups) is created; a given path's must exist.
        report = create_backup(path, create_folder=output is None)
    except (BackupError, StorageError) as exc:
        raise click.ClickException(getattr(exc, "message", str(exc))) from exc
    click.echo(report.summary())
    if not report.complete:
        if keep:
            click.echo("本次备份不完整，较早的备份一份也没有删除。")
        raise click.exceptions.Exit(EXIT_INCOMPLETE)
    if keep:
        removed = prune_backups(path.parent, keep, current=path)
        if removed:
            click.echo(f"已删除 {len(removed)} 份较早的备份（保留最近 {keep} 份）："
                       + "、".join(p.name for p in removed))


@click.command("restore", help="从备份文件恢复数据与照片（先校验，目标数据库须为空）；"
                                "备份缺少照片时给出警告并以状态 3 退出")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="目标数据库已有数据时，先清空（包括审计日志）再恢复")
@click.option("--check", is_flag=True, help="只校验备份文件，不做任何修改")
@with_appcontext
def restore_command(path: Path, yes: bool, check: bool) -> None:
    """Verify the archive, then rebuild the database and the photo store from it."""
    try:
        if check:
            manifest = verify_archive(path)
            click.echo(describe_archive(manifest))
            complete = archive_complete(manifest)
        else:
            report = restore_backup(path, wipe=yes)
            click.echo(report.summary())
            complete = report.complete
    except (BackupError, StorageError) as exc:
        raise click.ClickException(getattr(exc, "message", str(exc))) from exc
    if not complete:
        #: As backup does: the photos the backup lacked are still lacking after a restore.
        raise click.exceptions.Exit(EXIT_INCOMPLETE)


def register(app: Flask) -> None:
    """Add ``backup`` and ``restore`` to ``app.cli``; calling it again changes nothing."""
    for command in (backup_command, restore_command):
        if command.name not in app.cli.commands:
            app.cli.add_command(command)
