"""Run Lighthouse against the inspector's form page on a throw-away demo database.

Started by ``scripts/lighthouse.sh``: migrates and seeds a temporary SQLite database, plans a
campaign, signs the spot-check inspector in, serves the app on a free port and points Lighthouse
(mobile emulation, Debian's Chromium) at ``/tasks/<id>``. Prints the three category scores and
exits non-zero when one is below the bar.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import sqlalchemy as sa
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inspect_app import create_app  # noqa: E402
from inspect_app.demo.seed import DEMO_PASSWORD, seed_demo  # noqa: E402
from inspect_app.extensions import db  # noqa: E402

BAR = 90
CATEGORIES = ("performance", "accessibility", "best-practices")


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="lighthouse-"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'lh.sqlite3'}",
                      "SECRET_KEY": "lighthouse", "PHOTO_STORAGE_ROOT": str(tmp / "photos"),
                      "LOGIN_RATE_LIMIT": "1000 per minute", "RATELIMIT_STORAGE_URI": "memory://"})
    with app.app_context():
        from flask_migrate import upgrade

        from inspect_app.checklists.models import Checklist
        from inspect_app.inspections.models import Inspection, Mode

        upgrade()
        seed_demo()
        db.session.commit()
        client = app.test_client()
        token = client.post("/api/v1/auth/token", json={"username": "fwgl",
                                                         "password": DEMO_PASSWORD}).get_json()
        checklist = db.session.scalar(sa.select(Checklist))
        campaign = client.post("/api/v1/campaigns", headers={
            "Authorization": f"Bearer {token['token']}"}, json={
            "name": "Lighthouse", "checklist_id": checklist.id, "period_start": "2026-01-01",
            "period_end": "2026-12-31", "modes": ["spot_check"], "seed": 1,
            "settings": {"spot_check": {"size": 2}}}).get_json()
        inspection = db.session.scalar(sa.select(Inspection).where(
            Inspection.campaign_id == campaign["id"], Inspection.mode == Mode.spot_check))
        username = inspection.assignee.username
        inspection_id = inspection.id
        client.get("/login")
        with client.session_transaction() as sess:
            csrf = sess["csrf"]
        client.post("/login", data={"username": username, "password": DEMO_PASSWORD,
                                    "csrf_token": csrf})
        cookie = client.get_cookie("session").value

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/tasks/{inspection_id}"
    report = tmp / "report.json"
    command = [str(ROOT / "tools/lighthouse/node_modules/.bin/lighthouse"), url,
               "--quiet", "--output=json", f"--output-path={report}",
               f"--only-categories={','.join(CATEGORIES)}", "--form-factor=mobile",
               "--chrome-flags=--headless --no-sandbox",
               "--extra-headers", json.dumps({"Cookie": f"session={cookie}"})]
    env = {**os.environ, "CHROME_PATH": os.environ.get("CHROME_PATH", "/usr/bin/chromium")}
    try:
        subprocess.run(command, check=True, env=env)
    finally:
        server.shutdown()
    print(f"report: {report}")
    result = json.loads(report.read_text())
    scores = {name: round(result["categories"][name]["score"] * 100) for name in CATEGORIES}
    for name, score in scores.items():
        print(f"{name}: {score}")
    failing = {k: v for k, v in scores.items() if v < BAR}
    for audit in result["audits"].values():
        if audit.get("score") is not None and audit["score"] < 0.9 and \
                audit.get("scoreDisplayMode") in ("binary", "numeric"):
            print(f"  - {audit['id']}: {audit['title']} ({audit['score']})")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
