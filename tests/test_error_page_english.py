"""The error page's own labels follow the page's language, punctuation included."""
from __future__ import annotations


def test_error_page_labels_use_english_punctuation(client, org):
    """Does a 404 page in English read "Error code: not_found (404)" — no Chinese "：" —
    while the Chinese page keeps "错误代码：not_found (404)"?"""
    text = client.get("/no-such-page?lang=en").get_data(as_text=True)
    assert "Error code: not_found (404)" in text and "：" not in text.split("<main")[1]
    text = client.get("/no-such-page?lang=zh").get_data(as_text=True)
    assert "错误代码：not_found (404)" in text


def test_error_page_says_what_went_wrong_in_english(client, org):
    """Does a 404 page in English say what went wrong in English (the page's heading was
    English, its message still "未找到该页面或记录"), and the API too — in Chinese by default?"""
    main = client.get("/no-such-page?lang=en").get_data(as_text=True).split("<main")[1]
    assert "Page or record not found" in main
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in main)
    body = client.get("/api/v1/no-such-thing?lang=en").get_json()
    assert body["error"]["message"] == "Page or record not found"
    body = client.get("/api/v1/no-such-thing?lang=zh").get_json()
    assert body["error"]["message"] == "未找到该页面或记录"
