"""Dashboard scale benchmark: 2,000 outlets × 3 years of inspections in every mode.

    python -m tests.benchmarks.dashboard [--small] [--db sqlite|postgresql] [--keep]
    python -m tests.benchmarks.dashboard --reuse URL     # measure a database kept by --keep

Builds a scratch database (SQLite file under /tmp, or a private PostgreSQL database), loads the
organisation and the synthetic history (~120k inspections, ~5.8M answers; ``--small``: 200
outlets × 1 year; the load includes building the per-period figures), then measures in the
same run — median of several repetitions — the product's own code for the ranking, the
watch-list evaluation of every outlet and sub-branch, the most-failed-items query and an
outlet's trend, against a baseline that computes the same ranking by scanning the raw answer
rows. The measuring runs in a fresh interpreter (``--reuse`` on the database just built), as a
web worker would, not in the loading process. The last line is::

    dashboard: ranking_ms=<n> watchlist_ms=<n> items_ms=<n> trend_ms=<n> raw_scan_ms=<n> db=<…>
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date

import sqlalchemy as sa

POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://127.0.0.1:5432/test")


def timed(function, repeat: int = 5) -> float:
    """Median wall time of ``function()`` in milliseconds."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def build(app, outlets_total: int, months: int) -> None:
    from inspect_app.auth.operations import create_user
    from inspect_app.auth.permissions import Role
    from inspect_app.checklists.operations import ensure_default_checklist
    from inspect_app.demo.history import generate
    from inspect_app.extensions import db
    from inspect_app.orgs.models import OrgKind, OrgUnit

    with app.app_context():
        branch = OrgUnit(kind=OrgKind.branch, code="BJ", name="基准分行", path="")
        db.session.add(branch)
        db.session.flush()
        branch.refresh_path()
        per_sub = 10
        outlets = []
        for s in range(outlets_total // per_sub):
            sub = OrgUnit(kind=OrgKind.subbranch, code=f"BJ-{s:04d}", name=f"第{s + 1}支行",
                          parent=branch, path="")
            db.session.add(sub)
            db.session.flush()
            sub.refresh_path()
            for o in range(per_sub):
                outlet = OrgUnit(kind=OrgKind.outlet, code=f"BJ-{s:04d}-{o:02d}",
                                 name=f"第{s + 1}支行{o + 1}号网点", parent=sub, path="")
                outlets.append(outlet)
            db.session.add_all(outlets[-per_sub:])
            db.session.flush()
            for outlet in outlets[-per_sub:]:
                outlet.refresh_path()
        manager = create_user(username="bench", display_name="基准", password="Xq7-Zeta-2026",
                              grants=[(Role.service_manager, branch)])
        checklist = ensure_default_checklist()
        db.session.commit()
        today = date.today()
        start = date(today.year - (months // 12), today.month, 1) if months % 12 == 0 else \
            date(today.year - 1, today.month, 1)
        started = time.perf_counter()
        count = generate([(o.id, None) for o in outlets], checklist, start=start, months=months,
                         seed=1, assignee_id=manager.id,
                         progress=lambda m: print(f"  generated month {m}/{months}",
                                                  file=sys.stderr, flush=True))
        db.session.commit()
        answers = db.session.scalar(sa.text("SELECT count(*) FROM inspection_answers"))
        print(f"data: outlets={len(outlets)} inspections={count} answers={answers} "
              f"load_s={time.perf_counter() - started:.0f}", flush=True)
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("VACUUM ANALYZE"))
        else:
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()


def rankings(period, by):
    """What the rankings page computes: the outlet and the sub-branch rankings, as a fresh
    request would (no rows cached from an earlier call)."""
    from flask import g

    from inspect_app.watchlist import dashboards

    g.pop("_outlet_modes", None)
    g.pop("_units", None)
    return (dashboards.outlet_ranking(period, by), dashboards.subbranch_ranking(period, by))


def measure(app) -> dict[str, float]:
    from inspect_app.auth.models import User
    from inspect_app.extensions import db
    from inspect_app.orgs.models import OrgKind, OrgUnit
    from inspect_app.watchlist import dashboards
    from inspect_app.watchlist.operations import evaluate

    with app.app_context():
        by = db.session.scalar(sa.select(User).where(User.username == "bench"))
        today = date.today()
        last_month = date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 15)
        quarter_ago = date(today.year - (today.month <= 3), (today.month - 4) % 12 + 1, 15)
        period = dashboards.period_for("quarter", quarter_ago)  # the last full quarter
        outlet = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.kind == OrgKind.outlet)
                                   .order_by(OrgUnit.id).limit(1))
        ranking = dashboards.outlet_ranking(period, by)
        raw = dashboards.raw_answer_ranking(period)
        assert len(ranking) >= len(raw) > 0, (len(ranking), len(raw))

        def watchlist():
            evaluate(last_month)
            db.session.rollback()

        return {
            "ranking_ms": timed(lambda: rankings(period, by)),
            "watchlist_ms": timed(watchlist, repeat=3),
            "items_ms": timed(lambda: dashboards.most_failed_items(period, by, limit=10)),
            "trend_ms": timed(lambda: dashboards.trend(outlet, by, end=today, months=36)),
            "raw_scan_ms": timed(lambda: dashboards.raw_answer_ranking(period), repeat=3),
        }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="200 outlets × 12 months")
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--reuse", metavar="URL",
                        help="measure a database kept by an earlier --keep run (no loading)")
    args = parser.parse_args(argv)

    from flask_migrate import upgrade

    from inspect_app import create_app
    from inspect_app.extensions import db

    outlets, months = (200, 12) if args.small else (2000, 36)
    workdir = tempfile.mkdtemp(prefix="inspect-bench-")
    admin = None
    if args.reuse:
        url = args.reuse
        args.db = sa.make_url(url).get_backend_name()
        args.keep = True
    elif args.db == "postgresql":
        name = f"inspect_bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = sa.make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{workdir}/bench.sqlite3"
    config = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
              "PHOTO_STORAGE_ROOT": f"{workdir}/photos", "LOG_LEVEL": "WARNING",
              "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}
    app = create_app(config)
    if args.keep and not args.reuse:
        print(f"keeping {url}", flush=True)
    try:
        if not args.reuse:
            with app.app_context():
                upgrade()
            build(app, outlets, months)
            # Measure in a fresh interpreter, as a web worker would run: not in this one,
            # whose heap still holds the loader's millions of objects for the garbage
            # collector to walk.
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            subprocess.run([sys.executable, "-m", "tests.benchmarks.dashboard", "--reuse", url],
                           check=True)
            return
        print(f"data: reusing {url}", flush=True)
        figures = measure(app)
        for key, value in figures.items():
            print(f"  {key}: {value:.1f}")
        ratio = figures["raw_scan_ms"] / max(figures["ranking_ms"], 0.001)
        print(f"  raw_scan / ranking = {ratio:.1f}x")
        print("dashboard: " + " ".join(f"{k}={v:.0f}" for k, v in figures.items())
              + f" db={args.db}")
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if not args.keep:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)
        if admin is not None and not args.keep:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
