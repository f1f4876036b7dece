"""``flask --app inspect_app watchlist …``: nightly evaluation, queue-data import, ranking figures."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from ..errors import DomainError
from ..extensions import db
from ..i18n import local_today

watchlist_cli = AppGroup("watchlist", help="名单式管理：评估、排队数据导入、排名数据重建")


@watchlist_cli.command("evaluate")
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="评估日期（默认今天），格式 YYYY-MM-DD")
def evaluate_command(as_of):
    """Evaluate every outlet and sub-branch (run nightly, e.g. from cron)."""
    from .operations import evaluate

    try:
        report = evaluate(as_of.date() if as_of else local_today())
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from exc
    db.session.commit()
    click.echo(report.summary())


@watchlist_cli.command("import-queue")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_queue_command(path):
    """Import queue-system data from a CSV file, then re-evaluate."""
    from .operations import evaluate, import_queue_csv

    try:
        with open(path, "rb") as handle:
            result = import_queue_csv(handle.read(), by=None)
    except DomainError as exc:
        db.session.rollback()
        for problem in exc.details or []:
            click.echo(_problem_line(problem), err=True)
        raise click.ClickException(exc.message) from exc
    report = evaluate()
    db.session.commit()
    click.echo(f"已导入 {result['rows']} 行（{result['outlets']} 个网点，"
               f"{result['first_day']} 至 {result['last_day']}）。{report.summary()}")


def _problem_line(problem: dict) -> str:
    """``第 3 行 网点编码：网点编码 NOPE 不存在``; a problem of the whole file (its encoding,
    no header) has no row or column to name."""
    where = " ".join(part for part in (
        f"第 {problem['row']} 行" if problem.get("row") is not None else "",
        str(problem.get("column") or "")) if part)
    return f"{where}：{problem['message']}" if where else str(problem["message"])


@watchlist_cli.command("rebuild-scores")
@click.option("--check", is_flag=True, help="只检查，不重建：列出与检查记录不一致的排名数据")
def rebuild_scores_command(check):
    """Recompute the per-period ranking figures from the inspections (or --check them)."""
    from .period_scores import differences, rebuild

    connection = db.session.connection()
    if check:
        problems = differences(connection)
        for problem in problems[:50]:
            click.echo(problem, err=True)
        if problems:
            raise click.ClickException(f"排名数据有 {len(problems)} 处与检查记录不一致，"
                                       "请运行 rebuild-scores 重建")
        click.echo("排名数据与检查记录一致。")
        return
    written = rebuild(connection)
    db.session.commit()
    click.echo(f"已重建排名数据：{written} 行。")


def register(app: Flask) -> None:
    app.cli.add_command(watchlist_cli)
