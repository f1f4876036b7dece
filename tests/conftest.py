"""Fixtures: an app on a fresh database per test, on SQLite and on PostgreSQL.

Tests that ask for ``app`` (or anything built on it) run once per database. The schema is
made by the Alembic migrations, never by ``create_all``. SQLite copies a migrated template file
per test; PostgreSQL migrates one private database per run and empties it after each test.
Tests of the demo data start on a copy of a database seeded once per run (:data:`TEMPLATES`,
:func:`starting_template`).
"""
from __future__ import annotations

import copy
import graphlib
import io
import logging
import os
import select
import shutil
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from inspect_app import create_app
from inspect_app.auth.permissions import Role
from inspect_app.checklists.models import Checklist
from inspect_app.demo.seed import DEMO_PASSWORD
from inspect_app.extensions import db
from inspect_app.i18n import local_today
from inspect_app.inspections.models import Inspection, InspectionStatus, Mode


def _sleep_on_a_faked_clock() -> None:
    """Under libfaketime with the monotonic clock left real (``DONT_FAKE_MONOTONIC=1``, which
    a run on a faked date needs), Python ≥ 3.11's ``time.sleep`` fails with EINVAL: it sleeps
    until a monotonic deadline (``clock_nanosleep`` with ``TIMER_ABSTIME``), which libfaketime
    0.9.10 shifts by the faked offset anyway (wolfcw/libfaketime#426). Everything that waits
    with ``time.sleep`` — ``subprocess.run(timeout=…)`` among them — then breaks. There, sleep
    with a relative ``select`` timeout instead, which libfaketime leaves alone."""
    preload = os.environ.get("LD_PRELOAD", "")
    real_monotonic = (os.environ.get("DONT_FAKE_MONOTONIC") == "1"
                      or os.environ.get("FAKETIME_DONT_FAKE_MONOTONIC") == "1")
    if "faketime" not in preload or not real_monotonic:
        return

    def sleep(seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        select.select([], [], [], seconds)

    time.sleep = sleep


_sleep_on_a_faked_clock()

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL",
                                    "postgresql+psycopg://127.0.0.1:5432/test")
PASSWORD = "Passw0rd!"


#: Tests that one pytest-xdist worker runs together, in turn (``scripts/test.sh`` runs two
#: workers), by the start of their node id: every browser test (one Chromium at a time, never
#: two fighting for the CPU), the module that starts one gunicorn for its tests, and both
#: databases' runs of the test that counts sign-ins in the machine's one Redis.
SAME_WORKER = {
    "tests/browser/": "browser",
    "tests/security/test_live.py::": "gunicorn",
    "tests/security/test_sessions.py::test_two_instances_sharing_redis": "redis",
}


def pytest_xdist_make_scheduler(config, log):
    """With ``-n``, hand out tests one by one (as ``--dist load`` does), but each group of
    :data:`SAME_WORKER` as one unit."""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SameWorkerScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return next((group for start, group in SAME_WORKER.items()
                         if nodeid.startswith(start)), nodeid)

    return SameWorkerScheduling(config, log)


def base_config(tmp_path: Path, database_url: str) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast: the real default is scrypt
        "LOGIN_RATE_LIMIT": "1000 per minute",
        "RATELIMIT_STORAGE_URI": "memory://",
        "PHOTO_STORAGE_ROOT": str(tmp_path / "photos"),
    }


def upgrade(url: str, tmp_path: Path) -> None:
    """Apply every migration to the database at ``url``."""
    from flask_migrate import upgrade as alembic_upgrade

    app = create_app(base_config(tmp_path, url))
    with app.app_context():
        alembic_upgrade()
        db.engine.dispose()


def postgres_available() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    try:
        engine = sa.create_engine(POSTGRES_ADMIN_URL)
        with engine.connect():
            pass
        engine.dispose()
        return None
    except Exception as exc:  # any failure means: skip PostgreSQL, loudly
        return str(exc).splitlines()[0]


