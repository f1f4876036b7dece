"""SVG charts drawn by the product: score trends, rankings, most-failed items, self vs independent.

Pure functions from plain data to an SVG string: no JavaScript, no web fonts, no CDN, so a chart
works offline once its page is loaded, prints into a PDF bulletin and scales to a phone's width
(every chart has a ``viewBox`` and ``max-width:100%``).

Accessibility: the root has ``role="img"`` and is labelled by its ``<title>`` and ``<desc>``; the
``<desc>`` states the data in sentences for screen readers. Series are told apart by more
than colour (dash patterns and marker shapes), legends are text, colours reach at least 3:1
against white. Every piece of text passes through :func:`xml.sax.saxutils.escape` after characters
XML cannot carry are dropped, so an outlet called ``<script>`` is just text. Output is
deterministic: the same data gives the same bytes (ids are derived from the content).

Language: titles, series and labels come from the caller; the words a chart adds itself (the
empty state, "no data", the legend's name, the sentences of the ``<desc>``) are a
:class:`ChartText`, Chinese unless the caller passes one in the reader's language
(``ChartText.translated(gettext)``).
"""
from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Final
from xml.sax.saxutils import escape

#: CJK-capable system fonts first on each platform, then generic.
FONT_FAMILY: Final = ("system-ui, -apple-system, 'PingFang SC', 'Hiragino Sans GB', "
                      "'Microsoft YaHei', 'Noto Sans CJK SC', 'Noto Sans SC', "
                      "'Source Han Sans SC', "
                      "'WenQuanYi Micro Hei', sans-serif")
#: Series colours, each ≥ 4.5:1 against white (Tailwind 700 shades), in a colour-blind-safe order.
PALETTE: Final = ("#1d4ed8", "#c2410c", "#047857", "#7e22ce", "#a16207", "#be185d", "#0e7490",
                  "#4d7c0f")
#: Stroke patterns that tell line series apart without colour.
DASHES: Final = ("", "6 3", "2 3", "8 3 2 3", "12 4", "4 4", "1 2", "10 2 2 2 2 2")
MARKERS: Final = ("circle", "square", "triangle", "diamond")
TEXT: Final = "#1f2937"
MUTED: Final = "#4b5563"
GRID: Final = "#d1d5db"
BAR: Final = "#1d4ed8"
HIGHLIGHT: Final = "#b91c1c"
#: A highlight that means "good" (标杆), never the red of "needs attention".
GOOD: Final = "#047857"


def N_(message: str) -> str:
    """Marks a message for the catalogue (``scripts/i18n.sh``) without importing Flask here."""
    return message


@dataclass(frozen=True, slots=True)
class ChartText:
    """The words a chart adds around the caller's data, as ``str.format`` templates.

    The defaults are Chinese (PDFs, and the catalogue's message ids); ``translated(gettext)``
    gives them in the reader's language."""

    empty: str = N_("暂无数据")
    no_value: str = N_("无数据")
    legend: str = N_("图例")
    value: str = N_("数值")
    attention: str = N_("重点关注")
    #: a value after its name: tooltips and the ``<desc>``
    labelled: str = N_("{label}：{text}")
    #: a remark after a text, e.g. a bar's note
    remark: str = N_("{text}（{note}）")
    #: between the items of a list, and between the groups of a sentence
    comma: str = N_("，")
    semicolon: str = N_("；")
    line_desc: str = N_("{title}。折线图，纵轴 {low} 至 {high}。{series}。")
    bands_desc: str = N_("参考线：{bands}。")
    bar_desc: str = N_("{title}。条形图，共 {n} 项：{bars}。")
    pair_desc: str = N_("{title}。{a}与{b}对比，共 {n} 项：{rows}。")
    pair_values: str = N_("{a} {a_value}，{b} {b_value}")
    pair_gap: str = N_("，相差 {gap}")
    pair_flagged: str = N_("偏高")
    pair_legend: str = N_("▲ {a}高出{b}超过 {gap} 分")
    pair_legend_own: str = N_("▲ {a}高出{b}超过所在分行规定的分差")

    @classmethod
    def translated(cls, translate: Callable[[str], str]) -> ChartText:
        """Every word passed through ``translate`` (e.g. flask-babel's ``gettext``)."""
        default = cls()
        return cls(**{f.name: translate(getattr(default, f.name)) for f in fields(cls)})


