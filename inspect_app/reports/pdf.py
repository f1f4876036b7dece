"""PDF rendering: Jinja templates under ``templates/pdf/`` printed by WeasyPrint.

The layer is fed plain dicts and needs no Flask application or request, so a view, a CLI command
and a background worker render the same bytes. Photos never travel over HTTP: the HTML names
them ``evidence:<storage-key>`` and :class:`EvidenceURLFetcher` reads them through the
``fetch_image(key)`` callable the caller wires to photo storage; the stylesheet is read from the
repository's ``static/`` folder on disk; every other URL (``http:``, ``https:``, ``file:`` outside
``static/``, ``data:`` …) is refused, and WeasyPrint leaves that resource out.

Speed: the fontconfig/Pango :class:`~weasyprint.text.fonts.FontConfiguration` and the parsed
stylesheet are built once per process (:func:`warm_up`), never per PDF. Fonts are subset (the
WeasyPrint default). WeasyPrint 70 (``weasyprint/pdf/fonts.py``, ``Font.subset``) subsets with
HarfBuzz's ``hb_subset_or_fail`` when ``libharfbuzz-subset0`` ≥ 4.1 can be loaded, and otherwise
falls back to fontTools — seconds per 65 000-glyph CJK face — logging a warning; with HarfBuzz one
Noto Sans CJK face costs about 40 ms per PDF (measured on the benchmark machine). See
:func:`harfbuzz_subsetter_available`. Each embedded face is a whole extra subset, so the
stylesheet uses one face only (regular weight; no bold, no separate monospace font). That face
is a pre-subset Noto Sans CJK SC shipped in ``static/fonts/`` (built by
``scripts/build_pdf_font.py``: GB 2312 + ASCII + punctuation + the repository's own characters,
~7,000 glyphs, OFL), loaded by ``@font-face`` through the on-disk fetcher: subsetting it per PDF
costs a few milliseconds instead of ~50 ms for the 65,000-glyph system face; a character it lacks
falls back, per character, to the system Noto Sans CJK SC. The cyclic garbage collector is paused
while a document is laid out (:func:`_cyclic_gc_paused`): its full collections re-walked every
layout object and made long lists cost more per finding than short ones.
JPEG thumbnails are embedded as they are (``DCTDecode``, no re-encoding): ``optimize_images`` and
``jpeg_quality`` stay off, which is both the fastest and, for already-compressed thumbnails, the
smallest choice.

What is left is WeasyPrint's Python, spread thin (cProfile of the 20-finding list, 4 pages):
laying out lines and table cells, the cascade, building boxes, parsing, drawing glyphs. Its cost
follows the number of elements, boxes, lines and glyphs, so the rest of the speed work cuts those
without changing what is printed (issue 6; ``python -m tests.benchmarks.pdf``):

- Markup (``templates/pdf/_macros.html``): a finding's cells hold plain blocks, never nested
  inline runs (``<b>``/``<span>``/``<br>``: each line had to be split through every inline box);
  texts of one style share one ``white-space: pre-line`` block, one line each (item + problem;
  grey standard + severity/inspector; deadline + state); the SHA-256 under a thumbnail is one
  ``white-space: pre`` block of two lines (no line breaking to search, and no
  ``font-variant-numeric`` — Noto's digits are tabular anyway — which added an OpenType feature
  to every shaping call); whitespace between the table's tags is dropped
  (``collapse_tag_space``). Together ~0.8× the time of the inline markup.
- A short user-agent stylesheet (``static/pdf/ua.css``, :class:`_PDFHTML`) instead of
  WeasyPrint's full HTML5 one: the cascade went from ~55 ms to ~15 ms (with the leaner markup).
- Our templates are well-formed XML, so :func:`render_pdf` parses them with expat (~1 ms) instead
  of WeasyPrint's pure-Python tinyhtml5 (~25 ms); see :func:`_xhtml_tree`.
- The small header tables use ``table-layout: fixed`` and the margin boxes have widths, so no
  min/max-content passes are made for them (margin boxes ~20 → ~10 ms per PDF).

Measured on the 2-core benchmark machine, same process, variants interleaved (the machine's speed
drifts by up to 2× over minutes, so only side-by-side figures compare): the 20-finding list went
from ~500 ms to ~290 ms of CPU time (best of runs; medians ~680 → ~400 ms), the 200-finding list
from ~4.7 s to ~2.2 s (~7–7.5× the 20-finding list, as before; single benchmark runs scatter
from 5× to 8.5× on this machine), same PDF size; peak RSS for 200 findings ~270 → ~215 MB.
Tried without a measurable gain: one table for all outlets (fewer repeated header rows),
``border-collapse: separate``, a shorter font-family list, a pre-subset font without vertical
metrics, no ``lang``. Still spent, untouched: a row that does not fit at the bottom of a page is
laid out, dropped and laid out again on the next page (~20% more cell layouts).

Renders in one process are serialised by a lock, because the shared Pango font map is not
thread-safe; long lists belong in a worker process anyway, not in a web worker.

Contexts
========

Every template needs ``audience``: ``"outlet"`` (the copy an outlet sees) or ``"reviewer"``
(sub-branch / branch staff). Outlet copies never print ``evidence_flags``, and when the finding's
``mode`` is a mystery visit (暗查 / 暗访 / 神秘人暗访) they print the inspector as "神秘人" whatever the
context says. The caller must still replace mystery-shopper names with "神秘人" and must not put
accounts or exact visit times anywhere in an outlet context. Strings are printed as given
(HTML-escaped); the caller formats dates. Lists are rendered in the order given.

Photo (``PHOTO``)::

    {"key": str,      # storage key of the THUMBNAIL JPEG (≤ 320 px long side), passed to fetch_image
     "sha256": str}   # 64 hex digits: SHA-256 of the ORIGINAL photo, printed under the thumbnail

Finding / rectification item (``ITEM``)::

    {"number": 1,                      # running number printed in the first column
     "item_code": "ENV-03",
     "item_text": "营业厅整洁明亮，无杂物堆放",
     "standard": "合格标准：……",        # guidance text of the checklist item (may be "")
     "section": "网点颜值靓化",
     "finding_note": "……",             # the inspector's note
     "severity": "较重",                # 一般 / 较重 / 严重 …, printed as given
     "appeal": "申诉处理中",             # where the latest appeal against the finding stands
                                       # (with the decision's note); "" or absent: none
     "deadline": "2026-12-05",
     "state": "待整改",                  # 待整改 / 已提交 / 已验收 / 已关闭 / 已退回 …, printed as given
     "overdue": True,                   # prints a red "已逾期" mark
     "late": False,                     # fixed after the deadline: prints "逾期完成" (optional)
     "fix_dates": "提交 2026-12-04 · 验收 2026-12-06",  # optional, "" before any fix
     "responsible": "张三",              # may be "" or None
     "mode": "抽查",                     # 自查 / 互查 / 抽查 / 暗查
     "inspection_date": "2026-11-20",   # a date, never a time of day
     "inspector": "李四",                # "神秘人" for mystery visits in outlet copies
     "before_photos": [PHOTO, …],
     "after_photos": [PHOTO, …],
     "evidence_flags": ["拍摄时间不在检查时段内", …],   # reviewer copies only; [] or absent otherwise
     "fixed_on_spot": False}            # inspection report only: prints "立查立改"

``rectification_list.html`` — 整改清单 (for one inspection: one outlet, its items)::

    {"title": "整改清单",
     "scope_label": "路北支行 · 2026年11月",          # also in the running page header
     "audience": "outlet" | "reviewer",
     "generated_at": "2026-11-28 10:30",
     "period_label": "2026-11-01 至 2026-11-30",     # may be None (one inspection)
     "campaign_label": None | "……专项检查",
     "summary": {"total": 20, "open": 5, "submitted": 3, "accepted": 2, "closed": 10,
                 "overdue": 4, "late": 1, "cancelled": 1},  # total and closed without the
                                                           # cancelled (withdrawn) ones
     "outlets": [{"code": "TS-LB-01", "name": "路北支行营业室", "subbranch": "路北支行",
                  "items": [ITEM, …]},               # sorted by deadline by the caller
                 …],
     "earlier": {"total": 2, "overdue": 1,          # optional (a sub-branch's period list):
                 "items": [{"number": 1, "outlet": "…", "outlet_code": "TS-LB-01",
                            "item_code": "ENV-03", "item_text": "…", "severity": "较重",
                            "mode": "抽查", "found_month": "2026-10",
                            "deadline": "2026-10-20", "state": "待整改", "overdue": True,
                            "responsible": "张三"}, …]},  # found earlier, still owed,
                                                           # overdue first; with it the summary
                                                           # has "earlier", "earlier_overdue"
     "signature": True}                              # prints 整改责任人 / 复核人 / 日期 lines

``inspection_report.html`` — 检查报告::

    {"title": "检查报告",
     "audience": "outlet" | "reviewer",
     "outlet": {"code": "TS-LB-01", "name": "路北支行营业室", "subbranch": "路北支行"},
     "mode": "抽查",
     "date": "2026-11-20",
     "inspector": "李四" | "神秘人",
     "checklist": {"name": "客户满意银行网点服务检查表", "version": 3},
     "score": {"total": 86.5, "grade": "良好",
               "red_line_failed": False, "red_line_note": None | "……",
               "sections": [{"code": "ENV", "name": "网点颜值靓化",
                             "earned": 18.0, "possible": 20.0, "percent": 90.0}, …]},
     "findings": [ITEM, …],                          # ITEM with "fixed_on_spot"
     "generated_at": "2026-11-28 10:30",              # optional
     "signature": False,                             # optional
     "visit": None | {                               # optional; printed on reviewer copies
         "scenario": "办理借记卡挂失",                  # only (a mystery visit's record, for
         "day": "2026-11-20",                         # those who may know the shopper)
         "events": [{"label": "取号", "time": "09:31:05",
                     "since_previous": 1.1, "since_arrival": 1.1}, …]}}  # minutes or None
"""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
import mimetypes
import re
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname
from xml.etree import ElementTree

