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
