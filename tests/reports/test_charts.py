"""SVG charts: valid XML, escaped labels, accessible structure, gaps, empty data, determinism."""
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspect_app.reports.charts import (
    Band,
    Bar,
    PairRow,
    Series,
    bar_chart,
    line_chart,
    paired_bar_chart,
    text_width,
    truncate,
)

#: Small, fast and reproducible: no example database written into the repository.
fast = settings(max_examples=60, deadline=None, database=None)

NS = "{http://www.w3.org/2000/svg}"
EVIL = '<script>alert("x")</script>&"\''

MONTHS = [f"{m}月" for m in range(1, 7)]


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    return root


def texts(root: ET.Element) -> list[str]:
    return ["".join(el.itertext()) for el in root.iter(f"{NS}text")]


def sample_charts(label: str = "唐山分行营业部") -> list[str]:
    return [
        line_chart([Series(label, list(zip(MONTHS, [80, None, 72.5, 90, None, 85]))),
                    Series("支行平均", list(zip(MONTHS, [75, 76, 77, 78, 79, 80])))],
                   title=f"{label}得分趋势", bands=[Band(60, "合格"), (80, "良好"), (90, "优秀")]),
        bar_chart([Bar(label, 92.5, note="标杆"), Bar("新华道网点", 40, True, "名单")],
                  title=f"{label}排名"),
        bar_chart([Bar(label, 12), Bar("叫号机", 3, True)], title="高频问题", horizontal=False),
        paired_bar_chart([PairRow(label, 95, 70), PairRow("乙", None, 80)], title=label,
                         gap_threshold=15),
    ]


@pytest.mark.parametrize("index", range(4))
def test_every_chart_is_accessible_valid_svg(index):
    """Does each chart parse as XML with role="img", a title and desc it is labelled by, a
    viewBox, a CJK font stack and a legend?"""
    svg = sample_charts()[index]
    root = parse(svg)
    assert root.get("role") == "img"
    assert root.get("viewBox").startswith("0 0 ")
    # scaled by the stylesheet (svg.chart), not an inline style the CSP would block
    assert root.get("class") == "chart" and root.get("style") is None
    fonts = root.get("font-family")
    assert "PingFang SC" in fonts and "Noto Sans CJK SC" in fonts
    title, desc = root.find(f"{NS}title"), root.find(f"{NS}desc")
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert "唐山分行营业部" in desc.text
    assert root.find(f".//{NS}g[@class='legend']") is not None
    assert "<script" not in svg


def test_labels_are_escaped_never_markup():
    """Does a label full of markup appear only as escaped text, in every chart?"""
    for svg in sample_charts(EVIL):
        root = parse(svg)
        assert "<script>" not in svg
        assert "&lt;script&gt;" in svg
        assert not list(root.iter(f"{NS}script")) and not list(root.iter("script"))
        assert EVIL in root.find(f"{NS}desc").text


@fast
@given(st.text(max_size=30))
def test_any_label_gives_valid_xml(label):
    """Do control characters, surrogates and quotes in labels never break the XML?"""
    for svg in sample_charts(label):
        parse(svg)


def test_line_chart_draws_gaps_for_missing_values():
    """Does a None split the line into separate segments, with no marker at the gap?"""
    root = parse(line_chart([Series("甲", list(zip(MONTHS, [80, 82, None, 90, 91, None])))],
                            title="趋势"))
    series = root.find(f".//{NS}g[@class='series']")
    path = series.find(f"{NS}path").get("d")
    assert path.count("M") == 2
    assert len(series.findall(f"{NS}circle")) == 4
    assert "3月 无数据" in root.find(f"{NS}desc").text


