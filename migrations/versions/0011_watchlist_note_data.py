"""watchlist: the rules' reasons stored as data, so they can be said in any language

Revision ID: 0011_watchlist_note_data
Revises: 0010_inspections_submitted_late
Create Date: 2026-11-29 06:00:00

A history note the rules wrote (命中规则：…, 命中规则有变化…, a rule exit's reason) is kept as
the Chinese sentence *and* as data (``watchlist_events.note_data``, ``watchlist_entries.exit_note``:
the rules, dates and scores it names; see ``inspect_app.watchlist.rules.say``). Notes written
before this are read back once, here, from the sentences the rules wrote until now; a note
that does not read as one of them (a person's words) gets no data and is shown as written.
The rules' names and sentences are copied here as they were: a migration must not change
with the code.
"""
import re

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0011_watchlist_note_data'
down_revision = '0010_inspections_submitted_late'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')

RULE_KEYS = {"独立检查得分偏低": "low_independent_score", "红线问题反复出现": "red_line_repeat",
             "整改逾期": "overdue_rectification", "自查虚高": "self_check_inflation",
             "排队超时": "queue_overtime"}
_RULES = r"(?P<{}>[^（）：；]+)"
_NUMBER = r"\d+(?:\.\d+)?"
ENTERED = re.compile("命中规则：" + _RULES.format("now"))
CHANGED = re.compile("命中规则有变化（(?:新增 " + _RULES.format("added") + ")?；?(?:不再命中 "
                     + _RULES.format("gone") + ")?），现命中：" + _RULES.format("now"))
REENTERED = re.compile(r"人工出列（(?P<date>\d{4}-\d{2}-\d{2})）后新情况命中规则："
                       + _RULES.format("now"))
EXITED = re.compile(rf"不再命中名单规则，且入列后最近 (?P<n>\d+) 次独立检查均不低于 (?P<score>{_NUMBER}) 分"
                    rf"（(?P<totals>{_NUMBER}(?:、{_NUMBER})*) 分）(?P<clean>，无逾期整改项)?")

events = sa.table('watchlist_events', sa.column('id', sa.Integer()), sa.column('kind', sa.String()),
                  sa.column('note', sa.Text()), sa.column('note_data', JSON))
entries = sa.table('watchlist_entries', sa.column('id', sa.Integer()),
                   sa.column('exit_kind', sa.String()), sa.column('exit_reason', sa.Text()),
                   sa.column('exit_note', JSON))


def _keys(names):
    """"整改逾期、自查虚高" → the rule keys, sorted; KeyError for a name that is no rule's."""
    return sorted(RULE_KEYS[name] for name in names.split("、")) if names else []


def _number(text):
    value = float(text)
    return int(value) if value.is_integer() else value


def read_note(note):
    """The data of a note the rules wrote, or None (a person's words, an unknown wording)."""
    note = note or ""
    try:
        if match := ENTERED.fullmatch(note):
            return {"key": "entered", "rules": _keys(match["now"])}
        if match := CHANGED.fullmatch(note):
            return {"key": "changed", "added": _keys(match["added"]),
                    "gone": _keys(match["gone"]), "rules": _keys(match["now"])}
        if match := REENTERED.fullmatch(note):
            return {"key": "reentered", "since": match["date"], "rules": _keys(match["now"])}
        if match := EXITED.fullmatch(note):
            return {"key": "exited", "count": int(match["n"]), "score": _number(match["score"]),
                    "totals": [_number(t) for t in match["totals"].split("、")],
                    "nothing_overdue": bool(match["clean"])}
    except KeyError:
        return None
    return None


def upgrade():
    with op.batch_alter_table('watchlist_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note_data', JSON, nullable=True))
    with op.batch_alter_table('watchlist_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('exit_note', JSON, nullable=True))
    connection = op.get_bind()
    rows = connection.execute(sa.select(events.c.id, events.c.note)
                              .where(events.c.kind.in_(["entered", "reasons_changed", "exited"])))
    for row in rows.all():
        data = read_note(row.note)
        if data is not None:
            connection.execute(sa.update(events).where(events.c.id == row.id)
                               .values(note_data=data))
    rows = connection.execute(sa.select(entries.c.id, entries.c.exit_reason)
                              .where(entries.c.exit_kind == 'rule'))
    for row in rows.all():
        data = read_note(row.exit_reason)
        if data is not None:
            connection.execute(sa.update(entries).where(entries.c.id == row.id)
                               .values(exit_note=data))


def downgrade():
    with op.batch_alter_table('watchlist_entries', schema=None) as batch_op:
        batch_op.drop_column('exit_note')
    with op.batch_alter_table('watchlist_events', schema=None) as batch_op:
        batch_op.drop_column('note_data')
