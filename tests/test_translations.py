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


def test_the_english_words_for_appeals_keep_one_meaning():
    """"Upheld" is the finding standing (维持原结论); an appeal that succeeds is "granted" —
    also where a fix is withdrawn because of it."""
    with open(CATALOG / "messages.po", "rb") as handle:
        english = {m.id: m.string for m in read_po(handle) if m.id}
    assert "granted" in english["申诉成立"].lower()
    assert "granted" in english["申诉成立，已撤销"].lower()
    assert "upheld" not in english["申诉成立，已撤销"].lower()


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


def test_api_labels_follow_the_users_language(client, api, demo):
    """In English, do the labels the API gives the screens (mode, status, rectification state,
    severity, role) come in English — and in Chinese by default?"""
    headers = api("wd.lb01")
    chinese = client.get("/api/v1/inspections?per_page=50", headers=headers).get_json()["items"]
    english = client.get("/api/v1/inspections?per_page=50&lang=en",
                         headers=headers).get_json()["items"]
    assert {i["mode_label"] for i in chinese} <= {"自查", "互查", "抽查", "暗访"}
    assert {i["mode_label"] for i in english} <= {"Self-check", "Peer check", "Spot check",
                                                 "Mystery visit"}
    assert {i["status_label"] for i in english} <= {"To inspect", "In progress", "Submitted",
                                                   "Returned for changes", "Final", "Cancelled"}
    items = client.get("/api/v1/rectification/items?lang=en",
                       headers=api("fwgl")).get_json()["items"]
    assert items and {i["state_label"] for i in items} <= {"To fix", "Submitted", "Accepted",
                                                          "Closed"}
    assert {i["severity_label"] for i in items} <= {"Minor", "Major", "Critical"}
    me = client.get("/api/v1/me?lang=en", headers=headers).get_json()
    assert [g["role_label"] for g in me["grants"]] == ["Outlet manager"]