CHINESE: Final = ChartText()
EMPTY_TEXT: Final = CHINESE.empty

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class Series:
    """One line: a name and ``(label, value)`` points; a None value is a gap."""

    name: str
    points: Sequence[tuple[str, float | None]]


@dataclass(frozen=True, slots=True)
class Band:
    """A horizontal reference line, e.g. ``Band(80, "良好")`` for a grade boundary."""

    value: float
    label: str = ""


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar: ``highlight`` marks it (e.g. watch-listed); ``note`` is shown after the value;
    ``href`` makes the bar and its label a link (e.g. to the unit's trend)."""

    label: str
    value: float | None
    highlight: bool = False
    note: str | None = None
    href: str | None = None


@dataclass(frozen=True, slots=True)
class PairRow:
    """Two values for one label, e.g. an outlet's self-check (a) and independent (b) means."""

    label: str
    a: float | None
    b: float | None
    #: the gap over which this row is flagged, when it has its own (its branch's rules')
    gap_threshold: float | None = None


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _clean(text: object) -> str:
    """Text XML can carry: characters illegal in XML 1.0 are dropped."""
    return _NOT_XML.sub("", str(text))


def _t(text: object) -> str:
    """Escaped element text."""
    return escape(_clean(text))


def _a(text: object) -> str:
    """Escaped attribute value (for double quotes)."""
    return escape(_clean(text), {'"': "&quot;", "\n": "&#10;", "\t": "&#9;", "\r": "&#13;"})


def _n(x: float) -> str:
    """A coordinate with at most one decimal and no trailing zero."""
    text = f"{x:.1f}"
    text = text[:-2] if text.endswith(".0") else text
    return "0" if text == "-0" else text


def _finite(value: float | None) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _fmt(value: float | None, value_format: str, words: ChartText = CHINESE) -> str:
    value = _finite(value)
    if value is None:
        return words.no_value
    try:
        return value_format.format(value)
    except (ValueError, IndexError, KeyError):
        return f"{value:.1f}"


def text_width(text: str, size: float) -> float:
    """Approximate rendered width: CJK and full-width characters are 1 em, others about 0.6 em."""
    width = 0.0
    for ch in text:
        code = ord(ch)
        wide = code >= 0x1100 and (
            code <= 0x115F or 0x2E80 <= code <= 0xA4CF or 0xAC00 <= code <= 0xD7A3
            or 0xF900 <= code <= 0xFAFF or 0xFE30 <= code <= 0xFE4F
            or 0xFF00 <= code <= 0xFF60 or 0xFFE0 <= code <= 0xFFE6 or code >= 0x20000)
        width += size if wide else size * 0.6
    return width


def truncate(text: str, max_width: float, size: float) -> str:
    """``text`` shortened with "…" so that it fits ``max_width`` at font ``size``."""
    text = _clean(text)
    if text_width(text, size) <= max_width:
        return text
    room = max_width - text_width("…", size)
    out = ""
    for ch in text:
        if text_width(out + ch, size) > room:
            break
        out += ch
    return out + "…"


def wrap(text: str, max_width: float, size: float) -> list[str]:
    """``text`` broken into lines that each fit ``max_width`` at font ``size`` — whole, never
    cut: a line breaks after a space where there is one near the end, else between any two
    characters (Chinese has no spaces)."""
    text = _clean(text).strip()
    lines: list[str] = []
    line = ""
    for ch in text:
        if line and text_width(line + ch, size) > max_width:
            space = line.rfind(" ")
            if space > len(line) // 2:  # a Latin word stays whole
                lines.append(line[:space])
                line = line[space + 1:]
            else:
                lines.append(line)
                line = ""
            if ch == " " and not line:
                continue
        line += ch
    return [*lines, line] if line or not lines else lines


def _linked(href: str | None, body: str) -> str:
    """``body`` inside a link to ``href`` (SVG 2 ``<a href>``), or as it is without one."""
    return f'<a href="{_a(href)}" class="link">{body}</a>' if href else body


def _chart_id(kind: str, *parts: object) -> str:
    digest = hashlib.sha1(repr((kind, parts)).encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"chart-{digest}"


def _svg(chart_id: str, width: float, height: float, title: str, desc: str,
         body: Iterable[str]) -> str:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_n(width)} {_n(height)}" '
            f'width="{_n(width)}" height="{_n(height)}" class="chart" '
            f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
            f'font-family="{_a(FONT_FAMILY)}" font-size="12" fill="{TEXT}">')
    return "\n".join([head, f'<title id="{chart_id}-title">{_t(title)}</title>',
                      f'<desc id="{chart_id}-desc">{_t(desc)}</desc>',
                      f'<rect width="{_n(width)}" height="{_n(height)}" fill="#ffffff"/>',
                      *body, "</svg>"]) + "\n"


