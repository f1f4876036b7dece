"""How a version's page states each item's points and type: what the scoring does with it."""
from __future__ import annotations

import re


def _item(page: str, code: str) -> str:
    found = re.search(rf"<strong>{code}</strong>.*?</li>", page, re.S)
    assert found, code
    return found.group(0)


def test_an_item_says_its_own_scale_and_a_text_item_says_it_scores_nothing(client, login, demo):
    """Does a 分档评分 item say its own top (0–5, not 0–N), and a free-text item 不计分
    rather than points it never earns — in Chinese and in English?"""
    login("fwgl", "Demo@2026")
    page = client.get(f"/manage/standards/{demo.id}").get_data(as_text=True)
    scale = [item for item in demo.items if item.response_type == "scale"][0]
    text = [item for item in demo.items if item.response_type == "text"][0]
    shown = _item(page, scale.code)
    assert f"0–{scale.config['max']} 分档评分" in shown and "0–N" not in shown
    assert "分值" in shown
    unscored = _item(page, text.code)
    assert "不计分" in unscored and "分值" not in unscored
    english = client.get(f"/manage/standards/{demo.id}?lang=en").get_data(as_text=True)
    assert "Not scored" in _item(english, text.code)
    assert f"0–{scale.config['max']}" in _item(english, scale.code)
