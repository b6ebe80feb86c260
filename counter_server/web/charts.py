"""Small charts drawn on the server as inline SVG (no script, no CDN): bars for averages per
group, a line for a trend, a heat map for counts per weekday and hour. Labels and digits are Persian and laid out right to left: bars grow
from the labels on the right, and time runs from right (oldest) to left (newest).

Styling is by class (see desk.css, `.chart …`), as the page's CSP allows no inline styles.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

from markupsafe import Markup

from shared.text import DECIMAL_SEPARATOR, to_persian_digits

LABEL_WIDTH = 190
ROW = 30


def number(value: float, digits: int = 1) -> str:
    """«۴٫۵», «۴»: a value with Persian digits and decimal separator, no trailing zeros."""
    return to_persian_digits(f"{round(float(value), digits):g}".replace(".", DECIMAL_SEPARATOR))


def _text(x: float, y: float, content: str, css: str = "", anchor: str = "start",
          size: int = 13) -> str:
    """RTL text: with anchor 'start' the text's right edge is at x."""
    klass = f' class="{css}"' if css else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" direction="rtl" text-anchor="{anchor}" '
            f'font-size="{size}"{klass}>{escape(content)}</text>')


def _short(label: str, limit: int = 26) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _svg(width: int, height: int, title: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>")


def bar_chart(items: Sequence[tuple[str, float]], title: str, maximum: float = 5.0,
              width: int = 560, step: float = 1.0) -> Markup:
    """Horizontal bars, one per (label, value), labels on the right, a 0 … maximum scale
    with a grid line every `step`."""
    plot = width - LABEL_WIDTH - 50  # room on the left for the value of a full bar
    right = width - LABEL_WIDTH
    height = ROW * len(items) + 34
    body = []
    for tick in (step * i for i in range(int(maximum / step) + 1)):
        x = right - plot * tick / maximum
        body.append(f'<line class="chart-grid" x1="{x:.1f}" y1="4" x2="{x:.1f}" '
                    f'y2="{height - 24}"/>')
        body.append(_text(x + 4, height - 8, number(tick, 0), "chart-muted", size=11))
    for row, (label, value) in enumerate(items):
        y = 8 + row * ROW
        length = max(plot * min(value, maximum) / maximum, 1)
        body.append(_text(width - 6, y + 17, _short(label)))
        body.append(f'<rect class="chart-bar" x="{right - length:.1f}" y="{y + 3}" '
                    f'width="{length:.1f}" height="{ROW - 10}" rx="3"/>')
        body.append(_text(right - length - 6, y + 17, number(value), size=12))
    return _svg(width, height, title, body)


def line_chart(points: Sequence[tuple[str, float | None]], title: str, maximum: float = 5.0,
               width: int = 560, height: int = 230) -> Markup:
    """A line through (label, value) points from right to left; None leaves a gap."""
    top, bottom, axis = 12, height - 40, 34
    left, right = 12, width - axis
    step = (right - left) / max(len(points) - 1, 1)
    every = max(1, len(points) // 8)  # at most about eight labels under the axis
    body = []
    for tick in range(1, int(maximum) + 1):
        y = bottom - (bottom - top) * tick / maximum
        body.append(f'<line class="chart-grid" x1="{left}" y1="{y:.1f}" x2="{right}" '
                    f'y2="{y:.1f}"/>')
        body.append(_text(width - 4, y + 4, number(tick, 0), "chart-muted", size=11))
    runs: list[list[tuple[float, float]]] = [[]]
    for index, (label, value) in enumerate(points):
        x = right - step * index if len(points) > 1 else (left + right) / 2
        if index % every == 0:
            body.append(_text(x, height - 14, label, "chart-muted", anchor="middle", size=11))
        if value is None:
            runs.append([])
            continue
        y = bottom - (bottom - top) * min(value, maximum) / maximum
        runs[-1].append((x, y))
        body.append(f'<circle class="chart-dot" cx="{x:.1f}" cy="{y:.1f}" r="4">'
                    f"<title>{escape(label)}: {number(value)}</title></circle>")
    for run in (r for r in runs if len(r) > 1):
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
        body.insert(0, f'<polyline class="chart-line" points="{path}"/>')
    return _svg(width, height, title, body)


HEAT_LEVELS = 6  # .heat-0 (none) … .heat-5 (the busiest cells), styled in desk.css


def heat_map(rows: Sequence[str], columns: Sequence[str], values: dict[tuple[int, int], int],
             title: str, cell: int = 30, label_width: int = 80) -> Markup:
    """A grid of counts: `rows` labelled on the right, `columns` along the top from right to
    left; each cell's shade is its count against the busiest cell, its count in its tooltip."""
    width = label_width + cell * len(columns) + 8
    height = 26 + cell * len(rows) + 8
    top, right = 26, width - label_width
    busiest = max(values.values(), default=0)
    body = []
    for col, name in enumerate(columns):
        x = right - cell * col - cell / 2
        body.append(_text(x, 17, name, "chart-muted", anchor="middle", size=11))
    for row, name in enumerate(rows):
        y = top + cell * row
        body.append(_text(width - 6, y + cell / 2 + 5, name))
        for col, column in enumerate(columns):
            count = values.get((row, col), 0)
            level = 0 if not count else 1 + int((HEAT_LEVELS - 2) * count / busiest)
            x = right - cell * (col + 1)
            body.append(f'<rect class="heat-{level}" x="{x + 1:.1f}" y="{y + 1}" '
                        f'width="{cell - 2}" height="{cell - 2}" rx="3">'
                        f"<title>{escape(name)}، {escape(column)}: "
                        f"{to_persian_digits(count)}</title></rect>")
            if count:
                body.append(_text(x + cell / 2, y + cell / 2 + 4, _compact(count),
                                  f"heat-text-{level}", anchor="middle", size=10))
    return _svg(width, height, title, body)


def _compact(count: int) -> str:
    """«۹۸۷», «۱٫۲هـ» (thousands) — what fits in a cell."""
    if count < 1000:
        return to_persian_digits(count)
    return number(count / 1000, 1) + "هـ"