def _title_text(title: str, width: float) -> str:
    return (f'<text x="8" y="18" font-size="14" font-weight="bold">'
            f'{_t(truncate(title, width - 16, 14))}</text>')


def _empty(kind: str, title: str, width: float, height: float, chart_id: str | None,
           words: ChartText = CHINESE) -> str:
    chart_id = chart_id or _chart_id(kind, title, width, height)
    desc = words.labelled.format(label=title, text=words.empty) if title else words.empty
    return _svg(chart_id, width, height, title or words.empty, desc, [
        _title_text(title, width) if title else "",
        f'<text x="{_n(width / 2)}" y="{_n(height / 2)}" text-anchor="middle" font-size="14" '
        f'fill="{MUTED}">{_t(words.empty)}</text>'])


def _legend(items: Sequence[tuple[str, str]], x0: float, y0: float, width: float,
            swatch: str = "rect", words: ChartText = CHINESE) -> tuple[list[str], float]:
    """Legend entries ``(colour, name)`` laid out in wrapping rows; returns the SVG and height.

    ``swatch`` "line" draws the series' dash pattern and marker instead of a square.
    """
    out = [f'<g class="legend" role="list" aria-label="{_a(words.legend)}">']
    x, y, size = x0, y0, 12
    for index, (colour, name) in enumerate(items):
        label = truncate(name, width - 36, size)  # a long entry takes a row of its own
        item_width = 22 + text_width(label, size) + 14
        if x > x0 and x + item_width > x0 + width:
            x, y = x0, y + 18
        out.append(f'<g role="listitem"><title>{_t(name)}</title>')
        if swatch == "line":
            out.append(f'<line x1="{_n(x)}" y1="{_n(y)}" x2="{_n(x + 18)}" y2="{_n(y)}" '
                       f'stroke="{colour}" stroke-width="2"{_dash(index)}/>')
            out.append(_marker(index, x + 9, y, colour))
        else:
            out.append(f'<rect x="{_n(x)}" y="{_n(y - 6)}" width="14" height="12" '
                       f'fill="{colour}"/>')
        out.append(f'<text x="{_n(x + 22)}" y="{_n(y + 4)}">{_t(label)}</text></g>')
        x += item_width
    out.append("</g>")
    return out, (y - y0) + 18


def _dash(index: int) -> str:
    pattern = DASHES[index % len(DASHES)]
    return f' stroke-dasharray="{pattern}"' if pattern else ""


def _marker(index: int, x: float, y: float, colour: str) -> str:
    shape = MARKERS[index % len(MARKERS)]
    if shape == "circle":
        return f'<circle cx="{_n(x)}" cy="{_n(y)}" r="3" fill="{colour}"/>'
    if shape == "square":
        return (f'<rect x="{_n(x - 3)}" y="{_n(y - 3)}" width="6" height="6" '
                f'fill="{colour}"/>')
    if shape == "triangle":
        return (f'<path d="M{_n(x)} {_n(y - 3.5)}L{_n(x + 3.5)} {_n(y + 3)}'
                f'L{_n(x - 3.5)} {_n(y + 3)}Z" fill="{colour}"/>')
    return (f'<path d="M{_n(x)} {_n(y - 4)}L{_n(x + 4)} {_n(y)}L{_n(x)} {_n(y + 4)}'
            f'L{_n(x - 4)} {_n(y)}Z" fill="{colour}"/>')


# --------------------------------------------------------------------------------------------
# Line chart
# --------------------------------------------------------------------------------------------