def seed(url: str, tmp_path: Path) -> None:
    """Load the demo data into the database at ``url``."""
    from inspect_app.demo.seed import seed_demo

    app = create_app(base_config(tmp_path, url))
    with app.app_context():
        seed_demo()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def plan_campaign(client: FlaskClient, headers: dict, checklist_id: int) -> dict:
    """Plan the ``campaign`` fixture's campaign through the API; returns the response body.

    Its quarterly self-check gives every outlet its self-check of this month, which the demo's
    campaign of this month has given them already: as a planner replacing one plan by the
    other would, those are cancelled first (an outlet self-checks once a cycle)."""
    db.session.execute(sa.update(Inspection).where(
        Inspection.campaign_id.is_not(None), Inspection.mode == Mode.self_check,
        Inspection.status.in_([InspectionStatus.assigned, InspectionStatus.in_progress]))
        .values(status=InspectionStatus.cancelled))
    db.session.commit()
    start, end = this_quarter()
    body = {"name": f"{start.year}年第{(start.month + 2) // 3}季度服务检查", "checklist_id": checklist_id,
            "period_start": start.isoformat(), "period_end": end.isoformat(),
            "modes": ["self_check", "peer_check", "spot_check", "mystery_visit"], "seed": 42,
            "settings": {"self_check": {"cycle": "quarterly"},
                         "spot_check": {"size": 8}, "mystery_visit": {"count": 4}}}
    response = client.post("/api/v1/campaigns", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _planned(url: str, tmp_path: Path) -> dict:
    """Plan the ``campaign`` fixture's campaign in the (demo) database at ``url``."""
    app = create_app(base_config(tmp_path, url))
    app.test_client_class = FreshContextClient
    with app.app_context():
        client = app.test_client()
        response = client.post("/api/v1/auth/token",
                               json={"username": "fwgl", "password": DEMO_PASSWORD})
        assert response.status_code == 201, response.get_json()
        planned = plan_campaign(client, {"Authorization": f"Bearer {response.get_json()['token']}"},
                                db.session.scalar(sa.select(Checklist.id)))
        db.session.remove()
        db.engine.dispose()
    return planned


#: Databases made once per run and copied for each test that starts from them: name → (the
#: template it is made from, None for the empty migrated schema; what fills it, returning what
#: the tests need to know about it).
TEMPLATES: dict[str, tuple[str | None, Callable[[str, Path], object]]] = {
    "demo": (None, seed),
    "campaign": ("demo", _planned),
}


class SQLiteBackend:
    """Each test gets a copy of a migrated template file (or of one of :data:`TEMPLATES`)."""

    name = "sqlite"

    def __init__(self, root: Path):
        self.root = root
        self.template = root / "template.sqlite3"
        self.templates: dict[str, Path] = {}
        #: what each of :data:`TEMPLATES` returned when it was made
        self.made: dict[str, object] = {}
        upgrade(f"sqlite:///{self.template}", root)

    def _template(self, name: str | None) -> Path:
        if name is None:
            return self.template
        if name not in self.templates:
            parent, fill = TEMPLATES[name]
            path = self.root / f"{name}.sqlite3"
            shutil.copyfile(self._template(parent), path)
            self.made[name] = fill(f"sqlite:///{path}", self.root)
            self.templates[name] = path
        return self.templates[name]

    def fresh_url(self, tmp_path: Path, *, template: str | None = None) -> str:
        target = tmp_path / "test.sqlite3"
        shutil.copyfile(self._template(template), target)
        return f"sqlite:///{target}"

    def reset(self) -> None:
        pass

    def close(self) -> None:
        pass


class PostgresBackend:
    """One migrated database emptied after each test; a test starting from one of
    :data:`TEMPLATES` gets a copy of it (CREATE DATABASE … TEMPLATE is much faster than
    seeding)."""

    name = "postgresql"

    def __init__(self, root: Path):
        self.root = root
        self.dbname = f"inspect_test_{uuid.uuid4().hex[:10]}"
        self.admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{self.dbname}"'))
        self.url = self._url(self.dbname)
        upgrade(self.url, root)
        self.engine = sa.create_engine(self.url)
        with self.engine.connect() as conn:
            self.empty = emptying_statement(conn)

        self.templates: dict[str, str] = {}
        self.made: dict[str, object] = {}
        self.copy_db: str | None = None

    def _url(self, name: str) -> str:
        return sa.make_url(POSTGRES_ADMIN_URL).set(database=name) \
            .render_as_string(hide_password=False)

    def _copy(self, source: str, target: str) -> None:
        with self.admin.connect() as conn:
            # the default strategy (WAL_LOG) copies without the checkpoint FILE_COPY forces,
            # which has to write out everything the run has changed so far
            conn.execute(sa.text(f'CREATE DATABASE "{target}" TEMPLATE "{source}"'))

    def _template(self, name: str) -> str:
        if name not in self.templates:
            parent, fill = TEMPLATES[name]
            made = f"{self.dbname}_{name}"
            if parent is None:  # the run's own database is in use: migrate another
                with self.admin.connect() as conn:
                    conn.execute(sa.text(f'CREATE DATABASE "{made}"'))
                upgrade(self._url(made), self.root)
            else:
                self._copy(self._template(parent), made)
            self.made[name] = fill(self._url(made), self.root)
            self.templates[name] = made
        return self.templates[name]

    def fresh_url(self, tmp_path: Path, *, template: str | None = None) -> str:
        if template is None:
            return self.url
        self.copy_db = f"{self.dbname}_{uuid.uuid4().hex[:8]}"
        self._copy(self._template(template), self.copy_db)
        return self._url(self.copy_db)

    def reset(self) -> None:
        if self.copy_db is not None:
            with self.admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.copy_db}" WITH (FORCE)'))
            self.copy_db = None
            return
        with self.engine.begin() as conn:
            conn.execute(self.empty)

    def close(self) -> None:
        self.engine.dispose()
        with self.admin.connect() as conn:
            for name in (self.copy_db, *reversed(self.templates.values()), self.dbname):
                if name:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