import cssselect2
import jinja2
import markupsafe
from PIL import ImageFile
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

import inspect_app

from ..api.fields import CONTROL_CHARACTERS
from ..i18n import score_text

# WeasyPrint turns on Pillow's LOAD_TRUNCATED_IMAGES for the whole process when imported. Photo
# intake relies on Pillow refusing truncated files, and only our own thumbnails reach a PDF, so
# put the safe default back.
ImageFile.LOAD_TRUNCATED_IMAGES = False

__all__ = [
    "AUDIENCES",
    "EVIDENCE_SCHEME",
    "EvidenceURLFetcher",
    "FetchImage",
    "ResourceRefused",
    "evidence_url",
    "harfbuzz_subsetter_available",
    "html_to_pdf",
    "render_html",
    "render_pdf",
    "warm_up",
]

log = logging.getLogger(__name__)

ROOT = Path(inspect_app.__file__).resolve().parent.parent
TEMPLATES_ROOT = ROOT / "templates"
STATIC_ROOT = ROOT / "static"
STYLESHEET = STATIC_ROOT / "pdf" / "pdf.css"
#: Our short user-agent stylesheet, used instead of WeasyPrint's HTML5 one (see :class:`_PDFHTML`).
UA_STYLESHEET = STATIC_ROOT / "pdf" / "ua.css"