def test_a_trends_last_month_and_grade_labels_stay_legible_on_a_phone():
    """Twelve months with three series (a two-line legend on a phone): does the last month's
    label ("26-11") end inside the chart rather than run off its edge, and do the grade labels
    (合格 60, 良好 80, 优秀 90) keep a line apart instead of overlapping, in a margin right of
    the plot where no line of scores runs through them?"""
    months = [f"{25 + (m > 12)}-{(m - 1) % 12 + 1:02d}" for m in range(12, 24)]
    series = [Series(name, [(month, 90.0) for month in months])
              for name in ("综合得分", "独立检查", "自查")]
    root = parse(line_chart(series, title="近 12 个月趋势",
                            bands=[(60, "合格"), (80, "良好"), (90, "优秀")]))
    width = float(root.get("width"))
    last = next(t for t in root.iter(f"{NS}text") if t.text == months[-1])
    reach = {"end": 0, "middle": 0.5, "start": 1}[last.get("text-anchor")]
    assert float(last.get("x")) + reach * text_width(last.text, 10) <= width
    bands = [g for g in root.iter(f"{NS}g") if g.get("class") == "band"]
    band_ys = sorted(float(g.find(f"{NS}text").get("y")) for g in bands)
    assert len(band_ys) == 3
    assert all(lower - upper >= 11 for upper, lower in zip(band_ys, band_ys[1:]))
    plot_right = max(float(marker.get("cx")) for marker in root.iter(f"{NS}circle"))
    for band in bands:
        label, line = band.find(f"{NS}text"), band.find(f"{NS}line")
        assert float(label.get("x")) > float(line.get("x2")) >= plot_right
        assert float(label.get("x")) + text_width(label.text, 10) <= width


def test_a_trends_month_labels_are_evenly_spaced():
    """Twelve months on a phone, too many to label each: are the labels shown evenly spaced,
    ending on the last month, so no gap between two labels is wider than the others?"""
    months = [f"{25 + (m > 12)}-{(m - 1) % 12 + 1:02d}" for m in range(12, 24)]
    root = parse(line_chart([Series("综合得分", [(month, 80.0) for month in months])],
                            title="近 12 个月趋势"))
    shown = [t.text for t in root.iter(f"{NS}text") if t.text in months]
    positions = [months.index(label) for label in shown]
    assert 2 <= len(shown) < len(months) and positions[-1] == len(months) - 1
    assert len({b - a for a, b in zip(positions, positions[1:])}) == 1, shown


def test_isolated_point_still_shows_as_a_marker():
    """Is a value between two gaps visible (a marker, no line)?"""
    root = parse(line_chart([Series("甲", [("1月", None), ("2月", 70), ("3月", None)])], title="t"))
    series = root.find(f".//{NS}g[@class='series']")
    assert series.find(f"{NS}path") is None
    assert len(series.findall(f"{NS}circle")) == 1


def test_bands_are_drawn_and_described():
    """Are grade lines drawn with their labels and stated in the desc?"""
    root = parse(sample_charts()[0])
    assert len(root.findall(f".//{NS}g[@class='band']")) == 3
    assert {"合格", "良好", "优秀"} <= set(texts(root))
    assert "参考线：合格 60，良好 80，优秀 90" in root.find(f"{NS}desc").text


@pytest.mark.parametrize("svg", [
    line_chart([], title="趋势"),
    line_chart([Series("甲", [("1月", None)])], title="趋势"),
    bar_chart([], title="排名"),
    paired_bar_chart([], title="自查与独立检查"),
])
def test_empty_data_says_so(svg):
    """Does a chart without data still render valid SVG that says 暂无数据?"""
    root = parse(svg)
    assert "暂无数据" in texts(root)
    assert "暂无数据" in root.find(f"{NS}desc").text
    assert root.get("viewBox") and root.get("role") == "img"


def test_long_labels_are_truncated_with_the_full_label_as_tooltip():
    """Does a long Chinese label end in … on the bar, with the whole label in its <title>?"""
    long = "中国工商银行唐山分行营业部丰润支行新华道第二分理处网点"
    root = parse(bar_chart([Bar(long, 88)], title="排名"))
    bar = root.find(f".//{NS}g[@class='bar']")
    assert bar.find(f"{NS}title").text.startswith(long)
    shown = bar.find(f"{NS}text").text
    assert shown.endswith("…") and long.startswith(shown[:-1])


def test_highlighted_bars_are_marked_beyond_colour():
    """Is a highlighted bar starred, in the legend and in the desc, not only coloured?"""
    root = parse(bar_chart([Bar("甲", 50, highlight=True), Bar("乙", 90)], title="排名",
                           highlight_label="名单网点"))
    assert "★甲" in texts(root)
    assert "★ 名单网点" in texts(root)
    assert "甲 50.0（名单网点）" in root.find(f"{NS}desc").text


