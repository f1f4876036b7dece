"""Alembic environment for Flask-Migrate: the app's engine and metadata, both databases."""
import logging
from logging.config import fileConfig

import sqlalchemy as sa
from alembic import context
from flask import current_app

config = context.config
# The application has set up logging (inspect_app/logs.py: its one handler on the root logger,
# LOG_FORMAT text or JSON): Alembic's lines go out through it like any other. alembic.ini's
# logging is for Alembic run on its own; applied over the application's, it would replace its
# handler, leaving the rest of the process logging in Alembic's format to a stream of its own.
if config.config_file_name and not any(getattr(handler, "_inspect_app", False)
                                       for handler in logging.getLogger().handlers):
    # Keep the application's loggers: Alembic's default would silence them.
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db
config.set_main_option("sqlalchemy.url",
                       target_db.engine.url.render_as_string(hide_password=False)
                       .replace("%", "%%"))


def render_item(type_, obj, autogen_context):
    """Write the app's column types as plain SQLAlchemy types, so migrations never import
    application code (which changes over time)."""
    from inspect_app.db import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    if type_ == "type" and isinstance(obj, sa.JSON):
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return "sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')"
    return False


# A migration that changes how the stored per-period figures (rankings, trends, bulletins) are
# computed does not recompute them itself: the application's ``rebuild`` is written for the
# newest schema, not for the one a migration half-way up the chain sees. It asks for it —
# ``op.get_context().config.attributes["rebuild_period_figures"] = True`` — and the figures are
# recomputed once, here, after the last migration, in the same transaction.
REBUILD_FIGURES = "rebuild_period_figures"
REBUILD_LATER = ("Per-period figures not recomputed: the database is not at the newest "
                 "revision. Once it is, run: flask --app inspect_app watchlist rebuild-scores")


def rebuild_figures_if_asked(connection):
    if not config.attributes.pop(REBUILD_FIGURES, False):
        return
    if set(context.get_context().get_current_heads()) != set(context.script.get_heads()):
        logger.warning(REBUILD_LATER)
        return
    from inspect_app.watchlist.period_scores import rebuild

    rows = rebuild(connection)
    logger.info("Per-period figures recomputed: %d rows.", rows)


def run_migrations_offline():
    """Emit SQL to stdout without a database connection (``flask db upgrade --sql``)."""
    context.configure(url=config.get_main_option("sqlalchemy.url"),
                      target_metadata=target_db.metadata, literal_binds=True,
                      render_item=render_item)
    with context.begin_transaction():
        context.run_migrations()
    if config.attributes.pop(REBUILD_FIGURES, False):
        logger.warning(REBUILD_LATER.replace("the database is not at the newest revision",
                                             "SQL written, not run"))


def run_migrations_online():
    """Run migrations against the app's database."""

    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", process_revision_directives)
    conf_args.setdefault("render_item", render_item)

    # A database that cannot be reached (no such database, server down, wrong password) is
    # said in one line by the command line's handler (inspect_app.cli.unreachable_database_said)
    with target_db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_db.metadata,
                          **conf_args)
        with context.begin_transaction():
            context.run_migrations()
            rebuild_figures_if_asked(connection)
        # SQLite's DDL is not transactional: Alembic commits each migration on its own, and
        # the figures' rebuild still sits in the transaction its first statement began.
        if connection.in_transaction():
            connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