#: URL scheme of photos in the printed HTML: ``evidence:<storage-key>``.
EVIDENCE_SCHEME = "evidence"
#: Who a copy is for; outlet copies hide reviewer-only facts.
AUDIENCES = frozenset({"outlet", "reviewer"})
#: Modes whose inspector is never named on an outlet copy.
MYSTERY_MODES = ("暗查", "暗访", "神秘人暗访", "mystery")

FetchImage = Callable[[str], bytes]

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9.+-]*):")
_SPACE_BETWEEN_TAGS = re.compile(r">\s+<")
_RENDER_LOCK = threading.RLock()
_MAGIC = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"),
          (b"GIF8", "image/gif"))


class ResourceRefused(ValueError):
    """A URL the PDF layer will not fetch (network, files outside ``static/``, unknown schemes).

    WeasyPrint catches it, logs it and leaves the resource out of the document.
    """


def evidence_url(key: str) -> str:
    """The URL a template uses for the photo stored under ``key``."""
    return f"{EVIDENCE_SCHEME}:{key}"


def _sniff(data: bytes) -> str:
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


class EvidenceURLFetcher(URLFetcher):
    """WeasyPrint URL fetcher that reads photos from storage and assets from ``static/`` only.

    WeasyPrint 70 calls ``fetch(url, headers)`` on a :class:`weasyprint.urls.URLFetcher` subclass
    and expects a :class:`weasyprint.urls.URLFetcherResponse`; anything raised (except
    ``FatalURLFetchingError``) makes WeasyPrint log the error and skip the resource.

    - ``evidence:<key>`` → ``fetch_image(key)`` (refused when ``fetch_image`` is ``None`` or the key
      itself looks like a URL);
    - ``file:`` URLs → read from disk only when the path resolves inside ``static/``;
    - anything else (``http:``, ``https:``, ``ftp:``, ``data:`` …) → :class:`ResourceRefused`.
      The base class's network handlers are never reached.
    """

    def __init__(self, fetch_image: FetchImage | None = None,
                 static_root: Path = STATIC_ROOT) -> None:
        super().__init__(allowed_protocols=(EVIDENCE_SCHEME, "file"), allow_redirects=False,
                         fail_on_errors=False)
        self._fetch_image = fetch_image
        self._static_root = static_root.resolve()

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> URLFetcherResponse:
        """Return the resource at ``url`` or raise :class:`ResourceRefused` / the storage error."""
        match = _SCHEME.match(url)
        scheme = match[1].lower() if match else ""
        if scheme == EVIDENCE_SCHEME:
            return self._fetch_evidence(url)
        if scheme == "file":
            return self._fetch_static(url)
        raise ResourceRefused(f"PDF rendering never fetches {scheme or 'relative'} URLs: {url!r}")

    def _fetch_evidence(self, url: str) -> URLFetcherResponse:
        key = url[len(EVIDENCE_SCHEME) + 1:]
        if self._fetch_image is None:
            raise ResourceRefused(f"no photo storage given for {url!r}")
        if not key or _SCHEME.match(key) or "//" in key:
            raise ResourceRefused(f"photo key looks like a URL: {key!r}")
        data = self._fetch_image(key)
        return URLFetcherResponse(url, bytes(data), {"Content-Type": _sniff(data)})

    def _fetch_static(self, url: str) -> URLFetcherResponse:
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise ResourceRefused(f"remote file URL refused: {url!r}")
        path = Path(url2pathname(parts.path)).resolve()
        if not path.is_relative_to(self._static_root) or not path.is_file():
            raise ResourceRefused(f"file outside static/ refused: {url!r}")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": mime})