def emptying_statement(conn: sa.Connection) -> sa.TextClause:
    """One statement that empties every table, children before parents, and restarts every
    sequence: the database is then as the migrations left it.

    It does what ``TRUNCATE … RESTART IDENTITY`` of every table would, in milliseconds instead
    of a few hundred: TRUNCATE gives each table and index new files, and a test leaves a few
    rows. Tables whose triggers refuse DELETE (the append-only audit log) are truncated, only
    when they hold rows.
    """
    edges = conn.execute(sa.text(
        "select c.relname, p.relname from pg_class c "
        "join pg_namespace n on n.oid = c.relnamespace and n.nspname = 'public' "
        "left join pg_constraint f on f.conrelid = c.oid and f.contype = 'f' "
        "left join pg_class p on p.oid = f.confrelid "
        "where c.relkind = 'r' and c.relname <> 'alembic_version'")).all()
    parents: dict[str, set[str]] = {}
    for table, parent in edges:
        parents.setdefault(table, set())
        if parent and parent != table:  # a self-reference is emptied by the one DELETE
            parents[table].add(parent)
    guarded = set(conn.execute(sa.text(
        "select c.relname from pg_trigger t join pg_class c on c.oid = t.tgrelid "
        "join pg_namespace n on n.oid = c.relnamespace and n.nspname = 'public' "
        "where not t.tgisinternal and t.tgtype & 8 <> 0")).scalars())  # 8: fires on DELETE
    sequences = conn.execute(sa.text(
        "select format('%I.%I', schemaname, sequencename), start_value from pg_sequences "
        "where schemaname = 'public'")).all()
    body = []
    for table in reversed(list(graphlib.TopologicalSorter(parents).static_order())):
        if table in guarded:
            # CASCADE: a table referencing it (audit_entry_units) is empty by then, but
            # TRUNCATE refuses a referenced table unless its referrers go with it
            body.append(f'IF EXISTS (SELECT FROM "{table}") THEN TRUNCATE "{table}" CASCADE; '
                        'END IF;')
        else:
            body.append(f'DELETE FROM "{table}";')
    body += [f"PERFORM setval('{name}', {start}, false);" for name, start in sequences]
    return sa.text("DO $$ BEGIN " + " ".join(body) + " END $$")


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request, tmp_path_factory):
    """The database the test runs on; PostgreSQL is skipped, saying why, when it is absent."""
    root = tmp_path_factory.mktemp(request.param)
    if request.param == "postgresql":
        reason = postgres_available()
        if reason:
            pytest.skip(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {reason} "
                        "(start it, or set TEST_POSTGRES_URL)")
        chosen = PostgresBackend(root)
    else:
        chosen = SQLiteBackend(root)
    yield chosen
    chosen.close()


