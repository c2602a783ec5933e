"""SVG charts: well-formed, escaped, proportional, and honest about missing data."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from markupsafe import Markup

from recruit.reports import charts
from recruit.reports.charts import bar_chart, default_format, funnel_chart, histogram

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # noqa: S314 - our own output, not untrusted input
    assert root.tag == f"{SVG}svg"
    return root


def bars(root: ET.Element) -> list[ET.Element]:
    return [rect for rect in root.iter(f"{SVG}rect") if rect.get("class") == "bar"]


def texts(root: ET.Element) -> list[str]:
    return ["".join(node.itertext()) for node in root.iter(f"{SVG}text")]


CHARTS = {
    "bar": lambda label: bar_chart(items=[(label, 3.0), ("b", 1.5)], title=label),
    "funnel": lambda label: funnel_chart(steps=[(label, 10), ("b", 4)], title=label),
    "histogram": lambda label: histogram(values=[1, 2, 5], bins=[1, 3, 5], title=label),
}


@pytest.mark.parametrize("kind", CHARTS)
def test_chart_is_well_formed_xml_and_markup(kind):
    svg = CHARTS[kind]("Эмпатия & tone")
    assert isinstance(svg, Markup)
    root = parse(svg)
    assert "Эмпатия & tone" in texts(root)


@pytest.mark.parametrize("kind", CHARTS)
def test_chart_escapes_labels(kind):
    svg = CHARTS[kind]('<script>alert("x")</script>')
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    parse(svg)


def test_bar_widths_are_proportional_to_values():
    root = parse(bar_chart(items=[("a", 4.0), ("b", 2.0), ("c", 1.0), ("d", 0.0)], title="t"))
    widths = [float(rect.get("width")) for rect in bars(root)]
    assert widths[0] > 0
    assert widths[1] == pytest.approx(widths[0] / 2)
    assert widths[2] == pytest.approx(widths[0] / 4)
    assert widths[3] == 0


def test_bar_chart_shows_values_with_unit():
    root = parse(bar_chart(items=[("Literacy", 3.75), ("Tone", 4.0)], title="t", unit=" pts"))
    assert "3.75 pts" in texts(root)
    assert "4 pts" in texts(root)


def test_bar_chart_uses_the_callers_number_format():
    svg = bar_chart(
        items=[("a", 3.5)], title="t", value_format=lambda v: f"{v:.1f}".replace(".", ",")
    )
    assert "3,5" in texts(parse(svg))


def test_bar_chart_shortens_long_labels_but_keeps_them_in_a_tooltip():
    label = "Does not hold the documents needed for official employment in Russia"
    root = parse(bar_chart(items=[(label, 1)], title="t", width=300))
    tooltips = [node for node in root.iter(f"{SVG}text") if node.find(f"{SVG}title") is not None]
    assert len(tooltips) == 1
    assert tooltips[0].find(f"{SVG}title").text == label
    visible = tooltips[0].find(f"{SVG}title").tail
    assert visible.endswith("…")
    assert label.startswith(visible[:-1])


def test_funnel_shows_counts_and_share_of_first_step():
    steps = [("Registered", 200), ("Eligible", 150), ("Offers", 20), ("Accepted", 0)]
    root = parse(funnel_chart(steps=steps, title="Funnel"))
    shown = texts(root)
    for expected in ("200", "100%", "150", "75%", "20", "10%", "0%"):
        assert expected in shown
    widths = [float(rect.get("width")) for rect in bars(root)]
    assert widths[1] == pytest.approx(widths[0] * 0.75)


def test_funnel_with_empty_first_step_shows_no_percentages():
    shown = texts(parse(funnel_chart(steps=[("Registered", 0), ("Eligible", 0)], title="t")))
    assert "—" in shown
    assert not any(text.endswith("%") for text in shown)


def test_histogram_counts_values_per_bin_with_closed_last_bin():
    root = parse(
        histogram(values=[1, 1.4, 2.5, 4.99, 5, 0.5, 5.1], bins=[1, 2, 3, 4, 5], title="t")
    )
    heights = [float(rect.get("height")) for rect in bars(root)]
    # Bins: [1,2) has 2, [2,3) has 1, [3,4) has 0, [4,5] has 2; 0.5 and 5.1 fall outside.
    assert heights[0] == pytest.approx(heights[3])
    assert heights[1] == pytest.approx(heights[0] / 2)
    assert heights[2] == 0
    assert [t for t in texts(root) if t in {"1", "2"}].count("2") >= 2


@pytest.mark.parametrize("bins", [[1], [], [1, 1, 2], [3, 2, 1]])
def test_histogram_refuses_bad_bins(bins):
    with pytest.raises(ValueError, match="ascending"):
        histogram(values=[1], bins=bins, title="t")


@pytest.mark.parametrize(
    "svg",
    [
        bar_chart(items=[], title="t", empty_label="Нет данных"),
        funnel_chart(steps=[], title="t", empty_label="Нет данных"),
        histogram(values=[], bins=[1, 3, 5], title="t", empty_label="Нет данных"),
        histogram(values=[9, 10], bins=[1, 3, 5], title="t", empty_label="Нет данных"),
    ],
    ids=["bar", "funnel", "histogram", "histogram-all-outside"],
)
def test_empty_data_shows_the_callers_label(svg):
    root = parse(svg)
    assert "Нет данных" in texts(root)
    assert bars(root) == []


@pytest.mark.parametrize(("value", "shown"), [(4, "4"), (4.0, "4"), (3.456, "3.46"), (2.5, "2.5")])
def test_default_format(value, shown):
    assert default_format(value) == shown


def test_a_standing_strip_draws_the_value_the_line_and_everyones_bars():
    svg = str(charts.standing_strip(title="Тон <3", value=4.2, line=3.4, counts=[0, 2, 5, 1]))
    assert "<title>Тон &lt;3</title>" in svg
    assert svg.count('<rect class="bar"') == 3  # an empty bin draws nothing
    assert 'class="pass-line"' in svg and 'class="you"' in svg and 'class="band"' not in svg
    parse(svg)


def test_a_standing_strip_in_a_small_pool_draws_a_range_and_nobody_else():
    svg = str(charts.standing_strip(title="Тон", band=(3, 4), line=3.5))
    assert 'class="band"' in svg and 'class="you"' not in svg and 'class="bar"' not in svg
