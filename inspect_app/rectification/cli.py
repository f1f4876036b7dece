"""``flask --app inspect_app rectification export-lists --period 2026-11 --output lists.zip``."""
from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup

from ..auth.models import User
from ..errors import DomainError
from ..extensions import db

rectification_cli = AppGroup("rectification", help="整改：批量导出整改清单")


@rectification_cli.command("export-lists")
@click.option("--period", required=True, help="月份，如 2026-11")
@click.option("--output", required=True, type=click.Path(dir_okay=False, writable=True),
              help="ZIP 文件路径")
@click.option("--as-user", "username", required=True,
              help="以哪位服务管理人员的机构范围导出（清单均为下发给支行的版本）")
def export_lists_command(period: str, output: str, username: str) -> None:
    """Every sub-branch's rectification list for one month, one PDF each, in one ZIP."""
    from .documents import export_lists, parse_period, subbranches_in_scope

    user = db.session.scalar(sa.select(User).where(User.username == username.lower()))
    if user is None or not user.is_active:
        raise click.ClickException(f"用户 {username} 不存在或已停用")
    try:
        parse_period(period)
        total = len(subbranches_in_scope(user))
        with click.progressbar(length=total, label="生成整改清单") as bar:
            state = {"done": 0}

            def progress(done: int, _total: int) -> None:
                bar.update(done - state["done"])
                state["done"] = done

            data, _name = export_lists(user, period, progress)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    finally:
        db.session.rollback()
    Path(output).write_bytes(data)
    click.echo(f"已导出 {total} 个支行的整改清单：{output}（{len(data) // 1024} KB）")


def register(app: Flask) -> None:
    app.cli.add_command(rectification_cli)
