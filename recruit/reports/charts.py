"""Small SVG charts for PDF reports, as inline markup built in pure Python.

Every label is escaped here, so templates may insert the result with ``|safe``.
Numbers are shown through ``value_format`` so the caller can pass a locale-aware
formatter (Babel's ``format_decimal``, say); the default prints up to two decimals.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from itertools import pairwise

from markupsafe import Markup, escape

FONT = "DejaVu Sans, sans-serif"
BAR_COLOUR = "#4a76a8"
FUNNEL_COLOUR = "#5b87b8"
INK = "#1f2933"
MUTED = "#6b7785"
RULE = "#d5dbe1"

_TITLE_HEIGHT = 26
_ROW_HEIGHT = 22
_BAR_THICKNESS = 14
# Average advance of a DejaVu Sans glyph at 10 px, used to keep labels in their column.
_CHAR_WIDTH = 6.0

NumberFormat = Callable[[float], str]


def default_format(value: float) -> str:
    """Format a number with no decimals when whole, else with up to two."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _num(value: float) -> str:
    """A coordinate for SVG attributes: short, with a dot as decimal separator."""
    return f"{value:.1f}".removesuffix(".0")


def _fit(label: str, width: float) -> str:
    """Shorten ``label`` with an ellipsis so it fits ``width`` pixels."""
    room = max(int(width // _CHAR_WIDTH), 4)
    return label if len(label) <= room else label[: room - 1].rstrip() + "…"


def _text(
    x: float,
    y: float,
    content: str,
    *,
    anchor: str = "start",
    size: int = 10,
    fill: str = INK,
    weight: str = "normal",
    full: str | None = None,
) -> str:
    tooltip = f"<title>{escape(full)}</title>" if full is not None and full != content else ""
    return (
        f'<text x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}" font-size="{size}" '
        f'font-weight="{weight}" fill="{fill}">{tooltip}{escape(content)}</text>'
    )


def _svg(width: int, height: int, title: str, body: list[str]) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" font-family="{FONT}">'
        f"<title>{escape(title)}</title>"
    )
    heading = _text(0, 15, title, size=12, weight="bold")
    # Safe: every piece of text above went through escape() in _text or here.
    return Markup(head + heading + "".join(body) + "</svg>")  # noqa: S704


def _empty(width: int, title: str, empty_label: str) -> Markup:
    height = _TITLE_HEIGHT + 40
    box = (
        f'<rect x="0.5" y="{_TITLE_HEIGHT}" width="{width - 1}" height="34" fill="none" '
        f'stroke="{RULE}" stroke-dasharray="4 3"/>'
    )
    note = _text(width / 2, _TITLE_HEIGHT + 21, empty_label, anchor="middle", fill=MUTED)
    return _svg(width, height, title, [box, note])


def bar_chart(
    *,
    items: Sequence[tuple[str, float]],
    title: str,
    width: int = 600,
    height: int | None = None,
    unit: str = "",
    empty_label: str = "No data",
    value_format: NumberFormat = default_format,
) -> Markup:
    """Draw horizontal bars, one per ``(label, value)``, each with its value after the bar.

    ``unit`` is appended to every value as given ("%" or " pts"). ``height`` defaults to
    what the rows need; a larger height adds space below. Negative values draw as zero.
    """
    if not items:
        return _empty(width, title, empty_label)
    label_width = width * 0.36
    value_width = 70
    bar_left = label_width + 8
    bar_room = width - bar_left - value_width
    peak = max((max(value, 0) for _, value in items), default=0) or 1
    needed = _TITLE_HEIGHT + _ROW_HEIGHT * len(items) + 4
    body = [
        f'<line x1="{_num(bar_left)}" y1="{_TITLE_HEIGHT - 2}" x2="{_num(bar_left)}" '
        f'y2="{needed - 2}" stroke="{RULE}"/>'
    ]
    for row, (label, value) in enumerate(items):
        top = _TITLE_HEIGHT + row * _ROW_HEIGHT
        bar = bar_room * max(value, 0) / peak
        baseline = top + _ROW_HEIGHT / 2 + 3.5
        body.append(
            _text(label_width, baseline, _fit(label, label_width), anchor="end", full=label)
        )
        body.append(
            f'<rect class="bar" x="{_num(bar_left)}" y="{_num(top + 4)}" width="{bar:.2f}" '
            f'height="{_BAR_THICKNESS}" fill="{BAR_COLOUR}"/>'
        )
        body.append(_text(bar_left + bar + 5, baseline, value_format(value) + unit, fill=MUTED))
    return _svg(width, max(height or 0, needed), title, body)


def funnel_chart(
    *,
    steps: Sequence[tuple[str, int]],
    title: str,
    width: int = 600,
    empty_label: str = "No data",
    value_format: NumberFormat = default_format,
    stacked: bool = False,
) -> Markup:
    """Draw a funnel: one centred bar per step, with its count and its share of step one.

    ``stacked`` puts each label on a line of its own above its bar, so a narrow chart (a
    phone's width) keeps long labels whole and its text large enough to read.
    """
    if not steps:
        return _empty(width, title, empty_label)
    if stacked:
        return _stacked_funnel(steps=steps, title=title, width=width,
                               value_format=value_format)
    label_width = width * 0.3
    value_width = 100
    bar_left = label_width + 10
    bar_room = width - bar_left - value_width
    first = steps[0][1]
    peak = max((max(count, 0) for _, count in steps), default=0) or 1
    row_height = _ROW_HEIGHT + 4
    body = []
    for row, (label, count) in enumerate(steps):
        top = _TITLE_HEIGHT + row * row_height
        bar = max(bar_room * max(count, 0) / peak, 1.5)
        baseline = top + row_height / 2 + 3.5
        share = f"{value_format(round(100 * count / first))}%" if first > 0 else "—"
        body.append(
            _text(label_width, baseline, _fit(label, label_width), anchor="end", full=label)
        )
        body.append(
            f'<rect class="bar" x="{bar_left + (bar_room - bar) / 2:.2f}" y="{_num(top + 3)}" '
            f'width="{bar:.2f}" height="{row_height - 6}" fill="{FUNNEL_COLOUR}"/>'
        )
        body.append(_text(width - value_width + 8, baseline, value_format(count), weight="bold"))
        body.append(_text(width, baseline, share, anchor="end", fill=MUTED))
    height = _TITLE_HEIGHT + row_height * len(steps) + 4
    return _svg(width, height, title, body)


def _stacked_funnel(*, steps: Sequence[tuple[str, int]], title: str, width: int,
                    value_format: NumberFormat) -> Markup:
    first = steps[0][1]
    peak = max((max(count, 0) for _, count in steps), default=0) or 1
    row_height = 38
    value_width = 90
    body = []
    for row, (label, count) in enumerate(steps):
        top = _TITLE_HEIGHT + row * row_height
        share = f"{value_format(round(100 * count / first))}%" if first > 0 else "—"
        body.append(_text(0, top + 13, _fit(label, width - value_width), size=12, full=label))
        body.append(_text(width - 44, top + 13, value_format(count), anchor="end", size=12,
                          weight="bold"))
        body.append(_text(width, top + 13, share, anchor="end", size=12, fill=MUTED))
        bar = max(width * max(count, 0) / peak, 1.5)
        body.append(
            f'<rect class="bar" x="0" y="{_num(top + 18)}" width="{bar:.2f}" height="12" '
            f'rx="2" fill="{FUNNEL_COLOUR}"/>'
        )
    height = _TITLE_HEIGHT + row_height * len(steps)
    return _svg(width, height, title, body)


def histogram(
    *,
    values: Sequence[float],
    bins: Sequence[float],
    title: str,
    width: int = 600,
    height: int = 190,
    empty_label: str = "No data",
    value_format: NumberFormat = default_format,
) -> Markup:
    """Draw how many ``values`` fall in each bin; ``bins`` are the ascending edges.

    As in NumPy, each bin holds its left edge and the last one its right edge too;
    values outside the edges are not counted.
    """
    if len(bins) < 2 or any(a >= b for a, b in pairwise(bins)):
        raise ValueError("bins needs at least two strictly ascending edges")
    low, high = bins[0], bins[-1]
    counts = [0] * (len(bins) - 1)
    for value in values:
        if low <= value < high:
            counts[bisect_right(bins, value) - 1] += 1
        elif value == high:
            counts[-1] += 1
    if not any(counts):
        return _empty(width, title, empty_label)
    left, right, axis_y = 28, width - 8, height - 22
    plot_top = _TITLE_HEIGHT + 14
    scale = (right - left) / (high - low)
    peak = max(counts)
    body = [f'<line x1="{left}" y1="{axis_y}" x2="{right}" y2="{axis_y}" stroke="{MUTED}"/>']
    for index, count in enumerate(counts):
        x0 = left + (bins[index] - low) * scale
        x1 = left + (bins[index + 1] - low) * scale
        bar = (axis_y - plot_top) * count / peak
        body.append(
            f'<rect class="bar" x="{x0 + 1:.2f}" y="{axis_y - bar:.2f}" '
            f'width="{max(x1 - x0 - 2, 0.5):.2f}" height="{bar:.2f}" fill="{BAR_COLOUR}"/>'
        )
        if count:
            body.append(
                _text(
                    (x0 + x1) / 2,
                    axis_y - bar - 4,
                    value_format(count),
                    anchor="middle",
                    size=9,
                    fill=MUTED,
                )
            )
    for edge in bins:
        x = left + (edge - low) * scale
        body.append(
            f'<line x1="{_num(x)}" y1="{axis_y}" x2="{_num(x)}" y2="{axis_y + 4}" '
            f'stroke="{MUTED}"/>'
        )
        body.append(_text(x, axis_y + 15, value_format(edge), anchor="middle", size=9))
    return _svg(width, height, title, body)


def drift_line(
    *,
    values: Sequence[float],
    bound: float,
    title: str,
    width: int = 180,
    height: int = 44,
    limit: float = 4.0,
) -> Markup:
    """A small line of deviations from a reference, oldest first, with the ±``bound`` band.

    Zero is the middle line; points beyond the band are drawn in the warning colour. The
    vertical scale runs from −``limit`` to +``limit`` (deviations on a 1–5 rubric are never
    larger than 4). ``title`` is the accessible name (no visible heading: it sits in a table).
    """
    pad = 3.0
    middle = height / 2

    def y(value: float) -> float:
        clipped = max(-limit, min(limit, value))
        return middle - clipped / limit * (middle - pad)

    band = (
        f'<rect x="0" y="{_num(y(bound))}" width="{width}" '
        f'height="{_num(y(-bound) - y(bound))}" fill="#eef3f8"/>'
        f'<line x1="0" y1="{_num(middle)}" x2="{width}" y2="{_num(middle)}" stroke="{RULE}"/>'
    )
    body = [band]
    if values:
        step = (width - 2 * pad) / max(len(values) - 1, 1)
        points = [(pad + i * step if len(values) > 1 else width / 2, y(v))
                  for i, v in enumerate(values)]
        if len(points) > 1:
            path = " ".join(f"{_num(px)},{_num(py)}" for px, py in points)
            body.append(f'<polyline points="{path}" fill="none" stroke="{BAR_COLOUR}" '
                        f'stroke-width="2"/>')
        for (px, py), value in zip(points, values, strict=True):
            colour = "#b3261e" if abs(value) > bound else BAR_COLOUR
            body.append(f'<circle cx="{_num(px)}" cy="{_num(py)}" r="3" fill="{colour}"/>')
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" font-family="{FONT}">'
        f"<title>{escape(title)}</title>"
    )
    # Safe: the only text, the title, went through escape().
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704


