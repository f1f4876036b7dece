"""PDF rendering layer: Chinese text, page numbers, photos, audiences and the no-network rule.

Pure tests: small in-memory JPEGs, a dict-backed ``fetch_image``, text extracted with pypdf.
"""

from __future__ import annotations

import hashlib
import io
import re
import socket
import urllib.request

import pytest
from PIL import Image
from pypdf import PdfReader

from inspect_app.reports import pdf

SECRET_SHOPPER = "欧阳秘客"
FLAG = "拍摄地点距网点超过 500 米"


def jpeg(width: int, height: int, seed: int) -> bytes:
    """A small JPEG whose content depends on ``seed``."""
    img = Image.new("RGB", (width, height), ((seed * 53) % 256, (seed * 97) % 256, 120))
    img.paste((255, 255, 255), (seed % width, 0, seed % width + 8, height))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=80)
    return out.getvalue()


@pytest.fixture()
def store() -> dict[str, bytes]:
    """Thumbnails (320×240) under their storage keys."""
    return {f"thumb{i}": jpeg(320, 240, i) for i in range(8)}


def sha(n: int) -> str:
    return hashlib.sha256(f"original-{n}".encode()).hexdigest()


def item(n: int, **overrides) -> dict:
    base = {
        "number": n, "item_code": f"ENV-0{n}", "item_text": f"营业厅整洁明亮第{n}项",
        "standard": "合格标准：地面无污渍、无杂物堆放", "section": "网点颜值靓化",
        "finding_note": "大堂角落堆放纸箱", "severity": "较重", "deadline": f"2026-12-0{n}",
        "state": "待整改", "overdue": False, "responsible": "张三", "mode": "抽查",
        "inspection_date": "2026-11-20", "inspector": "李四",
        "before_photos": [{"key": f"thumb{2 * n}", "sha256": sha(2 * n)}],
        "after_photos": [{"key": f"thumb{2 * n + 1}", "sha256": sha(2 * n + 1)}],
        "evidence_flags": [], "fixed_on_spot": False,
    }
    base.update(overrides)
    return base


def list_context(audience: str = "reviewer", items: list[dict] | None = None) -> dict:
    items = items if items is not None else [
        item(1, overdue=True, evidence_flags=[f"{FLAG}（暗访人 {SECRET_SHOPPER}）"]),
        item(2, state="已提交"),
    ]
    return {
        "title": "整改清单", "scope_label": "路北支行 · 2026年11月", "audience": audience,
        "generated_at": "2026-11-28 10:30", "period_label": "2026-11-01 至 2026-11-30",
        "campaign_label": None,
        "summary": {"total": 2, "open": 1, "submitted": 1, "accepted": 0, "closed": 0,
                    "overdue": 1},
        "outlets": [
            {"code": "TS-LB-01", "name": "路北支行营业室", "subbranch": "路北支行",
             "items": items[:1]},
            {"code": "TS-LB-02", "name": "龙泽路支行", "subbranch": "路北支行",
             "items": items[1:]},
        ],
        "signature": True,
    }


def report_context(audience: str = "reviewer") -> dict:
    return {
        "title": "检查报告", "audience": audience,
        "outlet": {"code": "TS-LB-01", "name": "路北支行营业室", "subbranch": "路北支行"},
        "mode": "暗查", "date": "2026-11-20", "inspector": SECRET_SHOPPER,
        "checklist": {"name": "客户满意银行网点服务检查表", "version": 3},
        "score": {"total": 86.5, "grade": "良好", "red_line_failed": True,
                  "red_line_note": "未执行双人押运交接",
                  "sections": [{"code": "ENV", "name": "网点颜值靓化", "earned": 18.0,
                                "possible": 20.0, "percent": 90.0}]},
        "findings": [item(1, mode="暗查", inspector=SECRET_SHOPPER, fixed_on_spot=True,
                          evidence_flags=[FLAG])],
    }