def test_bar_lengths_follow_values_and_max_value():
    """Is a bar at max_value full length, half the value half as long, and over max clipped?"""
    root = parse(bar_chart([Bar("a", 100), Bar("b", 50), Bar("c", 150), Bar("d", None)],
                           title="t", max_value=100))
    widths = [float(r.get("width")) for r in root.iter(f"{NS}rect") if r.get("x") != "8"
              and r.get("height") == "14"]
    assert widths[0] == pytest.approx(2 * widths[1], abs=0.2)
    assert widths[2] == widths[0] and widths[3] == 0
    assert "d 无数据" in root.find(f"{NS}desc").text


def test_paired_chart_describes_both_values_and_flags_inflation():
    """Does the inflation view state both scores and the gap, flagging big gaps?"""
    root = parse(sample_charts()[3])
    desc = root.find(f"{NS}desc").text
    assert "唐山分行营业部：自查 95.0，独立检查 70.0，相差 25.0（偏高）" in desc
    assert "乙：自查 无数据，独立检查 80.0" in desc
    assert "▲唐山分行营业部" in texts(root)


def test_rows_of_branches_with_their_own_gap_are_flagged_by_theirs():
    """Outlets of two branches, one flagging gaps over 8, the other over 15: is each row
    flagged by its own branch's gap, and does the legend say so rather than name one figure?"""
    root = parse(paired_bar_chart([PairRow("甲", 90, 80, 8), PairRow("乙", 90, 80, 15),
                                   PairRow("丙", 99, 80, 15)], title="自查与独立检查"))
    shown = texts(root)
    assert "▲甲" in shown and "乙" in shown and "▲乙" not in shown and "▲丙" in shown
    assert "▲ 自查高出独立检查超过所在分行规定的分差" in shown
    same = texts(parse(paired_bar_chart([PairRow("甲", 90, 80, 8), PairRow("乙", 85, 80, 8)],
                                        title="自查与独立检查")))
    assert "▲ 自查高出独立检查超过 8 分" in same


def test_output_is_deterministic():
    """Do the same data give byte-identical SVG (ids included), and other data other ids?"""
    assert sample_charts() == sample_charts()
    a, b = parse(sample_charts("甲")[1]), parse(sample_charts("乙")[1])
    assert a.find(f"{NS}title").get("id") != b.find(f"{NS}title").get("id")


def test_chart_scales_to_its_viewbox():
    """Do the width/height attributes match the viewBox, so the chart scales without distortion?"""
    for svg in sample_charts():
        root = parse(svg)
        _, _, w, h = root.get("viewBox").split()
        assert (root.get("width"), root.get("height")) == (w, h)


def test_text_measure_and_truncate():
    """Are Chinese characters counted wider than Latin ones, and short labels kept whole?"""
    assert text_width("网点", 12) == 24 and text_width("ab", 10) == 12
    assert truncate("网点", 100, 12) == "网点"
    assert truncate("网点网点网点", 40, 12) == "网点…"


def test_a_good_mark_is_not_the_red_of_attention():
    """A benchmark (good) and an outlet needing attention (bad) highlighted on two charts: do
    they get different colours and marks, in the bars and the legends?"""
    from inspect_app.reports.charts import GOOD, HIGHLIGHT

    good = parse(bar_chart([Bar("甲", 99, highlight=True)], title="前列", highlight_label="标杆",
                           highlight_colour=GOOD))
    bad = parse(bar_chart([Bar("乙", 50, highlight=True)], title="靠后", highlight_mark="▼"))
    assert "★甲" in texts(good) and "▼乙" in texts(bad) and "▼ 重点关注" in texts(bad)
    fills = lambda root: {r.get("fill") for r in root.iter(f"{NS}rect")}  # noqa: E731
    assert GOOD in fills(good) and HIGHLIGHT not in fills(good)
    assert HIGHLIGHT in fills(bad) and GOOD not in fills(bad)