class FreshContextClient(FlaskClient):
    """A test client whose every request runs in its own app context, as in production.

    The test itself holds an app context (for factories and assertions); without this, requests
    would share its ``g`` and its database session and hide missing commits.
    """

    def open(self, *args, **kwargs):
        app = self.application
        with app.app_context():
            response = super().open(*args, **kwargs)
        db.session.expire_all()  # the test's session must see what the request committed
        return response


#: Fixtures that leave the database alone until the test calls them (or that only read it):
#: a test asking for no others, besides those built on ``campaign``, starts on a copy of the
#: planned campaign's database, as if ``campaign`` had planned it first thing.
QUIET_FIXTURES = {
    "request", "backend", "app", "tmp_path", "tmp_path_factory", "client", "api", "demo",
    "log_output", "runner", "monkeypatch", "capsys", "caplog", "recwarn", "pytestconfig",
    "worker_id", "testrun_uid", "login", "token_for", "playwright", "browser", "live_server",
    "new_mobile_context", "mobile_page", "screenshot",
}


def starting_template(request) -> str | None:
    """The database of :data:`TEMPLATES` the test starts from: "campaign" when the campaign
    fixture's plan would be made before anything else touched the demo data, "demo" for other
    tests of the demo data, None for an empty database."""
    names = set(request.fixturenames)
    if "demo" not in names:
        return None
    if "campaign" not in names:
        return "demo"
    definitions = request.node._fixtureinfo.name2fixturedefs
    parameters = getattr(getattr(request.node, "callspec", None), "params", {})

    def after_campaign(name: str, seen: frozenset = frozenset()) -> bool:
        arguments = {a for d in definitions.get(name, ()) for a in d.argnames} - seen - {name}
        return "campaign" in arguments or any(after_campaign(a, seen | {name})
                                              for a in arguments)

    others = {name for name in names - QUIET_FIXTURES - set(parameters) - {"campaign"}
              if not after_campaign(name)}
    return "demo" if others else "campaign"


@pytest.fixture
def app(request, backend, tmp_path):
    """A fresh application on an empty, fully migrated database — or, for tests that use the
    ``demo`` fixture, on a fresh copy of the seeded demo database (with the ``campaign``
    fixture's campaign planned already, when nothing it could see comes first)."""
    template = starting_template(request)
    app = create_app(base_config(tmp_path, backend.fresh_url(tmp_path, template=template)))
    app.test_client_class = FreshContextClient
    app.extensions["test_template"] = template
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    backend.reset()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def log_output():
    """What the app's log handler writes, for the duration of the test."""
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "_inspect_app", False))
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield buffer
    handler.setStream(previous)


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_unit(app):
    """Factory: ``make_unit("outlet", "TS-LB-01", parent=subbranch)`` with sensible defaults."""
    from inspect_app.orgs.models import OrgKind
    from inspect_app.orgs.operations import create_unit

    def make(kind: str, code: str, name: str | None = None, parent=None, **fields):
        unit = create_unit(kind=OrgKind(kind), code=code, name=name or code, parent=parent,
                           **fields)
        db.session.commit()
        return unit

    return make


@pytest.fixture
def org(make_unit):
    """A small tree: branch TS; sub-branches 路北 (LB) and 路南 (LN) with two outlets each."""
    branch = make_unit("branch", "TS", "唐山分行")
    units = {"TS": branch}
    for code, name in (("LB", "路北支行"), ("LN", "路南支行")):
        sub = make_unit("subbranch", f"TS-{code}", name, parent=branch, area_type=None)
        units[f"TS-{code}"] = sub
        for n in (1, 2):
            outlet_code = f"TS-{code}-0{n}"
            units[outlet_code] = make_unit("outlet", outlet_code, f"{name}网点{n}", parent=sub,
                                           latitude=39.6, longitude=118.2)
    return units


@pytest.fixture
def make_user(app, org):
    """Factory: ``make_user("zh.lubei", (Role.subbranch_manager, "TS-LB"))``."""
    from inspect_app.auth.operations import create_user

    def make(username: str, *grants: tuple[Role, str], password: str = PASSWORD,
             display_name: str | None = None):
        user = create_user(username=username, display_name=display_name or username,
                           password=password,
                           grants=[(role, org[code]) for role, code in grants])
        db.session.commit()
        return user

    return make


