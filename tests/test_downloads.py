"""Download names for clients that read only the plain ``filename`` of Content-Disposition."""
from __future__ import annotations

import pytest

from inspect_app.api.downloads import ascii_fallback


@pytest.mark.parametrize("name, plain", [
    ("整改清单_路北支行_2026-10-01_2026-10-31.pdf", "rectification-list_2026-10-01_2026-10-31.pdf"),
    ("服务质量周通报-2026-10-12.pdf", "weekly-bulletin-2026-10-12.pdf"),
    ("服务质量月总结-2026-10-01.xlsx", "monthly-summary-2026-10-01.xlsx"),
    ("整改清单_2026-10_全部支行.zip", "rectification-list_2026-10_all-subbranches.zip"),
    ("检查报告_石门分理处_2026-10-09.pdf", "inspection-report_2026-10-09.pdf"),
    ("客户满意银行网点服务检查表-v3.xlsx", "checklist-v3.xlsx"),
    ("路北.pdf", "download.pdf"),
])
def test_a_plain_name_still_says_what_the_file_is(name, plain):
    """Does the ASCII name keep what the file is and its dates, never ``__2026-…``?"""
    assert ascii_fallback(name) == plain