def line_chart(series: Sequence[Series], *, title: str, y_min: float = 0, y_max: float = 100,
               width: int = 360, height: int = 220,
               bands: Sequence[Band | tuple[float, str]] | None = None,
               value_format: str = "{:.1f}", chart_id: str | None = None,
               words: ChartText = CHINESE, ticks: Mapping[str, str] | None = None,
               tick_groups: Mapping[str, str] | None = None) -> str:
    """A trend chart (e.g. monthly scores of an outlet): one line per series, gaps where a value
    is None, optional horizontal ``bands`` (e.g. grade lines at 60/80/90), labelled in a margin
    right of the plot, clear of the lines.

    The x axis is the labels in order of first appearance across the series; values outside
    ``y_min``–``y_max`` are drawn at the edge (the ``<desc>`` gives the true value). ``ticks``
    gives a shorter text to write under a label on the axis (``"1月"`` for ``"2026年1月"``,
    which the ``<desc>`` keeps), and ``tick_groups`` a second line under some labels, always
    written (the year under the first month and under each January).
    """
    bands_ = [b if isinstance(b, Band) else Band(*b) for b in (bands or ())]
    labels: list[str] = []
    for s in series:
        for label, _ in s.points:
            if str(label) not in labels:
                labels.append(str(label))
    has_values = any(_finite(v) is not None for s in series for _, v in s.points)
    if not labels or not has_values:
        return _empty("line", title, width, height, chart_id, words)
    if not y_max > y_min:
        y_min, y_max = (y_min, y_min + 1)
    ticks, tick_groups = dict(ticks or {}), dict(tick_groups or {})
    chart_id = chart_id or _chart_id(
        "line", title, [(s.name, list(s.points)) for s in series], y_min, y_max, width, height,
        bands_, value_format, sorted(ticks.items()), sorted(tick_groups.items()))

    legend, legend_h = _legend([(PALETTE[i % len(PALETTE)], s.name) for i, s in enumerate(series)],
                               8, 36, width - 16, swatch="line", words=words)
    shown_bands = [b for b in bands_ if _finite(b.value) is not None and y_min <= b.value <= y_max]
    margin = max((text_width(_clean(b.label), 10) for b in shown_bands), default=0)
    axis_h = 30.0 + (13 if tick_groups else 0)
    if tick_groups:
        height += 13
    left, right = 34.0, width - 12.0 - (margin + 4 if margin else 0)
    top, bottom = 36 + legend_h + 6, height - axis_h
    if bottom - top < 40:  # many series: keep a usable plot by growing the chart
        height = int(top + 40 + axis_h)
        bottom = height - axis_h

    def y_of(value: float) -> float:
        value = min(max(value, y_min), y_max)
        return bottom - (value - y_min) / (y_max - y_min) * (bottom - top)

    step = (right - left) / max(len(labels) - 1, 1)
    x_of = {label: (left + i * step if len(labels) > 1 else (left + right) / 2)
            for i, label in enumerate(labels)}

    body = [_title_text(title, width), *legend, '<g class="axes" aria-hidden="true">']
    for i in range(5):
        value = y_min + (y_max - y_min) * i / 4
        y = y_of(value)
        body.append(f'<line x1="{_n(left)}" y1="{_n(y)}" x2="{_n(right)}" y2="{_n(y)}" '
                    f'stroke="{GRID}" stroke-width="1"/>')
        body.append(f'<text x="{_n(left - 4)}" y="{_n(y + 4)}" text-anchor="end" font-size="10" '
                    f'fill="{MUTED}">{_t(_n(value))}</text>')
    def tick(label: str) -> str:
        return ticks.get(label, label)

    widest = max(text_width(tick(label), 10) for label in labels)
    every = max(1, math.ceil((widest + 6) / step)) if len(labels) > 1 else 1
    room = max(step * every, 30)

    def placed(x: float, text: str) -> tuple[float, str, float]:
        """``(x, anchor, left edge)`` of ``text`` centred under ``x``, unless that would run
        off either edge of the chart."""
        size = text_width(text, 10)
        if x + size / 2 > width - 2:
            return width - 2, "end", width - 2 - size
        if x - size / 2 < 2:
            return 2, "start", 2
        return x, "middle", x - size / 2

    last = len(labels) - 1
    for i, label in enumerate(labels):
        if (last - i) % every:
            continue  # every ``every``-th label counted back from the last: evenly spaced
        shown = truncate(tick(label), room, 10)
        x, anchor, _ = placed(x_of[label], shown)
        body.append(f'<text x="{_n(x)}" y="{_n(bottom + 16)}" text-anchor="{anchor}" '
                    f'font-size="10" fill="{MUTED}">{_t(shown)}</text>')
    groups = [(placed(x_of[label], text), text) for label in labels
              for text in [_clean(tick_groups.get(label) or "")] if text]
    for index, ((x, anchor, edge), text) in enumerate(groups):
        following = groups[index + 1][0][2] if index + 1 < len(groups) else math.inf
        if edge + text_width(text, 10) + 4 > following:
            continue  # too close to the next group (a first December before a January)
        body.append(f'<text x="{_n(x)}" y="{_n(bottom + 29)}" text-anchor="{anchor}" '
                    f'font-size="10" fill="{MUTED}" class="tick-group">{_t(text)}</text>')
    body.append("</g>")
    label_y = math.inf  # band labels, lowest value first, each at least a line above the last
    for band in sorted(shown_bands, key=lambda b: b.value):
        y = y_of(band.value)
        label_y = min(y + 3.5, label_y - 11)
        body.append(f'<g class="band"><line x1="{_n(left)}" y1="{_n(y)}" x2="{_n(right)}" '
                    f'y2="{_n(y)}" stroke="{MUTED}" stroke-width="1" stroke-dasharray="4 3"/>'
                    f'<text x="{_n(right + 4)}" y="{_n(label_y)}" font-size="10" '
                    f'fill="{MUTED}">{_t(band.label)}</text></g>')

    descs = []
    for index, s in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        values = {str(label): _finite(v) for label, v in s.points}
        segments: list[list[tuple[float, float]]] = [[]]
        for label in labels:
            value = values.get(label)
            if value is None:
                if segments[-1]:
                    segments.append([])
                continue
            segments[-1].append((x_of[label], y_of(value)))
        path = "".join("M" + "L".join(f"{_n(x)} {_n(y)}" for x, y in seg)
                       for seg in segments if len(seg) > 1)
        body.append(f'<g class="series"><title>{_t(s.name)}</title>')
        if path:
            body.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2" '
                        f'stroke-linejoin="round"{_dash(index)}/>')
        for seg in segments:
            for x, y in seg:
                body.append(_marker(index, x, y, colour))
        body.append("</g>")
        shown = words.comma.join(f"{label} {_fmt(v, value_format, words)}"
                                 for label, v in s.points)
        descs.append(words.labelled.format(label=s.name, text=shown or words.empty))
    desc = words.line_desc.format(title=title, low=_n(y_min), high=_n(y_max),
                                  series=words.semicolon.join(descs))
    if bands_:
        desc += words.bands_desc.format(bands=words.comma.join(
            f"{b.label} {_n(b.value)}" for b in bands_))
    return _svg(chart_id, width, height, title, desc, body)