@pytest.fixture
def token_for(client):
    """Factory: a bearer header for ``username``, obtained through the real token endpoint."""

    def get(username: str, password: str = PASSWORD) -> dict:
        response = client.post("/api/v1/auth/token",
                               json={"username": username, "password": password})
        assert response.status_code == 201, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['token']}"}

    return get


@pytest.fixture
def login(client):
    """Factory: sign ``username`` in through the real login page (session cookie + CSRF)."""

    def sign_in(username: str, password: str = PASSWORD):
        client.get("/login")
        with client.session_transaction() as sess:
            token = sess["csrf"]
        return client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": token})

    return sign_in


# -- the demo branch and a planned campaign (used by most domain tests) ----------------------


@pytest.fixture
def demo(app):
    """The 唐山分行 demo data (organisation, people, default checklist, teams): the ``app``
    fixture starts such tests on a copy of the seeded database. Returns the checklist."""
    return db.session.scalar(sa.select(Checklist))


@pytest.fixture
def api(client, demo):
    """``api(username)`` → a bearer header for a demo account (cached per test)."""
    cache: dict[str, dict] = {}

    def headers(username: str) -> dict:
        if username not in cache:
            response = client.post("/api/v1/auth/token",
                                   json={"username": username, "password": DEMO_PASSWORD})
            assert response.status_code == 201, response.get_json()
            cache[username] = {"Authorization": f"Bearer {response.get_json()['token']}"}
        return cache[username]

    return headers


def this_quarter() -> tuple[date, date]:
    """The first and last day of the quarter the bank's today is in."""
    today = local_today()
    first = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    following = date(first.year + (first.month + 2) // 12, (first.month + 2) % 12 + 1, 1)
    return first, following - timedelta(days=1)


def next_quarter() -> tuple[date, date]:
    """The first and last day of the quarter after this one (a plan made ahead of time)."""
    _, end = this_quarter()
    first = end + timedelta(days=1)
    following = date(first.year + (first.month + 2) // 12, (first.month + 2) % 12 + 1, 1)
    return first, following - timedelta(days=1)


def mid_quarter_fortnight() -> tuple[date, date]:
    """The 1st to the 15th of this quarter's second month: a window inside this quarter,
    whatever day it is (a task rescheduled within its campaign's period)."""
    first = this_quarter()[0]
    start = date(first.year, first.month + 1, 1)
    return start, start + timedelta(days=14)


def last_month() -> tuple[date, date]:
    """The first and last day of last month: a whole month of the demo's history (six months
    drawn back from the day it is seeded), whatever day that is."""
    end = local_today().replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def month_after_demo() -> tuple[date, date]:
    """The first and last day of the first whole month after the demo's campaign ends.

    The demo's campaign gives every outlet its self-checks up to its end — this month's, or,
    seeded in a month's last week, two weeks into the next month — so a test planning
    self-checks of "a month" plans this one: free whatever day the demo was seeded. (The
    demo's is the first campaign: later ones, a test's own, do not move the month.)"""
    from inspect_app.inspections.models import Campaign

    end = db.session.scalar(sa.select(Campaign.period_end).order_by(Campaign.id).limit(1))
    assert end is not None, "no demo campaign"
    first = date(end.year + end.month // 12, end.month % 12 + 1, 1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, following - timedelta(days=1)


@pytest.fixture
def campaign(app, backend, client, api, demo):
    """A campaign with all four modes over this quarter (a campaign is planned before its
    period ends), planned by the service manager through the API (:func:`plan_campaign`).

    Most tests start on a copy of a database where it is planned already (see
    :func:`starting_template`); the others plan it here."""
    planner = api("fwgl")  # the planner's token is the test's, as if it had planned it here
    if app.extensions["test_template"] == "campaign":
        return copy.deepcopy(backend.made["campaign"])
    return plan_campaign(client, planner, demo.id)


@pytest.fixture
def first(campaign):
    """``first(mode)`` → the first inspection of that mode in the campaign."""

    def pick(mode: str) -> Inspection:
        return db.session.scalar(sa.select(Inspection).where(
            Inspection.campaign_id == campaign["id"], Inspection.mode == Mode(mode))
            .order_by(Inspection.id))

    return pick


