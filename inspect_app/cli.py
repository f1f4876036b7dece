"""Command-line administration: ``flask --app inspect_app org|users|seed-demo …``."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
import marshmallow as ma
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup, ScriptInfo

from .auth.models import User
from .auth.operations import check_role_unit, create_user, update_user
from .auth.permissions import ROLE_LABELS, Role
from .auth.schemas import UserSchema, UserUpdateSchema
from .errors import DomainError
from .extensions import db
from .messages import Message
from .orgs.models import AreaType, OrgKind, OrgUnit
from .orgs.operations import create_unit, in_tree_order, unit_by_code, update_unit
from .orgs.schemas import OrgUnitSchema, OrgUnitUpdateSchema
from .schema_messages import schema_message

#: Exit status of a command that could not reach its database (1: a refusal such as a bad
#: option value; 2: a usage error; 4: a setting the product cannot use, ``APP_LOAD_ERROR``).
DATABASE_UNREACHABLE = 5


class DatabaseUnreachable(click.ClickException):
    """The database could not be reached: said in one line, without click's "Error: "."""

    exit_code = DATABASE_UNREACHABLE

    def show(self, file=None) -> None:
        click.echo(self.format_message(), file=file, err=True)


def could_not_connect(exc: sa.exc.DBAPIError) -> bool:
    """Whether a database error says the database could not be reached (server down or
    unknown, no such database, wrong password, a connection lost) — not a statement's error."""
    if exc.connection_invalidated:
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None)  # psycopg; none when no connection was made
    if sqlstate:
        return sqlstate.startswith(("08", "57P"))  # connection exception, server shut down
    text = str(exc.orig).lower()
    return any(sign in text for sign in ("connect", "resolve host",
                                         "unable to open database file"))


def _where(url: sa.URL) -> str:
    """Host, port and database of ``url`` — never its user or password — or SQLite's file."""
    if url.get_backend_name() == "sqlite":
        return url.database or ":memory:"
    return f"{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"


def _reason(exc: sa.exc.DBAPIError) -> str:
    """The driver's reason, shortest form: ``Connection refused``, ``database "x" does not
    exist`` (psycopg repeats host and port before it, and adds a hint on further lines)."""
    text = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
    text = text.rsplit(" failed: ", 1)[-1]
    return text.removeprefix("FATAL:").strip()


@contextmanager
def unreachable_database_said(database_url: str) -> Iterator[None]:
    """Around a whole command: a database that cannot be reached ends it with one line on
    stderr naming the database (host:port/name, no password) and the driver's reason, and
    exit status :data:`DATABASE_UNREACHABLE` — not a traceback of SQLAlchemy and psycopg."""
    try:
        yield
    except sa.exc.DBAPIError as exc:
        if not could_not_connect(exc):
            raise
        raise DatabaseUnreachable(Message(
            "无法连接数据库 %(where)s：%(reason)s。请确认数据库服务已启动、数据库已创建"
            "（如 createdb inspect），DATABASE_URL 中的地址、账号和密码无误",
            where=_where(sa.make_url(database_url)), reason=_reason(exc))) from None


class CommandLine(AppGroup):
    """The app's commands (``app.cli``, Flask-Migrate's ``db`` among them), each run inside
    :func:`unreachable_database_said`. Whether run by ``flask`` (its group asks this one for
    the command) or by a test runner (this group is the root), resolving the command is where
    the whole run can be wrapped once: the handler is a resource of the outermost click
    context, which click ≥ 8.2 closes with the exception the command raised."""

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        root = ctx.find_root()
        if command is not None and not root.meta.get("inspect_app.database_said"):
            root.meta["inspect_app.database_said"] = True
            app = ctx.ensure_object(ScriptInfo).load_app()
            root.with_resource(unreachable_database_said(app.config["SQLALCHEMY_DATABASE_URI"]))
        return command


org_cli = AppGroup("org", help="维护机构：分行 → 支行 → 网点")
users_cli = AppGroup("users", help="维护人员与角色")


def _commit_or_fail(action) -> None:
    """Run ``action`` and commit, turning domain errors into a clean CLI error."""
    try:
        action()
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from exc


#: The option (or argument) that gives each field of the API's schemas, to name it in a refusal.
OPTIONS = {"kind": "--kind", "code": "--code", "name": "--name", "area_type": "--area",
           "address": "--address", "latitude": "--lat", "longitude": "--lng",
           "is_benchmark": "--benchmark", "is_active": "--active/--inactive",
           "username": "USERNAME", "display_name": "--name", "phone": "--phone",
           "password": "--password", "grants": "--role"}