# --------------------------------------------------------------------------------------------
# Bar charts
# --------------------------------------------------------------------------------------------


def bar_chart(bars: Sequence[Bar], *, title: str, max_value: float | None = None,
              horizontal: bool = True, width: int = 360, value_format: str = "{:.1f}",
              highlight_label: str | None = None, chart_id: str | None = None,
              words: ChartText = CHINESE, value_label: str | None = None,
              highlight_colour: str = HIGHLIGHT, highlight_mark: str = "★",
              wrap_labels: bool = False) -> str:
    """A bar chart for rankings and most-failed items, in the given order.

    ``value_label`` names what the bars measure in the legend (综合得分, 失分次数); by
    default the words' ``value``.

    Horizontal bars (the default) suit long Chinese labels: a label too long for its column ends
    in "…" and the full label is in the bar's ``<title>`` (a tooltip). With ``wrap_labels``
    each label is written whole instead, over as many lines as it needs, above its bar across
    the chart's width: a phone cannot hover for a tooltip, so long texts (checklist items)
    stay readable. The value and its note always fit after the longest bar. A bar with an
    ``href`` is a link, label and bar alike. Highlighted bars get a
    different colour (``highlight_colour``: red by default, :data:`GOOD` for a good mark), a
    mark (``highlight_mark``, "★") and a legend entry (``highlight_label``, by default the
    words' ``attention``). ``max_value`` defaults to the largest value.
    """
    if highlight_label is None:
        highlight_label = words.attention
    if not bars:
        return _empty("bar", title, width, 120, chart_id, words)
    values = [_finite(b.value) for b in bars]
    top_value = _finite(max_value) or max((v for v in values if v is not None), default=0) or 1
    chart_id = chart_id or _chart_id("bar", title, list(bars), max_value, horizontal, width,
                                     value_format, highlight_label, value_label,
                                     highlight_colour, highlight_mark, wrap_labels)
    legend_items = [(BAR, value_label or words.value)] + (
        [(highlight_colour, f"{highlight_mark} {highlight_label}")]
        if any(b.highlight for b in bars) else [])
    legend, legend_h = _legend(legend_items, 8, 36, width - 16, words=words)
    top = 36 + legend_h + 4
    body = [_title_text(title, width), *legend]
    descs = []
    for bar, value in zip(bars, values):
        text = f"{bar.label} {_fmt(value, value_format, words)}"
        if bar.note:
            text = words.remark.format(text=text, note=bar.note)
        if bar.highlight:
            text = words.remark.format(text=text, note=highlight_label)
        descs.append(text)

    def tooltip_of(bar: Bar, value: float | None) -> str:
        tooltip = words.labelled.format(label=bar.label, text=_fmt(value, value_format, words))
        return words.remark.format(text=tooltip, note=bar.note) if bar.note else tooltip

    if horizontal:
        # the value (and its note) after the longest bar, whole: "100.00 标杆" is never cut
        tail = max(text_width(_fmt(v, value_format, words) + (f" {b.note}" if b.note else ""),
                              11) for b, v in zip(bars, values)) + 10
        label_w = 0.0 if wrap_labels else min(width * 0.38, 150)
        bar_x = 8 + label_w + (0 if wrap_labels else 6)
        bar_room = max(width - bar_x - max(tail, 40), 40)
        y = top
        for bar, value in zip(bars, values):
            colour = highlight_colour if bar.highlight else BAR
            length = 0 if value is None else max(0.0, min(value, top_value)) / top_value * bar_room
            label = (highlight_mark if bar.highlight else "") + bar.label
            tooltip = tooltip_of(bar, value)
            weight = f' font-weight="bold" fill="{highlight_colour}"' if bar.highlight else ""
            note = f" {bar.note}" if bar.note else ""
            if wrap_labels:
                lines = wrap(label, width - 16, 12)
                text = "".join(
                    f'<text x="8" y="{_n(y + 13 + 15 * index)}"{weight}>{_t(line)}</text>'
                    for index, line in enumerate(lines))
                y += 15 * len(lines)
            else:
                text = (f'<text x="{_n(8 + label_w)}" y="{_n(y + 15)}" text-anchor="end"'
                        f'{weight}>{_t(truncate(label, label_w, 12))}</text>')
            body.append(
                f'<g class="bar"><title>{_t(tooltip)}</title>'
                + _linked(bar.href, text
                          + f'<rect x="{_n(bar_x)}" y="{_n(y + 5)}" width="{_n(length)}" '
                            f'height="14" fill="{colour}"/>')
                + f'<text x="{_n(bar_x + length + 4)}" y="{_n(y + 16)}" font-size="11">'
                f'{_t(_fmt(value, value_format, words) + note)}</text></g>')
            y += 30 if wrap_labels else 26
        height = y + 8
    else:
        plot_h, slot = 150.0, (width - 16) / len(bars)
        base = top + 14 + plot_h
        height = base + 34
        for index, (bar, value) in enumerate(zip(bars, values)):
            x = 8 + index * slot
            colour = highlight_colour if bar.highlight else BAR
            length = 0 if value is None else max(0.0, min(value, top_value)) / top_value * plot_h
            tooltip = tooltip_of(bar, value)
            label = (highlight_mark if bar.highlight else "") + bar.label
            body.append(
                f'<g class="bar"><title>{_t(tooltip)}</title>'
                + _linked(bar.href,
                          f'<rect x="{_n(x + slot * 0.15)}" y="{_n(base - length)}" '
                          f'width="{_n(slot * 0.7)}" height="{_n(length)}" fill="{colour}"/>'
                          f'<text x="{_n(x + slot / 2)}" y="{_n(base + 14)}" '
                          f'text-anchor="middle" font-size="10">'
                          f'{_t(truncate(label, slot - 2, 10))}</text>')
                + f'<text x="{_n(x + slot / 2)}" y="{_n(base - length - 3)}" '
                f'text-anchor="middle" font-size="10">'
                f'{_t(truncate(_fmt(value, value_format, words), slot, 10))}</text></g>')
    desc = words.bar_desc.format(title=title, n=len(bars), bars=words.semicolon.join(descs))
    return _svg(chart_id, width, height, title, desc, body)


