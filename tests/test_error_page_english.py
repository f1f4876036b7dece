"""The error page's own labels follow the page's language, punctuation included."""
from __future__ import annotations


def test_error_page_labels_use_english_punctuation(client, org):
    """Does a 404 page in English read "Error code: not_found (404)" — no Chinese "：" —
    while the Chinese page keeps "错误代码：not_found (404)"?"""
    text = client.get("/no-such-page?lang=en").get_data(as_text=True)
    assert "Error code: not_found (404)" in text and "：" not in text.split("<main")[1]
    text = client.get("/no-such-page?lang=zh").get_data(as_text=True)
    assert "错误代码：not_found (404)" in text
