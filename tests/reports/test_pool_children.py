"""A report pool's children leave with the process that started them, even when it is killed
without shutting its pool down (a web worker's timeout), instead of living on as orphans
that each hold a database connection."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

PARENT = textwrap.dedent("""
    import multiprocessing, os, sys, time
    from pathlib import Path
    from inspect_app.reports.jobs import exit_with_parent

    def child(parent, ready):
        exit_with_parent(parent, interval=0.05)
        Path(ready).write_text("watching")
        time.sleep(60)

    if __name__ == "__main__":
        ready = Path(sys.argv[1])
        process = multiprocessing.get_context("spawn").Process(
            target=child, args=(os.getpid(), str(ready)))
        process.start()
        print(process.pid, flush=True)
        deadline = time.monotonic() + 30
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.02)   # until the child is up and watching
        os._exit(0)            # killed: no atexit, no pool shutdown, no join
""")


def alive(pid: int) -> bool:
    """Running (a zombie waiting for a reaper has left already)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_a_child_leaves_when_its_parent_is_killed(tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    ready = tmp_path / "ready"
    result = subprocess.run([sys.executable, str(script), str(ready)], capture_output=True,
                            text=True, timeout=90, cwd=Path(__file__).resolve().parents[2])
    child = int(result.stdout.split()[0])
    assert ready.exists(), result.stderr  # it was watching when its parent died
    deadline = time.monotonic() + 10
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child), "the orphaned child is still running"