def _problems(messages: Any, field: str | None = None) -> list[str]:
    """One line per refusal, ``--lat（latitude）：应在 -90 到 90 之间``: the option the admin
    typed, the field the API would name, and the API's own message in Chinese (marshmallow's
    English ones through :mod:`inspect_app.schema_messages`)."""
    if isinstance(messages, dict):
        return [line for key, value in messages.items()
                for line in _problems(value, field if isinstance(key, int) else str(key))]
    if isinstance(messages, (list, tuple)):
        return [line for value in messages for line in _problems(value, field)]
    text = str(schema_message(str(messages)) or messages)
    if field is None or field == "_schema":
        return [text]
    return [f"{OPTIONS.get(field, field)}（{field}）：{text}"]


def _load(schema: ma.Schema, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """``data`` checked by the API's schema, so the command line accepts exactly what the API
    does (a code with spaces, a latitude of 999 or a name with a line break were written here
    and refused there, and a later restore into PostgreSQL failed on a 150-character name).
    A refusal names every bad option, writes nothing and exits non-zero."""
    try:
        return schema.load(data, **kwargs)
    except ma.ValidationError as exc:
        lines = "\n".join(f"  {line}" for line in _problems(exc.messages))
        raise click.ClickException(Message("输入有误，未写入任何内容：\n%(problems)s",
                                           problems=lines)) from None


def _parse_grants(specs: tuple[str, ...]) -> list[tuple[Role, OrgUnit]]:
    grants = []
    for spec in specs:
        role_name, _, code = spec.partition("@")
        try:
            role = Role(role_name)
        except ValueError:
            names = ", ".join(r.value for r in Role)
            raise click.BadParameter(f"未知角色 {role_name}（可选：{names}）", param_hint="--role")
        if not code:
            raise click.BadParameter("格式为 角色@机构编码，例如 inspector@TS-LB",
                                     param_hint="--role")
        try:
            unit = unit_by_code(code)
            check_role_unit(role, unit)  # said before the password is asked for
            grants.append((role, unit))
        except DomainError as exc:
            raise click.BadParameter(exc.message, param_hint="--role")
    return grants


@org_cli.command("add")
@click.option("--kind", type=click.Choice([k.value for k in OrgKind]), required=True)
@click.option("--code", required=True, help="机构编码，如 TS-LB-01")
@click.option("--name", required=True)
@click.option("--parent", "parent_code", help="上级机构编码（分行不填）")
@click.option("--area", type=click.Choice([a.value for a in AreaType]))
@click.option("--address")
@click.option("--lat", help="纬度，-90 到 90")
@click.option("--lng", help="经度，-180 到 180")
@click.option("--benchmark", is_flag=True, help="标杆网点")
def org_add(kind, code, name, parent_code, area, address, lat, lng, benchmark):
    """Add a branch, sub-branch or outlet."""
    given = {"kind": kind, "code": code, "name": name, "area_type": area, "address": address,
             "latitude": lat, "longitude": lng, "is_benchmark": benchmark}
    data = _load(OrgUnitSchema(), {k: v for k, v in given.items() if v is not None})
    data.pop("parent_id", None)

    def action():
        parent = unit_by_code(parent_code) if parent_code else None
        unit = create_unit(parent=parent, **data)
        click.echo(f"已创建 {unit.kind.label} {unit.code} {unit.name}")
    _commit_or_fail(action)


@org_cli.command("update")
@click.argument("code")
@click.option("--name")
@click.option("--parent", "parent_code")
@click.option("--area", type=click.Choice([a.value for a in AreaType]))
@click.option("--benchmark/--no-benchmark", default=None)
@click.option("--active/--inactive", default=None, help="停用（关闭）或恢复机构")
def org_update(code, name, parent_code, area, benchmark, active):
    """Change, move or close an org unit."""
    given = {"name": name, "area_type": area, "is_benchmark": benchmark, "is_active": active}
    changes = _load(OrgUnitUpdateSchema(), {k: v for k, v in given.items() if v is not None})

    def action():
        unit = unit_by_code(code)
        if parent_code:
            changes["parent"] = unit_by_code(parent_code)
        update_unit(unit, changes)
        click.echo(f"已更新 {unit.code} {unit.name}")
    _commit_or_fail(action)


@org_cli.command("list")
@click.option("--kind", type=click.Choice([k.value for k in OrgKind]))
def org_list(kind):
    """Print the organisation tree."""
    query = sa.select(OrgUnit)
    if kind:
        query = query.where(OrgUnit.kind == OrgKind(kind))
    for unit in in_tree_order(db.session.scalars(query)):
        depth = len(unit.ancestor_ids) - 1
        flags = " [标杆]" if unit.is_benchmark else ""
        flags += " [已停用]" if not unit.is_active else ""
        area = f" {unit.area_type.label}" if unit.area_type else ""
        click.echo(f"{'  ' * depth}{unit.code}  {unit.name}{area}{flags}")


@users_cli.command("add")
@click.argument("username")
@click.option("--name", "display_name", required=True)
@click.option("--role", "roles", multiple=True, required=True,
              help="角色@机构编码，可重复，例如 --role inspector@TS-LB。角色： " + ", ".join(
                  f"{role.value}（{ROLE_LABELS[role]}）" for role in Role))
@click.option("--phone")
@click.option("--password", help="至少 8 位，含字母和数字。不给则在检查完其他选项后询问"
              "（推荐：写在命令行上的密码会留在 shell 历史和进程列表中）")
def users_add(username, display_name, roles, phone, password):
    """Add a person with one or more roles."""
    # Everything but the password is checked before asking for it: typing it twice only to
    # hear that the role was misspelt is what this order avoids.
    given = {"username": username, "display_name": display_name, "phone": phone}
    _load(UserSchema(), {k: v for k, v in given.items() if v is not None},
          partial=("password", "grants"))
    grants = _parse_grants(roles)
    if password is None:
        password = click.prompt("密码", hide_input=True, confirmation_prompt="再输入一次密码")
    _load(UserUpdateSchema(), {"password": password})

    def action():
        user = create_user(username=username, display_name=display_name, password=password,
                           phone=phone, grants=grants)
        click.echo(f"已创建用户 {user.username}（{user.display_name}）")
    _commit_or_fail(action)


def _user(username: str) -> User:
    user = db.session.scalar(sa.select(User).where(User.username == username.lower()))
    if user is None:
        raise click.ClickException(f"用户 {username} 不存在")
    return user


@users_cli.command("grant")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, help="替换后的全部角色")
def users_grant(username, roles):
    """Replace a person's roles."""
    _commit_or_fail(lambda: update_user(_user(username), {"grants": _parse_grants(roles)}))
    click.echo(f"已更新 {username} 的角色")