def paired_bar_chart(rows: Sequence[PairRow], *, title: str, a_label: str = "自查",
                     b_label: str = "独立检查", max_value: float = 100, width: int = 360,
                     value_format: str = "{:.1f}", gap_threshold: float | None = None,
                     chart_id: str | None = None, words: ChartText = CHINESE) -> str:
    """Two bars per label (the inflation view: self-check ``a`` vs independent ``b``).

    With ``gap_threshold``, rows where ``a`` exceeds ``b`` by more than it get a "▲" and are
    named in the ``<desc>``; a row with a threshold of its own is flagged by that one (rows of
    several branches, each with its rules), and the legend then says so without a figure.
    """
    if not rows:
        return _empty("paired", title, width, 120, chart_id, words)
    top_value = _finite(max_value) or 100
    chart_id = chart_id or _chart_id("paired", title, list(rows), a_label, b_label, max_value,
                                     width, value_format, gap_threshold)
    colour_a, colour_b = PALETTE[1], PALETTE[0]
    legend_items = [(colour_a, a_label), (colour_b, b_label)]
    thresholds = {gap_threshold if row.gap_threshold is None else row.gap_threshold
                  for row in rows} - {None}
    if len(thresholds) > 1:
        legend_items.append((HIGHLIGHT, words.pair_legend_own.format(a=a_label, b=b_label)))
    elif thresholds:
        legend_items.append((HIGHLIGHT, words.pair_legend.format(
            a=a_label, b=b_label, gap=_n(next(iter(thresholds))))))
    legend, legend_h = _legend(legend_items, 8, 36, width - 16, words=words)
    top = 36 + legend_h + 4
    row_h, label_w = 38, min(width * 0.34, 130)
    bar_x = 8 + label_w + 6
    bar_room = width - bar_x - 48
    height = top + row_h * len(rows) + 8
    body = [_title_text(title, width), *legend]
    descs = []
    for index, row in enumerate(rows):
        y = top + index * row_h
        a, b = _finite(row.a), _finite(row.b)
        threshold = gap_threshold if row.gap_threshold is None else row.gap_threshold
        flagged = (threshold is not None and a is not None and b is not None
                   and a - b > threshold)
        label = ("▲" if flagged else "") + row.label
        gap = (words.pair_gap.format(gap=_fmt(a - b, value_format, words))
               if a is not None and b is not None else "")
        text = words.labelled.format(label=row.label, text=words.pair_values.format(
            a=a_label, a_value=_fmt(a, value_format, words), b=b_label,
            b_value=_fmt(b, value_format, words)) + gap)
        descs.append(words.remark.format(text=text, note=words.pair_flagged) if flagged else text)
        style = f' font-weight="bold" fill="{HIGHLIGHT}"' if flagged else ""
        parts = [f'<g class="pair"><title>{_t(text)}</title>',
                 f'<text x="{_n(8 + label_w)}" y="{_n(y + 19)}" text-anchor="end"{style}>'
                 f'{_t(truncate(label, label_w, 12))}</text>']
        for offset, value, colour in ((4, a, colour_a), (19, b, colour_b)):
            length = 0 if value is None else max(0.0, min(value, top_value)) / top_value * bar_room
            parts.append(f'<rect x="{_n(bar_x)}" y="{_n(y + offset)}" width="{_n(length)}" '
                         f'height="13" fill="{colour}"/>')
            parts.append(f'<text x="{_n(bar_x + length + 3)}" y="{_n(y + offset + 11)}" '
                         f'font-size="10">{_t(_fmt(value, value_format, words))}</text>')
        parts.append("</g>")
        body.append("".join(parts))
    desc = words.pair_desc.format(title=title, a=a_label, b=b_label, n=len(rows),
                                  rows=words.semicolon.join(descs))
    return _svg(chart_id, width, height, title, desc, body)