def _sha_groups(value: Any, size: int = 16) -> list[str]:
    """Split a hex digest into groups (4 × 16 for SHA-256) so it wraps cleanly under a photo."""
    text = "" if value is None else str(value)
    return [text[i:i + size] for i in range(0, len(text), size)]


def _collapse_tag_space(value: Any) -> markupsafe.Markup:
    """Drop whitespace between two tags (``>  <``) of already-rendered, autoescaped markup.

    Used as ``{% filter collapse_tag_space %}`` around block-level markup (the findings table)
    where that whitespace means nothing, so WeasyPrint builds no whitespace-only text boxes.
    Text from the context cannot contain a bare ``<`` or ``>``: autoescaping turned them into
    ``&lt;`` / ``&gt;``, so only the template's own tags are touched.
    """
    return markupsafe.Markup(_SPACE_BETWEEN_TAGS.sub("><", str(value)))


def _printable(value: Any) -> Any:
    """Every printed value without control characters (e.g. a vertical tab pasted into a
    note): Pango would print them as nothing, but they left the PDF's whole text layer
    unreadable to text extraction, and they are not allowed in the XML the templates make."""
    if isinstance(value, str) and CONTROL_CHARACTERS.search(value):
        cleaned = CONTROL_CHARACTERS.sub("", value)
        return markupsafe.Markup(cleaned) if isinstance(value, markupsafe.Markup) else cleaned
    return value