@users_cli.command("deactivate")
@click.argument("username")
def users_deactivate(username):
    """Deactivate a person: they can no longer sign in; their history stays."""
    _commit_or_fail(lambda: update_user(_user(username), {"is_active": False}))
    click.echo(f"已停用 {username}")


@users_cli.command("activate")
@click.argument("username")
def users_activate(username):
    """Re-activate a person."""
    _commit_or_fail(lambda: update_user(_user(username), {"is_active": True}))
    click.echo(f"已启用 {username}")


@users_cli.command("set-password")
@click.argument("username")
@click.option("--password", help="不给则询问（推荐：写在命令行上的密码会留在 shell 历史和进程列表中）")
def users_set_password(username, password):
    """Set a person's password (signs them out everywhere)."""
    user = _user(username)  # an unknown name is said before the password is asked for
    if password is None:
        password = click.prompt("密码", hide_input=True, confirmation_prompt="再输入一次密码")
    _load(UserUpdateSchema(), {"password": password})
    _commit_or_fail(lambda: update_user(user, {"password": password}))
    click.echo(f"已重置 {username} 的密码")


@users_cli.command("list")
def users_list():
    """Print everyone with their roles."""
    for user in db.session.scalars(sa.select(User).order_by(User.username)):
        roles = ", ".join(f"{g.role.label}@{g.org_unit.name}" for g in user.grants)
        state = "" if user.is_active else " [已停用]"
        click.echo(f"{user.username:<24}{user.display_name:<10}{roles}{state}")


@click.command("seed-demo")
@click.option("--quiet", is_flag=True, help="不打印登录信息表")
def seed_demo_command(quiet):
    """Load the 唐山分行 demo organisation, people and data (idempotent)."""
    from .demo.seed import print_logins, seed_demo

    report = seed_demo()
    db.session.commit()
    click.echo(report.summary())
    if not quiet:
        print_logins(click.echo)


@click.command("seed-demo-if-empty")
def seed_demo_if_empty_command():
    """Load the demo data only when the database holds no org units (used by ``make run``)."""
    from .demo.seed import print_logins, seed_demo

    if db.session.scalar(sa.select(sa.func.count()).select_from(OrgUnit)):
        click.echo("数据库已有数据，跳过演示数据。")
    else:
        click.echo(seed_demo().summary())
        db.session.commit()
    print_logins(click.echo)


def register(app: Flask) -> None:
    for command in (org_cli, users_cli, seed_demo_command, seed_demo_if_empty_command):
        app.cli.add_command(command)
