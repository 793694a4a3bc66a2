"""Number formatting for metric tiles: what a reader sees next to `data-value`."""

from __future__ import annotations


def sig(x: float, digits: int = 3) -> str:
    """x to `digits` significant figures, without scientific notation for everyday magnitudes."""
    if x == 0:
        return "0"
    if abs(x) < 1e-3 or abs(x) >= 1e6:
        return f"{x:.{digits - 1}e}"
    return f"{x:.{digits}g}" if abs(x) < 10 ** digits else f"{x:,.0f}"


def pct(x: float, digits: int = 1) -> str:
    """A fraction as a percentage."""
    return f"{100 * x:.{digits}f} %"


def nbytes(n: float) -> str:
    """Bytes in decimal units (GB = 1e9 bytes), as memory is quoted for model weights."""
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n:.0f} B"


def count(n: float) -> str:
    """An integer count with thousands separators."""
    return f"{round(n):,}"


def share(x: float, digits: int = 0) -> str:
    """A fraction as a percentage that reads 0 % or 100 % only when exact (else "< 1 %", "> 99 %")."""
    step = 10.0 ** -digits
    shown = round(100 * x, digits)
    if x == 0 or x == 1:
        return f"{100 * x:.0f} %"
    if shown <= 0 < x:
        return f"< {step:g} %"
    if shown >= 100 > 100 * x:
        return f"> {100 - step:g} %"
    return pct(x, digits)
