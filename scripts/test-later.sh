#!/usr/bin/env bash
# The suite's SQLite half on a later day, on a faked clock (libfaketime): finds the tests that
# only pass in the weeks they were written — a date typed in, or a fact of the demo data (whose
# history is drawn back from the day it is seeded) that holds on some days only.
#
#   bash scripts/test-later.sh                 # 40 days from now, at 10:00 UTC
#   bash scripts/test-later.sh 2027-04-06      # that day, at 10:00 UTC
#   bash scripts/test-later.sh "2026-12-31 16:30:00" tests/watchlist   # 00:30 in Beijing
#
# Left out: the browser tests (Chromium keeps its own clock) and the tests that run gunicorn
# (its master sleeps with time.sleep, which libfaketime 0.9.10 breaks with a real monotonic
# clock — see tests/conftest.py). DONT_FAKE_MONOTONIC=1: timeouts measure real time.
set -euo pipefail
cd "$(dirname "$0")/.."
when="${1:-$(date -u -d '+40 days' +%F)}"
shift || true
[[ "$when" == *:* ]] || when="$when 10:00:00"
command -v faketime >/dev/null || { echo "faketime is not installed: apt-get install faketime" >&2; exit 2; }
bash scripts/services.sh
export PYTHONDONTWRITEBYTECODE=1 DONT_FAKE_MONOTONIC=1
echo "tests on a clock set to $when UTC (SQLite)"
exec faketime -f "@$when" .venv/bin/python -m pytest -n 2 -k "not postgresql" \
  --ignore=tests/browser --deselect tests/security/test_live.py \
  --deselect tests/test_logs.py::test_gunicorn_writes_json_lines_too \
  --deselect tests/test_logs.py::test_gunicorn_refuses_a_bad_setting_before_booting_workers \
  "${@:-tests}"
