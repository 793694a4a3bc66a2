"""Dependency-free SVG charts (line, horizontal bar, histogram, heatmap) sized for the course pages.

Why: charts are computed in Python so the build-time snapshot and the live lab draw identical
pictures; colours come from CSS classes so light and dark palettes both read well.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from labs_py.html import esc

W, H = 560, 250  # viewBox of a chart in a desktop column
NARROW_W = 340  # viewBox width of the phone drawing: 13 px text stays ≥ 11 CSS px in a 300 px column
PAD_L, PAD_R, PAD_T, PAD_B = 58, 16, 30, 40


@dataclass
class Series:
    """A named polyline; `cls` picks its colour class (c0…c3)."""

    name: str
    x: np.ndarray
    y: np.ndarray
    cls: str = "c0"
    dashed: bool = False


@dataclass
class Marks:
    """Reference lines and points drawn over a line chart."""

    hlines: list[tuple[float, str, str]] = field(default_factory=list)  # (y, label, cls)
    vlines: list[tuple[float, str, str]] = field(default_factory=list)  # (x, label, cls)
    points: list[tuple[float, float, str, str]] = field(default_factory=list)  # (x, y, label, cls)
    rings: list[tuple[float, float]] = field(default_factory=list)  # (x, y): "you are here", drawn over the points


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About n round tick values covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    return [round(first + i * step, 12) for i in range(int((hi - first) / step + 1e-9) + 1)]


def tick_label(v: float) -> str:
    """Compact tick text: 0.001 → 1e-3 style only when needed."""
    if v == 0:
        return "0"
    if abs(v) >= 1e4 or abs(v) < 1e-2:
        return f"{v:.0e}".replace("e-0", "e-").replace("e+0", "e")
    return f"{v:g}"


def _open(title: str, width: int = W, height: int = H) -> str:
    return (
        f'<svg class="lab-chart" viewBox="0 0 {width} {height}" role="img" aria-label="{esc(title)}">'
        f'<title>{esc(title)}</title><text class="lab-chart__title" x="{PAD_L}" y="18">{esc(title)}</text>'
    )


def line_chart(series: list[Series], title: str, x_label: str, y_label: str, *, log_y: bool = False,
               x_range: tuple[float, float] | None = None, y_range: tuple[float, float] | None = None,
               marks: Marks | None = None, x_ticks: list[tuple[float, str]] | None = None, width: int = W) -> str:
    """A line chart with axes, ticks, legend, optional log-y axis and reference marks.

    x_ticks: explicit (position, label) ticks instead of round numbers; width: the viewBox width
    (draw narrow for a phone rather than shrinking a wide drawing; the legend then wraps below).
    """
    marks = marks or Marks()
    legend, legend_h = _legend([(s.name, s.cls, "line", s.dashed) for s in series], width)
    xs = [s.x for s in series if len(s.x)] + [np.array([v for v, _, _ in marks.vlines] or [0.0])]
    ys = [s.y for s in series if len(s.y)] + [np.array([v for v, _, _ in marks.hlines] or [np.nan])]
    ys += [np.array([p[1] for p in marks.points] or [np.nan])]
    x_lo, x_hi = x_range or (float(min(np.min(x) for x in xs)), float(max(np.max(x) for x in xs)))
    allv = np.concatenate([np.asarray(y, float).ravel() for y in ys])
    allv = allv[np.isfinite(allv) & ((allv > 0) if log_y else True)]
    if y_range:
        y_lo, y_hi = y_range
    elif allv.size:
        y_lo, y_hi = float(allv.min()), float(allv.max())
    else:
        y_lo, y_hi = (1.0, 10.0) if log_y else (0.0, 1.0)
    if log_y:
        y_lo, y_hi = math.log10(max(y_lo, 1e-300)), math.log10(max(y_hi, 1e-300))
        y_lo, y_hi = math.floor(y_lo), max(math.ceil(y_hi), math.floor(y_lo) + 1)
    else:
        if not y_range:
            y_lo = min(y_lo, 0.0) if y_lo >= 0 and y_lo < 0.25 * y_hi else y_lo
            span = (y_hi - y_lo) or max(abs(y_hi), 1.0)
            y_hi += 0.06 * span
    if x_hi <= x_lo:
        x_hi = x_lo + 1
    if y_hi <= y_lo:
        y_hi = y_lo + 1
    pw, ph = width - PAD_L - PAD_R, H - PAD_T - PAD_B

    def sx(x):
        return PAD_L + (np.asarray(x, float) - x_lo) / (x_hi - x_lo) * pw

    def sy(y):
        y = np.asarray(y, float)
        if log_y:
            y = np.log10(np.maximum(y, 1e-300))
        return PAD_T + ph - (np.clip(y, y_lo, y_hi) - y_lo) / (y_hi - y_lo) * ph

    out = [_open(title, width, H + legend_h)]
    decade_step = max(1, math.ceil((y_hi - y_lo) / 8))  # at most ~8 labelled decades on a log axis
    yticks = [t for t in range(int(y_lo), int(y_hi) + 1) if t % decade_step == 0] if log_y else nice_ticks(y_lo, y_hi)
    for t in yticks:
        y = float(sy(10.0**t if log_y else t))
        label = f"1e{t}" if log_y else tick_label(t)
        out.append(f'<line class="lab-grid" x1="{PAD_L}" x2="{width - PAD_R}" y1="{y:.1f}" y2="{y:.1f}"/>'
                   f'<text class="lab-tick" x="{PAD_L - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
    for t, text in x_ticks or [(t, tick_label(t)) for t in nice_ticks(x_lo, x_hi, 6)]:
        x = float(sx(t))
        out.append(f'<text class="lab-tick" x="{x:.1f}" y="{H - PAD_B + 16}" text-anchor="middle">{esc(text)}</text>')
    out.append(f'<line class="lab-axis" x1="{PAD_L}" x2="{width - PAD_R}" y1="{PAD_T + ph}" y2="{PAD_T + ph}"/>'
               f'<line class="lab-axis" x1="{PAD_L}" x2="{PAD_L}" y1="{PAD_T}" y2="{PAD_T + ph}"/>'
               f'<text class="lab-axis-label" x="{PAD_L + pw / 2:.0f}" y="{H - 6}" text-anchor="middle">{esc(x_label)}</text>'
               f'<text class="lab-axis-label" transform="rotate(-90)" x="{-(PAD_T + ph / 2):.0f}" y="14" '
               f'text-anchor="middle">{esc(y_label)}</text>')
    for y, label, cls in marks.hlines:
        yy = float(sy(y))
        out.append(f'<line class="lab-ref {cls}" x1="{PAD_L}" x2="{width - PAD_R}" y1="{yy:.1f}" y2="{yy:.1f}"/>'
                   f'<text class="lab-ref-label {cls}" x="{width - PAD_R - 4}" y="{yy - 5:.1f}" text-anchor="end">{esc(label)}</text>')
    for x, label, cls in marks.vlines:
        xx = float(sx(x))
        out.append(f'<line class="lab-ref {cls}" x1="{xx:.1f}" x2="{xx:.1f}" y1="{PAD_T}" y2="{PAD_T + ph}"/>'
                   f'<text class="lab-ref-label {cls}" x="{xx + 4:.1f}" y="{PAD_T + 12}">{esc(label)}</text>')
    for s in series:
        if not len(s.x):
            continue
        px, py = sx(s.x), sy(s.y)
        pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(px.tolist(), py.tolist(), strict=False) if math.isfinite(b))
        dash = ' stroke-dasharray="5 4"' if s.dashed else ""
        out.append(f'<polyline class="lab-line {s.cls}" points="{pts}"{dash}/>')
    for x, y, label, cls in marks.points:
        xx, yy = float(sx(x)), float(sy(y))
        out.append(f'<circle class="lab-point {cls}" cx="{xx:.1f}" cy="{yy:.1f}" r="5"/>')
        if label:
            anchor = "end" if xx > width * 0.7 else "start"
            dx = -8 if anchor == "end" else 8
            out.append(f'<text class="lab-point-label" x="{xx + dx:.1f}" y="{yy - 8:.1f}" text-anchor="{anchor}">{esc(label)}</text>')
    for x, y in marks.rings:
        out.append(f'<circle class="lab-ring" cx="{float(sx(x)):.1f}" cy="{float(sy(y)):.1f}" r="9"/>')
    out.append(legend + "</svg>")
    return "".join(out)


LEGEND_CHAR_W = 7.2  # average advance of a 13 px legend character


def _legend(items: list[tuple[str, str, str, bool]], width: int) -> tuple[str, float]:
    """Legend entries (name, cls, "line" | "box", dashed): one row at the top right when it fits
    beside the title, else wrapped into rows under the chart. Returns (svg, extra height below)."""
    sizes = [30 + LEGEND_CHAR_W * len(name) for name, *_ in items]
    if not items:
        return "", 0.0
    rows: list[list[int]] = [[]]
    room = width - PAD_L - PAD_R
    for i, w in enumerate(sizes):
        if rows[-1] and sum(sizes[j] for j in rows[-1]) + w > room:
            rows.append([])
        rows[-1].append(i)
    top_right = len(rows) == 1 and sum(sizes) <= width * 0.55
    out = []
    for r, row in enumerate(rows):
        x = width - PAD_R - sum(sizes[j] for j in row) if top_right else PAD_L
        y = 14 if top_right else H + 8 + 20 * r
        for j in row:
            name, cls, kind, dashed = items[j]
            dash = ' stroke-dasharray="5 4"' if dashed else ""
            mark = (f'<line class="lab-line {cls}" x1="{x:.0f}" x2="{x + 14:.0f}" y1="{y}" y2="{y}"{dash}/>' if kind == "line"
                    else f'<rect class="lab-bar {cls}" x="{x:.0f}" y="{y - 6}" width="12" height="10"/>')
            out.append(f'{mark}<text class="lab-legend" x="{x + 18:.0f}" y="{y + 4}">{esc(name)}</text>')
            x += sizes[j]
    return "".join(out), 0.0 if top_right else 20.0 * len(rows) + 4


def responsive(draw) -> str:
    """A chart drawn twice, for a wide column and for a phone; CSS shows the one that fits."""
    return (f'<div class="lab-chart-wide">{draw(W)}</div>'
            f'<div class="lab-chart-narrow">{draw(NARROW_W)}</div>')


def hbar_chart(labels: list[str], groups: list[tuple[str, np.ndarray, str]], title: str, x_label: str, *,
               x_range: tuple[float, float] | None = None, value_fmt: str = "{:.2f}", width: int = W) -> str:
    """Horizontal bars, one row per label and one bar per group; handles negative values.

    width: the viewBox width (draw narrow for a phone; the legend then moves under the title).
    """
    n, g = len(labels), len(groups)
    narrow = width < W
    row_h = 10 + 12 * g
    top = PAD_T + (18 if narrow else 0)
    height = top + n * row_h + 34
    label_w = 90 if narrow else 150
    vals = np.concatenate([np.asarray(v, float) for _, v, _ in groups]) if groups else np.zeros(1)
    lo, hi = x_range or (min(0.0, float(vals.min())), max(0.0, float(vals.max())))
    if hi <= lo:
        hi = lo + 1
    pw = width - label_w - PAD_R - 50

    def sx(v):
        return label_w + (min(max(v, lo), hi) - lo) / (hi - lo) * pw

    out = [_open(title, width, height)]
    zero = sx(0.0)
    for t in nice_ticks(lo, hi, 4 if narrow else 5):
        x = sx(t)
        out.append(f'<line class="lab-grid" x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{height - 30}"/>'
                   f'<text class="lab-tick" x="{x:.1f}" y="{height - 16}" text-anchor="middle">{tick_label(t)}</text>')
    for i, label in enumerate(labels):
        y0 = top + i * row_h + 5
        out.append(f'<text class="lab-bar-label" x="{label_w - 8}" y="{y0 + 6 * g + 4:.1f}" text-anchor="end">{esc(label)}</text>')
        for j, (_, values, cls) in enumerate(groups):
            v = float(values[i])
            x1, x2 = sorted((zero, sx(v)))
            y = y0 + j * 12
            out.append(f'<rect class="lab-bar {cls}" x="{x1:.1f}" y="{y:.1f}" width="{max(x2 - x1, 0.5):.1f}" height="10"/>')
            out.append(f'<text class="lab-bar-value" x="{max(x2, zero) + 4:.1f}" y="{y + 9:.1f}">{esc(value_fmt.format(v))}</text>')
    out.append(f'<line class="lab-axis" x1="{zero:.1f}" x2="{zero:.1f}" y1="{top}" y2="{height - 30}"/>'
               f'<text class="lab-axis-label" x="{label_w + pw / 2:.0f}" y="{height - 2}" text-anchor="middle">{esc(x_label)}</text>')
    legend_x, legend_y = width - PAD_R, (36 if narrow else 8)
    for name, _, cls in reversed(groups):
        legend_x -= 12 + 7.2 * len(name) + 18
        out.append(f'<rect class="lab-bar {cls}" x="{legend_x:.0f}" y="{legend_y}" width="12" height="10"/>'
                   f'<text class="lab-legend" x="{legend_x + 16:.0f}" y="{legend_y + 10}">{esc(name)}</text>')
    out.append("</svg>")
    return "".join(out)


def histogram(edges: np.ndarray, counts: np.ndarray, title: str, x_label: str, *,
              levels: np.ndarray | None = None, log_y: bool = True, width: int = W) -> str:
    """Bars of `counts` over `edges`; optional vertical ticks at quantization `levels`."""
    pw, ph = width - PAD_L - PAD_R, H - PAD_T - PAD_B
    lo, hi = float(edges[0]), float(edges[-1])
    c = np.asarray(counts, float)
    top = np.log10(c.max() + 1) if log_y else c.max()
    hts = ((np.log10(c + 1) if log_y else c) / (top or 1) * ph).tolist()
    xs = (PAD_L + (np.asarray(edges, float) - lo) / (hi - lo) * pw).tolist()
    base = PAD_T + ph
    out = [_open(title, width)]
    d = "".join(f"M{xs[i]:.1f} {base:.1f}V{base - hts[i]:.1f}H{xs[i + 1]:.1f}V{base:.1f}Z"
                for i, n in enumerate(c.tolist()) if n > 0)
    out.append(f'<path class="lab-hist" d="{d}"/>')
    if levels is not None:
        shown = np.asarray(levels, float)
        shown = shown[(shown >= lo) & (shown <= hi)]
        for lv in shown[:300].tolist():
            x = PAD_L + (lv - lo) / (hi - lo) * pw
            out.append(f'<line class="lab-level" x1="{x:.1f}" x2="{x:.1f}" y1="{PAD_T}" y2="{PAD_T + ph}"/>')
    for t in nice_ticks(lo, hi, 6 if width >= W else 4):
        x = PAD_L + (t - lo) / (hi - lo) * pw
        out.append(f'<text class="lab-tick" x="{x:.1f}" y="{H - PAD_B + 16}" text-anchor="middle">{tick_label(t)}</text>')
    out.append(f'<line class="lab-axis" x1="{PAD_L}" x2="{width - PAD_R}" y1="{PAD_T + ph}" y2="{PAD_T + ph}"/>'
               f'<text class="lab-axis-label" x="{PAD_L + pw / 2:.0f}" y="{H - 6}" text-anchor="middle">{esc(x_label)}</text>'
               f'<text class="lab-axis-label" transform="rotate(-90)" x="{-(PAD_T + ph / 2):.0f}" y="14" '
               f'text-anchor="middle">{"count (log scale)" if log_y else "count"}</text></svg>')
    return "".join(out)


def _short(v: float) -> str:
    """A coordinate to 2 decimals without trailing zeros (12.00 → 12): shorter path data."""
    return f"{v:.2f}".rstrip("0").rstrip(".")


def heatmap(M: np.ndarray, title: str, vmax: float, size: int = 180) -> str:
    """A diverging heatmap drawn as one path per colour bucket (cheap to swap into the DOM).

    Horizontal runs of equal cells become one rectangle each, so smooth matrices stay small.
    """
    rows, cols = M.shape
    cell = size / max(rows, cols)
    levels = 6
    q = np.clip(np.round(np.abs(M) / (vmax or 1.0) * levels), 0, levels).astype(int)
    out = [f'<svg class="lab-heatmap" viewBox="0 0 {cols * cell:.0f} {rows * cell + 18:.0f}" role="img" '
           f'aria-label="{esc(title)}"><title>{esc(title)}</title>'
           f'<text class="lab-chart__title" x="0" y="12">{esc(title)}</text>'
           f'<rect class="lab-heatmap__bg" x="0" y="18" width="{cols * cell:.1f}" height="{rows * cell:.1f}"/>']
    code = (np.sign(M) * q).astype(int)  # −levels … levels; 0 is not drawn
    starts = np.ones(code.shape, bool)
    starts[:, 1:] = code[:, 1:] != code[:, :-1]
    ii, j0 = np.nonzero(starts)  # every run of equal cells in a row, in row-major order
    j1 = np.append(j0[1:], cols)
    j1[np.append(ii[1:] != ii[:-1], True)] = cols  # a run ends at the next start or at its row's end
    v = code[ii, j0]
    order = np.argsort(v, kind="stable")
    order = order[v[order] != 0]
    v = v[order]
    xs = [_short(j * cell) for j in range(cols + 1)]
    ys = [_short(18 + i * cell) for i in range(rows)]
    ws = [_short(w * cell) for w in range(cols + 1)]
    ch = _short(cell)
    segs = [f"M{xs[a]} {ys[i]}h{ws[b - a]}v{ch}h-{ws[b - a]}z"
            for i, a, b in zip(ii[order].tolist(), j0[order].tolist(), j1[order].tolist(), strict=True)]
    bounds = np.searchsorted(v, np.arange(-levels, levels + 2)).tolist()  # runs of code c: bounds[c + levels] …
    for sign, cls in ((1, "pos"), (-1, "neg")):
        for lv in range(1, levels + 1):
            lo, hi = bounds[sign * lv + levels], bounds[sign * lv + levels + 1]
            if hi > lo:
                out.append(f'<path class="lab-heat {cls}" fill-opacity="{lv / levels:.2f}" d="{"".join(segs[lo:hi])}"/>')
    out.append("</svg>")
    return "".join(out)


@dataclass
class Panel:
    """One column of horizontal bars in `hbar_panels`; every panel shares the chart's row labels.

    groups: (name, values, cls) drawn as stacked thin bars per row; value_fmt: when set, the values of
    group `value_group` are printed in a column at the panel's right edge; weight: share of the width;
    log_floor: when set, the axis is log10 from that decade up (values must be positive). Values past
    the axis's end are drawn to the end and marked with a notch (class lab-bar-clip).
    """

    title: str
    groups: list[tuple[str, np.ndarray, str]]
    x_range: tuple[float, float] | None = None
    value_fmt: str | None = None
    value_group: int = 0
    weight: float = 1.0
    log_floor: float | None = None


def _panel_scale(p: Panel) -> tuple[float, float, list[float], list[str], list[np.ndarray]]:
    """(lo, hi, tick positions, tick labels, plotted values per group) of one panel."""
    if p.log_floor is not None:
        plotted = [np.log10(np.maximum(np.asarray(v, float), 10.0**p.log_floor)) for _, v, _ in p.groups]
        lo, hi = p.x_range or (p.log_floor, max(0.0, *(float(v.max()) for v in plotted)))
        step = max(1, math.ceil((hi - lo) / 5))
        ticks = [float(t) for t in range(math.ceil(lo), math.floor(hi) + 1) if t % step == 0]
        return lo, hi, ticks, [tick_label(10.0**t) for t in ticks], plotted
    plotted = [np.asarray(v, float) for _, v, _ in p.groups]
    vals = np.concatenate(plotted) if plotted else np.zeros(1)
    lo, hi = p.x_range or (min(0.0, float(vals.min())), max(0.0, float(vals.max())))
    if hi <= lo:
        hi = lo + 1
    ticks = nice_ticks(lo, hi, 4)
    return lo, hi, ticks, [tick_label(t) for t in ticks], plotted


def hbar_panels(labels: list[str], panels: list[Panel], title: str, *, label_w: int = 104, bar: int = 6,
                marked: tuple[int, ...] = ()) -> str:
    """Small multiples of horizontal bars side by side, one row per label (e.g. probabilities, then gradients).

    Rows listed in `marked` get a highlight band (class lab-row-mark) across the whole chart.
    """
    n = len(labels)
    g_max = max((len(p.groups) for p in panels), default=1)
    row_h = g_max * (bar + 1) + 5
    top, gap, value_w = PAD_T + 20, 14, 46
    height = top + n * row_h + 30
    usable = W - label_w - PAD_R - gap * (len(panels) - 1)
    total_weight = sum(p.weight for p in panels) or 1.0
    out = [_open(title, W, height)]
    for i in marked:
        out.append(f'<rect class="lab-row-mark" x="4" y="{top + i * row_h - 1:.1f}" width="{W - 8}" height="{row_h:.1f}"/>')
    for i, label in enumerate(labels):
        out.append(f'<text class="lab-bar-label" x="{label_w - 6}" y="{top + i * row_h + row_h / 2 + 4:.1f}" '
                   f'text-anchor="end">{esc(label)}</text>')
    x0 = float(label_w)
    for p in panels:
        width = usable * p.weight / total_weight
        bars_w = width - (value_w if p.value_fmt else 0)
        lo, hi, ticks, tick_text, plotted = _panel_scale(p)

        def sx(v, x0=x0, lo=lo, hi=hi, bars_w=bars_w):
            return x0 + (min(max(v, lo), hi) - lo) / (hi - lo) * bars_w

        out.append(f'<text class="lab-panel-title" x="{x0:.1f}" y="{top - 8}">{esc(p.title)}</text>')
        for t, text in zip(ticks, tick_text, strict=True):
            x = sx(t)
            out.append(f'<line class="lab-grid" x1="{x:.1f}" x2="{x:.1f}" y1="{top - 2}" y2="{height - 28}"/>'
                       f'<text class="lab-tick" x="{x:.1f}" y="{height - 12}" text-anchor="middle">{text}</text>')
        base = sx(lo if p.log_floor is not None else 0.0)
        gh = len(p.groups) * (bar + 1) - 1
        for i in range(n):
            y0 = top + i * row_h + (row_h - gh) / 2
            for j, (_, _, cls) in enumerate(p.groups):
                v = float(plotted[j][i])
                x1, x2 = sorted((base, sx(v)))
                y = y0 + j * (bar + 1)
                out.append(f'<rect class="lab-bar {cls}" x="{x1:.1f}" y="{y:.1f}" width="{max(x2 - x1, 0.5):.1f}" height="{bar}"/>')
                if v > hi or v < lo:
                    tip = x2 if v > hi else x1
                    out.append(f'<path class="lab-bar-clip" d="M{tip - 3:.1f} {y - 1:.1f}l6 {(bar + 2) / 2:.1f}l-6 {(bar + 2) / 2:.1f}z"/>')
            if p.value_fmt:
                v = float(p.groups[p.value_group][1][i])
                out.append(f'<text class="lab-bar-value" x="{x0 + width:.1f}" y="{top + i * row_h + row_h / 2 + 4:.1f}" '
                           f'text-anchor="end">{esc(p.value_fmt.format(v))}</text>')
        out.append(f'<line class="lab-axis" x1="{base:.1f}" x2="{base:.1f}" y1="{top - 2}" y2="{height - 28}"/>')
        x0 += width + gap
    legend_x = W - PAD_R
    for name, _, cls in reversed([g for p in panels for g in p.groups]):
        legend_x -= 12 + 7.2 * len(name) + 18
        out.append(f'<rect class="lab-bar {cls}" x="{legend_x:.0f}" y="8" width="12" height="10"/>'
                   f'<text class="lab-legend" x="{legend_x + 16:.0f}" y="18">{esc(name)}</text>')
    out.append("</svg>")
    return "".join(out)


@dataclass
class Segment:
    """One part of a stacked bar: `value` drawn solid, and up to `upto` drawn faint (a range)."""

    name: str
    value: float
    cls: str
    upto: float | None = None  # the high end of a range, drawn faint after the solid part
    faint: bool = False  # the whole segment is drawn faint (e.g. memory that may page out)


def stacked_bar(segments: list[Segment], title: str, x_label: str, *, limit: tuple[float, str] | None = None,
                x_max: float | None = None, width: int = W, value_fmt: str = "{:.1f}") -> str:
    """One horizontal bar made of segments, with an optional vertical limit line (value, label).

    The legend lists every segment with its value and wraps into rows under the axis, so the
    chart stays legible at phone width.
    """
    total = sum(s.value for s in segments) + sum((s.upto or s.value) - s.value for s in segments)
    top = max(total, limit[0] if limit else 0.0, 1e-9)
    hi = x_max or nice_ticks(0, top * 1.05, 5)[-1]
    hi = hi if hi >= top else top * 1.05
    pw = width - PAD_L - PAD_R

    def sx(v: float) -> float:
        return PAD_L + v / hi * pw

    bar_y, bar_h, axis_y = 48, 44, 104
    items = [(f"{s.name} {value_fmt.format(s.value)}" + (f" (up to {value_fmt.format(s.upto)})" if s.upto else ""), s.cls)
             for s in segments if s.value > 0 or s.upto]
    sizes = [26 + LEGEND_CHAR_W * len(text) for text, _ in items]
    rows: list[list[int]] = [[]]
    for k, w in enumerate(sizes):
        if rows[-1] and sum(sizes[j] for j in rows[-1]) + w > width - PAD_L - PAD_R:
            rows.append([])
        rows[-1].append(k)
    legend_y = axis_y + 46
    height = legend_y + 20 * len(rows)
    out = [_open(title, width, height)]
    x = 0.0
    for s in segments:
        for lo_v, hi_v, faint in ((x, x + s.value, s.faint), (x + s.value, x + (s.upto or s.value), True)):
            if hi_v - lo_v <= 0:
                continue
            style = ' fill-opacity="0.35" stroke-dasharray="3 2"' if faint else ""
            out.append(f'<rect class="lab-bar lab-seg {s.cls}" x="{sx(lo_v):.1f}" y="{bar_y}" '
                       f'width="{max(sx(hi_v) - sx(lo_v), 0.5):.1f}" height="{bar_h}"{style}/>')
        x += s.upto or s.value
    for t in nice_ticks(0, hi, 5 if width >= W else 4):
        xx = sx(t)
        out.append(f'<line class="lab-grid" x1="{xx:.1f}" x2="{xx:.1f}" y1="{bar_y - 6}" y2="{axis_y}"/>'
                   f'<text class="lab-tick" x="{xx:.1f}" y="{axis_y + 15}" text-anchor="middle">{tick_label(t)}</text>')
    out.append(f'<line class="lab-axis" x1="{PAD_L}" x2="{width - PAD_R}" y1="{axis_y}" y2="{axis_y}"/>'
               f'<text class="lab-axis-label" x="{PAD_L + pw / 2:.0f}" y="{axis_y + 32}" text-anchor="middle">'
               f"{esc(x_label)}</text>")
    if limit:
        xx = sx(limit[0])
        anchor = "end" if xx > width * 0.6 else "start"
        dx = -4 if anchor == "end" else 4
        out.append(f'<line class="lab-limit" x1="{xx:.1f}" x2="{xx:.1f}" y1="{bar_y - 18}" y2="{axis_y}"/>'
                   f'<text class="lab-limit-label" x="{xx + dx:.1f}" y="{bar_y - 8}" text-anchor="{anchor}">'
                   f"{esc(limit[1])}</text>")
    for r, row in enumerate(rows):
        lx, ly = float(PAD_L), legend_y + 20 * r
        for k in row:
            text, cls = items[k]
            out.append(f'<rect class="lab-bar lab-seg {cls}" x="{lx:.0f}" y="{ly - 9}" width="12" height="10"/>'
                       f'<text class="lab-legend" x="{lx + 16:.0f}" y="{ly}">{esc(text)}</text>')
            lx += sizes[k]
    out.append("</svg>")
    return "".join(out)