def text_of(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def image_sizes(data: bytes) -> list[tuple[int, int]]:
    sizes = []
    for page in PdfReader(io.BytesIO(data)).pages:
        xobjects = page["/Resources"].get("/XObject", {})
        for ref in xobjects.values():
            obj = ref.get_object()
            if obj["/Subtype"] == "/Image":
                sizes.append((int(obj["/Width"]), int(obj["/Height"])))
    return sizes


def font_names(data: bytes) -> set[str]:
    names = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        for ref in page["/Resources"].get("/Font", {}).values():
            names.add(str(ref.get_object()["/BaseFont"]))
    return names


@pytest.fixture()
def reviewer_list(store) -> bytes:
    return pdf.render_pdf("rectification_list.html", list_context("reviewer"),
                          fetch_image=store.get)


@pytest.fixture()
def outlet_list(store) -> bytes:
    return pdf.render_pdf("rectification_list.html", list_context("outlet"),
                          fetch_image=store.get)


def test_chinese_outlet_names_and_items_render_with_a_cjk_font(reviewer_list):
    """Are the Chinese outlet names and item texts in the PDF text, set in a CJK font?"""
    text = text_of(reviewer_list)
    for expected in ("整改清单", "路北支行营业室", "龙泽路支行", "营业厅整洁明亮第1项",
                     "合格标准：地面无污渍", "整改责任人", "复核人", "日期"):
        assert expected in text
    names = {name.replace("-", "") for name in font_names(reviewer_list)}
    assert any("NotoSansCJK" in name or "SourceHanSans" in name for name in names), names


def test_pages_are_numbered_in_chinese(store):
    """Does every page carry "第 X 页 共 Y 页", with the right total?"""
    items = [item(n % 3 + 1, number=n) for n in range(1, 13)]
    data = pdf.render_pdf("rectification_list.html", list_context(items=items),
                          fetch_image=store.get)
    pages = PdfReader(io.BytesIO(data)).pages
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        assert f"第 {number} 页 共 {len(pages)} 页" in page.extract_text()


def test_sha256_of_every_original_is_printed(reviewer_list):
    """Is the SHA-256 of each original photo printed under its thumbnail?"""
    text = squeezed(text_of(reviewer_list))
    for n in (2, 3, 4, 5):
        assert sha(n) in text


def test_overdue_items_are_marked(reviewer_list, store):
    """Is an overdue item marked 已逾期, and a list without overdue items free of the mark?"""
    assert "已逾期" in text_of(reviewer_list)
    calm = list_context(items=[item(1), item(2)])
    assert "已逾期" not in text_of(pdf.render_pdf("rectification_list.html", calm,
                                                   fetch_image=store.get))


def test_outlet_copy_hides_evidence_flags_and_the_mystery_shopper(reviewer_list, outlet_list):
    """Does the outlet copy leave out evidence flags and the shopper named only in them?"""
    reviewer, outlet = text_of(reviewer_list), text_of(outlet_list)
    assert FLAG in reviewer and SECRET_SHOPPER in reviewer
    assert FLAG not in outlet
    assert SECRET_SHOPPER not in outlet
    assert "证据提示" not in outlet


def test_outlet_report_of_a_mystery_visit_never_names_the_shopper(store):
    """Even if the caller forgot to mask the name, does an outlet copy of a 暗查 say 神秘人?"""
    outlet = text_of(pdf.render_pdf("inspection_report.html", report_context("outlet"),
                                    fetch_image=store.get))
    assert SECRET_SHOPPER not in outlet and FLAG not in outlet
    assert "神秘人" in outlet
    reviewer = text_of(pdf.render_pdf("inspection_report.html", report_context("reviewer"),
                                      fetch_image=store.get))
    assert SECRET_SHOPPER in reviewer and FLAG in reviewer


def test_inspection_report_shows_scores_grade_and_findings(store):
    """Does the report show the section scores, total, grade, red line and the findings?"""
    data = pdf.render_pdf("inspection_report.html", report_context(), fetch_image=store.get)
    text = text_of(data)
    for expected in ("检查报告", "路北支行营业室", "网点颜值靓化", "18.0", "20.0", "90.0%",
                     "86.5", "良好", "一票否决", "未执行双人押运交接", "立查立改",
                     "客户满意银行网点服务检查表", "第 3 版", "营业厅整洁明亮第1项"):
        assert expected in text
    assert sha(2) in squeezed(text)


def test_embedded_images_are_the_thumbnails(reviewer_list):
    """Are the embedded images the 320×240 thumbnails given by fetch_image, one per photo?"""
    sizes = image_sizes(reviewer_list)
    assert sizes and set(sizes) == {(320, 240)}
    assert len(sizes) == 4


def test_unknown_audience_is_refused(store):
    """Is a copy whose audience is neither outlet nor reviewer refused?"""
    with pytest.raises(ValueError):
        pdf.render_pdf("rectification_list.html", list_context("public"), fetch_image=store.get)


def test_missing_photo_does_not_break_rendering(store):
    """Does a photo key missing from storage leave the photo out but still give a PDF?"""
    broken = item(1, before_photos=[{"key": "not-stored", "sha256": sha(99)}])
    data = pdf.render_pdf("rectification_list.html", list_context(items=[broken, item(2)]),
                          fetch_image=store.__getitem__)
    text = text_of(data)
    assert "照片无法读取" in text and sha(99) in squeezed(text)
    assert len(image_sizes(data)) == 3


@pytest.fixture()
def no_network(monkeypatch):
    """Fail the test if anything opens a socket or a urllib request."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr(urllib.request.OpenerDirector, "open", refuse)


def test_http_photo_urls_are_never_fetched(store, no_network):
    """Is an http:// URL given as a photo key refused without any network access?"""
    asked = []

    def fetch_image(key: str) -> bytes:
        asked.append(key)
        return store[key]

    remote = item(1, before_photos=[{"key": "http://198.51.100.7/leak.jpg", "sha256": sha(7)}])
    data = pdf.render_pdf("rectification_list.html", list_context(items=[remote, item(2)]),
                          fetch_image=fetch_image)
    assert data.startswith(b"%PDF")
    assert not any("http" in key for key in asked)
    assert len(image_sizes(data)) == 3


def test_html_pointing_at_the_network_or_the_disk_is_not_fetched(store, no_network):
    """Are http(s) and file URLs outside static/ refused when printing raw HTML?"""
    html = ('<html><body><p>测试</p><img src="http://198.51.100.7/a.jpg">'
            '<img src="https://198.51.100.7/b.jpg"><img src="file:///etc/hostname">'
            '<img src="evidence:thumb0"></body></html>')
    data = pdf.html_to_pdf(html, fetch_image=store.get)
    assert image_sizes(data) == [(320, 240)]


@pytest.mark.parametrize("url", ["http://example.com/x.jpg", "https://example.com/x.jpg",
                                 "file:///etc/passwd", "ftp://example.com/x",
                                 "data:image/png;base64,AAAA", "evidence:http://example.com/x"])
def test_fetcher_refuses_everything_but_evidence_and_static(url, no_network):
    """Does the URL fetcher refuse network, data and out-of-static file URLs?"""
    fetcher = pdf.EvidenceURLFetcher(lambda key: b"")
    with pytest.raises(pdf.ResourceRefused):
        fetcher.fetch(url)


def test_fetcher_reads_static_files_and_evidence(store):
    """Does the fetcher serve the stylesheet from static/ and photos from fetch_image?"""
    fetcher = pdf.EvidenceURLFetcher(store.__getitem__)
    css = fetcher.fetch(pdf.STYLESHEET.as_uri())
    assert b"@page" in css.read()
    photo = fetcher.fetch(pdf.evidence_url("thumb1"))
    assert photo.read() == store["thumb1"] and photo.content_type == "image/jpeg"
    outside = (pdf.STATIC_ROOT / ".." / "setup.cfg").as_uri()
    with pytest.raises(pdf.ResourceRefused):
        fetcher.fetch(outside)


def test_fonts_and_stylesheet_are_loaded_once_per_process(store, monkeypatch):
    """Does rendering reuse one FontConfiguration and one parsed stylesheet?"""
    pdf.warm_up()
    created = []
    monkeypatch.setattr(pdf, "FontConfiguration", lambda: created.append(1))
    monkeypatch.setattr(pdf, "CSS", lambda **kw: created.append(2))
    first = pdf._font_config(), pdf._stylesheet()
    pdf.render_pdf("rectification_list.html", list_context(), fetch_image=store.get)
    assert (pdf._font_config(), pdf._stylesheet()) == first
    assert created == []


def test_harfbuzz_subsetter_is_available():
    """Is HarfBuzz's subsetter loaded (otherwise CJK subsetting takes seconds)?"""
    assert pdf.harfbuzz_subsetter_available()


def test_outside_an_app_context_templates_are_autoescaped(store):
    """Is user text escaped (no markup injection) in a render with no Flask app?"""
    html = pdf.render_html("rectification_list.html",
                           list_context(items=[item(1, finding_note="<b>x</b>&"), item(2)]))
    assert "&lt;b&gt;x&lt;/b&gt;&amp;" in html


def test_importing_the_pdf_renderer_keeps_truncated_photos_refused():
    """WeasyPrint flips Pillow's LOAD_TRUNCATED_IMAGES on import: does our module put it back,
    so photo intake still refuses truncated files in a process that renders PDFs?"""
    import importlib

    from PIL import ImageFile

    import inspect_app.reports.pdf as pdf

    importlib.reload(pdf)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_templates_use_only_elements_the_short_ua_stylesheet_styles():
    """Is every element the PDF templates print styled by static/pdf/ua.css (which replaces
    WeasyPrint's full HTML5 user-agent sheet), or an inline element needing no style?"""
    selectors = re.sub(r"/\*.*?\*/", "", pdf.UA_STYLESHEET.read_text(encoding="utf-8"),
                       flags=re.S)
    while "{" in selectors:  # drop declaration blocks, innermost first (@page nests them)
        selectors = re.sub(r"\{[^{}]*\}", " ", selectors)
    selectors = re.sub(r"\[[^\]]*\]", " ", selectors)
    styled = set(re.findall(r"(?<![\w.#:@-])([a-z][a-z0-9]*)", selectors))
    used = set()
    for path in (pdf.TEMPLATES_ROOT / "pdf").glob("*.html"):
        used |= set(re.findall(r"<([a-z][a-z0-9]*)\b", path.read_text(encoding="utf-8")))
    assert used - styled <= {"span"}, sorted(used - styled - {"span"})


def test_the_short_ua_stylesheet_is_used(store, monkeypatch):
    """Does WeasyPrint still ask for the user-agent sheets through the hook we override?"""
    import weasyprint

    assert callable(getattr(weasyprint.HTML, "_ua_stylesheets", None))
    asked = []
    original = pdf._PDFHTML._ua_stylesheets

    def spy(self, *args, **kwargs):
        asked.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pdf._PDFHTML, "_ua_stylesheets", spy)
    pdf.render_pdf("rectification_list.html", list_context(), fetch_image=store.get)
    assert asked


