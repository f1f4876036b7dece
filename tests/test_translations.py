"""English is complete, and the committed .mo matches its .po (no stale catalogue)."""
from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

CATALOG = Path(__file__).resolve().parent.parent / "inspect_app/translations/en/LC_MESSAGES"


def test_every_message_has_an_english_translation():
    """Is every Chinese message of the pages translated into English?"""
    with open(CATALOG / "messages.po", "rb") as handle:
        catalog = read_po(handle)
    missing = [m.id for m in catalog
               if m.id and not (all(m.string) if isinstance(m.string, (list, tuple)) else m.string)]
    assert missing == []


def _key(value):
    """A plural message's id and strings come as lists or tuples: compare them as tuples."""
    return tuple(value) if isinstance(value, (list, tuple)) else value


def test_compiled_catalogue_matches_the_source():
    """Was scripts/i18n.sh run after the last edit of messages.po?"""
    with open(CATALOG / "messages.po", "rb") as handle:
        source = {(m.context, _key(m.id)): _key(m.string) for m in read_po(handle)
                  if m.id and not m.fuzzy}
    with open(CATALOG / "messages.mo", "rb") as handle:
        compiled = {(m.context, _key(m.id)): _key(m.string) for m in read_mo(handle) if m.id}
    assert compiled == source