def test_a_bars_value_and_note_are_never_cut():
    """A benchmark at 100.00 on a 0–100 scale: is its value with its note written whole
    ("100.00 标杆", not "100.00 标…") and inside the chart?"""
    root = parse(bar_chart([Bar("路北支行营业室", 100, True, "标杆"), Bar("龙泉分理处", 99.5)],
                           title="排名前列网点", max_value=100, value_format="{:.2f}"))
    width = float(root.get("width"))
    value = next(t for t in root.iter(f"{NS}text") if (t.text or "").startswith("100.00"))
    assert value.text == "100.00 标杆"
    assert float(value.get("x")) + text_width(value.text, 11) <= width


def test_wrapped_labels_show_the_whole_text_without_a_tooltip():
    """With ``wrap_labels`` (checklist items on a phone, which cannot hover), is each label
    written whole over lines that fit the chart, with its bar below it, instead of cut to a
    few characters with the rest only in the tooltip?"""
    item = "NORM-06 双手递接客户的证件、现金等物品，做到唱收唱付，提示客户当面点清并妥善保管"
    root = parse(bar_chart([Bar(item, 9), Bar("EFF-02 当日超时等候客户占比", 6)],
                           title="失分最多的检查项", wrap_labels=True))
    width = float(root.get("width"))
    first = root.find(f".//{NS}g[@class='bar']")
    lines = [t for t in first.iter(f"{NS}text") if t.get("font-size") != "11"]
    assert len(lines) >= 2 and "".join(t.text for t in lines) == item
    assert all(8 + text_width(t.text, 12) <= width for t in lines)
    bar = first.find(f".//{NS}rect")
    assert float(bar.get("y")) > max(float(t.get("y")) for t in lines) - 12
    assert "…" not in "".join(texts(root))


def test_wrap_keeps_every_character_and_latin_words_whole():
    """Does wrapping lose nothing, and break Latin text between words?"""
    from inspect_app.reports.charts import wrap

    text = "柜员使用规范服务用语（您好、请、谢谢、请稍候、再见），讲普通话，语速适中"
    assert "".join(wrap(text, 100, 12)) == text
    assert all(text_width(line, 12) <= 100 for line in wrap(text, 100, 12))
    assert wrap("Greets every customer within three seconds", 160, 12) == [
        "Greets every customer", "within three seconds"]
    assert wrap("短", 100, 12) == ["短"]


def test_bars_with_a_link_open_it_from_the_label_and_the_bar():
    """Does a bar with ``href`` wrap its label and bar in one SVG link (a phone can tap it),
    escaped, while a bar without one stays plain?"""
    root = parse(bar_chart([Bar("长宁道分理处", 100, href="/manage/trend/7?day=2026-10-31&x=1"),
                            Bar("龙泉分理处", 90)], title="排名前列网点"))
    links = list(root.iter(f"{NS}a"))
    assert [a.get("href") for a in links] == ["/manage/trend/7?day=2026-10-31&x=1"]
    assert links[0].find(f"{NS}text").text == "长宁道分理处"
    assert links[0].find(f"{NS}rect") is not None


def test_a_trends_axis_names_months_and_years_not_day_like_numbers():
    """Twelve months across a new year, keyed by their full names: does the axis write short
    months ("1月", never "26-01") with the year under the first month and under January —
    the years apart, not overprinted — while the description keeps the full months?"""
    keys = [f"2025年{m}月" for m in (11, 12)] + [f"2026年{m}月" for m in range(1, 11)]
    ticks = {key: key.split("年")[1] for key in keys}
    groups = {keys[0]: "2025年", keys[2]: "2026年"}
    root = parse(line_chart([Series("综合得分", [(key, 90.0) for key in keys])],
                            title="近 12 个月趋势", ticks=ticks, tick_groups=groups))
    written = texts(root)
    assert "1月" in written and not any("-" in t for t in written)
    years = [t for t in root.iter(f"{NS}text") if t.get("class") == "tick-group"]
    assert [t.text for t in years] == ["2025年", "2026年"]
    (a, b) = years
    assert float(a.get("x")) + text_width(a.text, 10) / 2 < float(b.get("x")) \
        - text_width(b.text, 10) / 2
    assert "2026年1月 90.0" in root.find(f"{NS}desc").text
    assert float(root.get("height")) == float(root.get("viewBox").split()[3])