OTHERS_COLOUR = "#b9c8da"
YOU_COLOUR = "#c2410c"


def standing_strip(
    *,
    title: str,
    value: float | None = None,
    band: tuple[float, float] | None = None,
    line: float | None = None,
    counts: Sequence[int] | None = None,
    low: float = 1.0,
    high: float = 5.0,
    width: int = 360,
    value_format: NumberFormat = default_format,
) -> Markup:
    """One value on a scale from ``low`` to ``high``: where it stands against a line and,
    when ``counts`` are given, against everyone's values (a histogram of equal bins).

    ``value`` is drawn as a marker; ``band`` (a range) stands in for it when the exact value
    must not be shown. ``line`` is dashed. ``title`` is the accessible description: the
    chart has no words of its own besides the scale, so the page explains the marks once.
    """
    height, pad, axis = 52, 12.0, 32.0

    def x(v: float) -> float:
        return pad + (min(high, max(low, v)) - low) / (high - low) * (width - 2 * pad)

    body = []
    if counts:
        peak = max(counts) or 1
        step = (width - 2 * pad) / len(counts)
        for index, count in enumerate(counts):
            if not count:
                continue
            bar = (axis - 6) * count / peak
            body.append(
                f'<rect class="bar" x="{pad + index * step + 0.5:.2f}" y="{axis - bar:.2f}" '
                f'width="{max(step - 1, 0.5):.2f}" height="{bar:.2f}" fill="{OTHERS_COLOUR}"/>'
            )
    body.append(f'<line x1="{_num(pad)}" y1="{axis}" x2="{_num(width - pad)}" y2="{axis}" '
                f'stroke="{MUTED}"/>')
    for tick in range(int(low), int(high) + 1):
        body.append(f'<line x1="{_num(x(tick))}" y1="{axis}" x2="{_num(x(tick))}" '
                    f'y2="{axis + 4}" stroke="{MUTED}"/>')
        body.append(_text(x(tick), axis + 16, value_format(tick), anchor="middle", size=11,
                          fill=MUTED))
    if band is not None:
        left, right = x(band[0]), x(band[1])
        body.append(
            f'<rect class="band" x="{left:.2f}" y="6" width="{right - left:.2f}" '
            f'height="{axis - 6}" fill="{YOU_COLOUR}" fill-opacity="0.18" stroke="{YOU_COLOUR}" '
            f'stroke-width="1.5"/>'
        )
    if line is not None:
        body.append(
            f'<line class="pass-line" x1="{x(line):.2f}" y1="1" x2="{x(line):.2f}" '
            f'y2="{axis + 3}" stroke="{INK}" stroke-width="1.5" stroke-dasharray="4 3"/>'
        )
    if value is not None:
        body.append(
            f'<line class="you" x1="{x(value):.2f}" y1="3" x2="{x(value):.2f}" y2="{axis}" '
            f'stroke="{YOU_COLOUR}" stroke-width="3"/>'
            f'<circle cx="{x(value):.2f}" cy="{axis}" r="4.5" fill="{YOU_COLOUR}"/>'
        )
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" font-family="{FONT}">'
        f"<title>{escape(title)}</title>"
    )
    # Safe: the title and the scale's numbers went through escape().
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704
