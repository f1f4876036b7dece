#!/usr/bin/env bash
# The whole test suite, on SQLite and on PostgreSQL (tests that use the database run once per
# database). PostgreSQL is started here if it is installed but stopped; without it, its half of
# the run is skipped with a message saying so.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
export PYTHONDONTWRITEBYTECODE=1
.venv/bin/ruff check inspect_app tests migrations/env.py
exec .venv/bin/python -m pytest "$@"
