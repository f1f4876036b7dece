"""The README's examples work when copied."""
from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from inspect_app.auth.permissions import Role

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_api_example_sets_the_token_it_sends(client, make_user):
    """Does the README's API example set ``$TOKEN`` from the token answer before sending it
    (it used one nothing had set), and does its extraction give a token /me accepts?"""
    section = README.read_text(encoding="utf-8").split("## The API", 1)[1]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    assert block.index("TOKEN=$(") < block.index("$TOKEN"), block
    assert '"username":"fwgl","password":"Demo@2026"' in block
    extract = re.search(r"\| (python3 -c '[^']*')\)", block).group(1)
    make_user("fwgl", (Role.service_manager, "TS"), password="Demo@2026")
    answer = client.post("/api/v1/auth/token", json={"username": "fwgl", "password": "Demo@2026"})
    command = [sys.executable, *shlex.split(extract)[1:]]
    token = subprocess.run(command, input=answer.get_data(), capture_output=True, check=True,
                           timeout=30).stdout.decode().strip()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.get_json()["username"] == "fwgl"


def test_make_run_says_how_to_change_port_and_host():
    """Does the README say how to serve on another port, or to a phone on the LAN, as the
    Makefile allows (``make run PORT=… HOST=…``)?"""
    text = README.read_text(encoding="utf-8")
    makefile = (README.parent / "Makefile").read_text(encoding="utf-8")
    assert "HOST   ?=" in makefile and "PORT   ?=" in makefile
    assert "make run PORT=5123" in text and "make run HOST=0.0.0.0" in text



def test_the_benchmark_server_runs_gunicorn_with_the_deploy_settings(tmp_path):
    """Does the load benchmark's (and the live tests') gunicorn get the settings module the
    README's deploy command gives production (``-c python:inspect_app.gunicorn_conf``, the
    gthread worker class), so the benchmarks measure what production runs — seen at work: a
    bad setting stops its master with one 配置错误 line and exit 4, before any worker boots?"""
    import os

    from inspect_app import APP_LOAD_ERROR
    from tests.benchmarks._server import free_port, gunicorn_command

    section = README.read_text(encoding="utf-8").split("## Deploying", 1)[1]
    deploy = shlex.split(next(line for line in section.splitlines()
                              if line.startswith(".venv/bin/gunicorn ")))
    config = deploy[deploy.index("-c") + 1]
    assert config == "python:inspect_app.gunicorn_conf"
    command = gunicorn_command(free_port(), workers=2, threads=2, timeout=30)
    assert command[command.index("-c") + 1] == config, command
    assert command[-1] == deploy[-1] == "inspect_app:create_app()"
    assert command[command.index("-k") + 1] == deploy[deploy.index("-k") + 1] == "gthread"

    env = {**os.environ, "DATABASE_URL": "mysql://u:s3cret@127.0.0.1/db", "SECRET_KEY": "t",
           "PHOTO_STORAGE_ROOT": str(tmp_path / "photos")}
    result = subprocess.run(command, env=env, cwd=README.parent, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == APP_LOAD_ERROR, result.stderr
    assert len([line for line in result.stderr.splitlines() if "配置错误" in line]) == 1, \
        result.stderr
    assert "Booting worker" not in result.stderr and "Traceback" not in result.stderr