@pytest.mark.parametrize(("template", "context"), [
    ("rectification_list.html", list_context("reviewer")),
    ("rectification_list.html", list_context("outlet")),
    ("inspection_report.html", report_context("reviewer")),
    ("inspection_report.html", report_context("outlet")),
])
def test_templates_are_parsed_by_expat_and_print_as_with_the_html_parser(store, template,
                                                                           context):
    """Is the templates' output well-formed XML (the fast parser), and does it print the same
    pages and text as when WeasyPrint's own HTML parser reads it?"""
    html = pdf.render_html(template, context)
    assert pdf._xhtml_tree(html) is not None
    fast = PdfReader(io.BytesIO(pdf.render_pdf(template, context, fetch_image=store.get)))
    slow = PdfReader(io.BytesIO(pdf.html_to_pdf(html, fetch_image=store.get)))
    assert [p.extract_text() for p in fast.pages] == [p.extract_text() for p in slow.pages]
    assert image_sizes(pdf.render_pdf(template, context, fetch_image=store.get)) == \
        image_sizes(pdf.html_to_pdf(html, fetch_image=store.get))


def test_text_that_is_not_xml_falls_back_to_the_html_parser(store):
    """Is a list whose note holds a character XML forbids (a Unicode noncharacter; control
    characters are dropped before printing) still printed, by WeasyPrint's own parser?"""
    odd = list_context(items=[item(1, finding_note="纸箱\uffff堆放"), item(2)])
    assert pdf._xhtml_tree(pdf.render_html("rectification_list.html", odd)) is None
    data = pdf.render_pdf("rectification_list.html", odd, fetch_image=store.get)
    assert data.startswith(b"%PDF") and len(PdfReader(io.BytesIO(data)).pages) == 1
    assert len(image_sizes(data)) == 4


def test_control_characters_in_a_note_leave_the_text_readable(store):
    """Does a note with pasted control characters still give a PDF whose text can be read?"""
    items = [item(1, finding_note="柜台\x0b物品\x00摆放\x1b杂乱"), item(2)]
    data = pdf.render_pdf("rectification_list.html", list_context("reviewer", items),
                          fetch_image=store.get)
    text = squeezed(text_of(data))
    assert "柜台物品摆放杂乱" in text and "第1页共1页" in text