@functools.cache
def _jinja_env() -> jinja2.Environment:
    env = jinja2.Environment(
        finalize=_printable,
        loader=jinja2.FileSystemLoader(str(TEMPLATES_ROOT)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters["sha_groups"] = _sha_groups
    env.filters["evidence_url"] = evidence_url
    env.filters["collapse_tag_space"] = _collapse_tag_space
    env.filters["score"] = score_text  # as the pages write scores: 100.00 beside 67.94
    env.globals["mystery_modes"] = MYSTERY_MODES
    return env


@functools.cache
def _font_config() -> FontConfiguration:
    # Loading fontconfig and the Pango font map costs tens of milliseconds and memory: once only.
    return FontConfiguration()


@functools.cache
def _stylesheet() -> CSS:
    # Parsed once; read through the same on-disk fetcher as every other asset.
    return CSS(url=STYLESHEET.as_uri(), url_fetcher=EvidenceURLFetcher(None),
               font_config=_font_config())


@functools.cache
def _ua_stylesheet() -> CSS:
    return CSS(url=UA_STYLESHEET.as_uri(), url_fetcher=EvidenceURLFetcher(None))


class _PDFHTML(HTML):
    """:class:`weasyprint.HTML` with our short user-agent stylesheet (``static/pdf/ua.css``).

    WeasyPrint's own user-agent sheet covers all of HTML5 (forms, lists, bidi, ruby …); every
    element is matched against its rules and every matched declaration enters the cascade. Our
    templates use some twenty elements, and ``ua.css`` styles just those (with WeasyPrint's
    values) and a few common others. ``HTML._ua_stylesheets`` is a private hook: present, with
    this meaning, in WeasyPrint since v43 (the ``forms`` argument since v53); it is not part of
    the documented API. Should a WeasyPrint upgrade drop or rename it, this override is simply
    never called and WeasyPrint uses its full sheet: the PDFs stay correct, only slower
    (``tests/reports/test_pdf_render.py`` checks the hook is still used).
    """

    def _ua_stylesheets(self, *args: Any, **kwargs: Any) -> list[CSS]:
        return [_ua_stylesheet()]

    @classmethod
    def from_tree(cls, root: ElementTree.Element, *, base_url: str,
                  url_fetcher: URLFetcher) -> _PDFHTML | None:
        """A document for an element tree parsed by us, or ``None`` if WeasyPrint's HTML object
        no longer looks as expected (the caller then lets WeasyPrint parse the string).

        WeasyPrint's own ``__init__`` runs on an empty document, so every attribute it sets
        exists; then the parsed tree replaces the empty one exactly as ``__init__`` installs it
        (``wrapper_element`` / ``etree_element``, WeasyPrint 53–70).
        """
        document = cls(string="<html></html>", base_url=base_url, url_fetcher=url_fetcher)
        if not (isinstance(getattr(document, "wrapper_element", None), cssselect2.ElementWrapper)
                and isinstance(getattr(document, "etree_element", None), ElementTree.Element)):
            return None
        document.wrapper_element = cssselect2.ElementWrapper.from_html_root(
            root, content_language=None)
        document.etree_element = document.wrapper_element.etree_element
        return document


def _xhtml_tree(html: str) -> ElementTree.Element | None:
    """Our templates' output parsed as XML by expat (C), or ``None`` if it is not well-formed.

    WeasyPrint parses HTML with tinyhtml5, a pure-Python HTML5 parser: ~25 ms of a 20-finding
    list, against ~1 ms for expat. The templates are therefore written in the XML-compatible
    subset of HTML (``<!DOCTYPE html>``, void elements closed ``<img …/>``, explicit ``<tbody>``,
    no HTML-only entities) and give the same element tree either way; the values they print are
    autoescaped, so a context can add text but no markup. Only our own templates' output is
    parsed this way (:func:`render_pdf`), never HTML handed to :func:`html_to_pdf`. Anything
    expat refuses (e.g. a control character in a note) falls back to WeasyPrint's parser.
    """
    try:
        return ElementTree.fromstring(html)
    except ElementTree.ParseError as error:
        log.debug("PDF HTML is not well-formed XML (%s); WeasyPrint parses it", error)
        return None


def warm_up() -> None:
    """Load the font configuration, the stylesheets and the templates now (e.g. when a worker
    starts), so the first PDF does not pay for them."""
    with _RENDER_LOCK:
        _stylesheet()
        _ua_stylesheet()
        env = _jinja_env()
        for name in ("rectification_list.html", "inspection_report.html"):
            env.get_template(f"pdf/{name}")


def harfbuzz_subsetter_available() -> bool:
    """Whether WeasyPrint will subset fonts with HarfBuzz (fast) rather than fontTools (slow)."""
    from weasyprint.text.ffi import harfbuzz, harfbuzz_subset

    return bool(harfbuzz_subset) and bool(harfbuzz.hb_version_atleast(4, 1, 0))


def render_html(template_name: str, context: Mapping[str, Any]) -> str:
    """Render ``templates/pdf/<template_name>`` with ``context`` (see the module docstring).

    Raises :class:`ValueError` when ``context["audience"]`` is not ``"outlet"`` or
    ``"reviewer"``: a copy whose audience is unknown must not be printed.
    """
    audience = context.get("audience")
    if audience not in AUDIENCES:
        raise ValueError(f"audience must be one of {sorted(AUDIENCES)}, not {audience!r}")
    template = _jinja_env().get_template(f"pdf/{template_name}")
    return template.render(**context)


@contextlib.contextmanager
def _cyclic_gc_paused():
    """Pause Python's cyclic garbage collector while WeasyPrint lays a document out.

    A layout allocates millions of small, long-lived objects (boxes, styles, lines); every
    collection of the older generations walks all of them again, which made a 200-finding list
    cost ~9× a 20-finding one instead of ~8× (measured with cProfile: the time showed up spread
    over Pango calls and style computation). Reference counting still frees almost everything;
    the few cycles left are collected by the next ordinary collection after the render.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def html_to_pdf(html: str, *, fetch_image: FetchImage | None) -> bytes:
    """Print HTML made by :func:`render_html` to PDF bytes with the shared stylesheet and fonts.

    ``evidence:<key>`` images are read with ``fetch_image(key)``; a key that cannot be read is
    logged by WeasyPrint and left out (its ``alt`` text is printed instead).
    """
    return _print(html, fetch_image=fetch_image, xhtml=False)


def _print(html: str, *, fetch_image: FetchImage | None, xhtml: bool) -> bytes:
    fetcher = EvidenceURLFetcher(fetch_image)
    base_url = STATIC_ROOT.as_uri() + "/"
    started = time.perf_counter()
    with _RENDER_LOCK, _cyclic_gc_paused():
        font_config = _font_config()
        tree = _xhtml_tree(html) if xhtml else None
        document = None
        if tree is not None:
            document = _PDFHTML.from_tree(tree, base_url=base_url, url_fetcher=fetcher)
        if document is None:
            document = _PDFHTML(string=html, base_url=base_url, url_fetcher=fetcher)
        pdf = document.write_pdf(stylesheets=[_stylesheet()], font_config=font_config,
                                 optimize_images=False, jpeg_quality=None)
    log.debug("rendered PDF: %d bytes in %.0f ms", len(pdf),
              (time.perf_counter() - started) * 1000)
    return pdf


def render_pdf(template_name: str, context: Mapping[str, Any], *,
               fetch_image: FetchImage | None) -> bytes:
    """Render ``templates/pdf/<template_name>`` with ``context`` and print it to PDF bytes.

    Works with or without a Flask application context. ``fetch_image(key)`` returns the bytes of
    the thumbnail stored under ``key`` (it may raise for a missing key: the photo is then left
    out, the PDF is still produced). See the module docstring for the context shapes.
    """
    return _print(render_html(template_name, context), fetch_image=fetch_image, xhtml=True)
