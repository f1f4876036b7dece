#!/usr/bin/env bash
# Refresh the English catalogue after changing user-facing text, then translate the new
# entries in inspect_app/translations/en/LC_MESSAGES/messages.po and run this again to compile.
# Chinese is the source language: msgids are the Chinese text itself. Marked are labels and
# messages (N_, _l; NP_ with a context) and the messages the pure core builds with values (Message, see
# inspect_app/messages.py), besides gettext/_ in code and templates.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
$BIN/pybabel extract -F babel.cfg -k _l -k N_ -k NP_:1c,2 -k Message --no-location --sort-output \
  -o inspect_app/translations/messages.pot . >/dev/null 2>&1
if [ -f inspect_app/translations/en/LC_MESSAGES/messages.po ]; then
  $BIN/pybabel update -i inspect_app/translations/messages.pot -d inspect_app/translations \
    -l en --no-fuzzy-matching >/dev/null
else
  $BIN/pybabel init -i inspect_app/translations/messages.pot -d inspect_app/translations -l en
fi
$BIN/pybabel compile -d inspect_app/translations -l en --statistics
