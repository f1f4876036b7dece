#!/usr/bin/env bash
# The whole test suite, on SQLite and on PostgreSQL (tests that use the database run once per
# database). PostgreSQL is started here if it is installed but stopped; without it, its half of
# the run is skipped with a message saying so.
#
# Two pytest-xdist workers share the tests (each with its own databases, live servers and
# folders); tests/conftest.py's SAME_WORKER keeps the browser tests on one of them. Arguments
# come after, so `-n 0` runs everything in one process again.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
export PYTHONDONTWRITEBYTECODE=1
.venv/bin/ruff check inspect_app tests migrations/env.py
exec .venv/bin/python -m pytest -n 2 "$@"
