"""Lab controls: declarations, and turning untrusted raw params (URL, preset, browser) into clean ones.

Why: the same declaration drives the HTML a reader operates, the clamping of bad input (always a
notice, never an exception), and the URL that shares a lab's state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_RAW_LEN = 64  # longer raw strings are rejected outright: no parsing of megabyte query strings


@dataclass(frozen=True)
class Slider:
    """A numeric range input. `integer` sliders round to whole numbers."""

    name: str
    label: str
    lo: float
    hi: float
    step: float
    default: float
    unit: str = ""
    help: str = ""
    integer: bool = False

    def parse(self, raw: object) -> tuple[float | int, str | None]:
        """Clean value and an optional notice saying what was changed."""
        value = _to_float(raw)
        if value is None:
            return self.default, f"{self.label}: {_show(raw)} is not a number; using {_fmt(self.default)}."
        clamped = min(max(value, self.lo), self.hi)
        if self.integer:
            clamped = round(clamped)
        else:
            clamped = round(self.lo + round((clamped - self.lo) / self.step) * self.step, 10)
            clamped = min(max(clamped, self.lo), self.hi)
        if clamped != value:
            if value < self.lo or value > self.hi:
                return clamped, f"{self.label}: {_fmt(value)} is outside {_fmt(self.lo)}–{_fmt(self.hi)}; using {_fmt(clamped)}."
            if self.integer:
                return clamped, f"{self.label}: {_fmt(value)} rounded to {_fmt(clamped)}."
        return clamped, None


@dataclass(frozen=True)
class Choice:
    """A pick from fixed options, given as (value, label) pairs."""

    name: str
    label: str
    options: tuple[tuple[str, str], ...]
    default: str
    help: str = ""

    def parse(self, raw: object) -> tuple[str, str | None]:
        """Clean value and an optional notice."""
        values = [v for v, _ in self.options]
        text = str(raw) if isinstance(raw, (str, int, float)) else None
        if text in values:
            return text, None
        return self.default, f"{self.label}: {_show(raw)} is not one of {', '.join(values)}; using {self.default}."


@dataclass(frozen=True)
class Toggle:
    """An on/off checkbox; stored as 0/1 so it travels in a URL."""

    name: str
    label: str
    default: int = 0
    help: str = ""

    def parse(self, raw: object) -> tuple[int, str | None]:
        """Clean value and an optional notice."""
        if raw in (0, 1, True, False, "0", "1", "true", "false"):
            return int(raw in (1, True, "1", "true")), None
        return self.default, f"{self.label}: {_show(raw)} is not on/off; using {'on' if self.default else 'off'}."


@dataclass(frozen=True)
class Multi:
    """Any subset of fixed options, given as (value, label) pairs; travels as a comma list."""

    name: str
    label: str
    options: tuple[tuple[str, str], ...]
    default: str
    help: str = ""

    def parse(self, raw: object) -> tuple[str, str | None]:
        """Clean value (the chosen options in declaration order, comma-joined) and an optional notice."""
        values = [v for v, _ in self.options]
        if not isinstance(raw, str):
            return self.default, f"{self.label}: {_show(raw)} is not a list of {', '.join(values)}; using {self.default}."
        picked = {part.strip() for part in raw.split(",") if part.strip()}
        unknown = sorted(picked - set(values))
        clean = ",".join(v for v in values if v in picked)
        if unknown:
            return clean or self.default, (f"{self.label}: {_show(','.join(unknown))} not among {', '.join(values)}; "
                                           f"using {clean or self.default}.")
        if not clean:
            return self.default, f"{self.label}: nothing chosen; using {self.default}."
        if raw != clean:  # reordered, repeated, padded or with empty items: say what is used
            return clean, f"{self.label}: {_show(raw)} read as {clean}."
        return clean, None


Control = Slider | Choice | Toggle | Multi


def defaults(controls: tuple[Control, ...]) -> dict:
    """Every control's default value."""
    return {c.name: c.default for c in controls}


def neighbour(control: Control) -> float | int | str:
    """A valid value one notch from the default (the next step, the next option, the other state):
    the change a reader most likely makes first."""
    if isinstance(control, Slider):
        up = control.default + control.step
        value = up if up <= control.hi else control.default - control.step
        return round(value) if control.integer else round(value, 10)
    if isinstance(control, Choice):
        values = [v for v, _ in control.options]
        return values[(values.index(control.default) + 1) % len(values)]
    if isinstance(control, Toggle):
        return 1 - control.default
    values = [v for v, _ in control.options]
    picked = control.default.split(",")
    missing = [v for v in values if v not in picked]
    return ",".join(v for v in values if v in picked or v == missing[0]) if missing else ",".join(picked[:-1])


def nudged(controls: tuple[Control, ...], name: str) -> dict:
    """The defaults with control `name` at its neighbouring value (what a warm-up computes)."""
    return {**defaults(controls), name: neighbour(next(c for c in controls if c.name == name))}


def clean(controls: tuple[Control, ...], raw: object) -> tuple[dict, list[str]]:
    """Clamp/repair raw params against the declarations. Unknown keys are dropped with a notice."""
    params = defaults(controls)
    notices: list[str] = []
    if not isinstance(raw, dict):
        if raw not in (None, ""):
            notices.append("Lab settings were not a set of name=value pairs; using defaults.")
        return params, notices
    by_name = {c.name: c for c in controls}
    for key, value in raw.items():
        control = by_name.get(key) if isinstance(key, str) else None
        if control is None:
            notices.append(f"Unknown setting {_show(key)} ignored.")
            continue
        if isinstance(value, str) and len(value) > MAX_RAW_LEN:
            params[key], notice = control.default, f"{control.label}: value too long; using {_fmt(control.default)}."
        else:
            params[key], notice = control.parse(value)
        if notice:
            notices.append(notice)
    return params, notices


def non_default(controls: tuple[Control, ...], params: dict) -> dict:
    """The params that differ from their defaults (what a shared URL must carry)."""
    return {c.name: params[c.name] for c in controls if params[c.name] != c.default}


def _to_float(raw: object) -> float | None:
    if isinstance(raw, bool):
        return None
    if not isinstance(raw, (int, float)) and not (isinstance(raw, str) and len(raw) <= MAX_RAW_LEN):
        return None
    try:
        value = float(raw.strip() if isinstance(raw, str) else raw)
    except (ValueError, OverflowError):  # OverflowError: an integer beyond float range, e.g. 10**400 from JSON
        return None
    return value if math.isfinite(value) else None


def _fmt(x: float | str) -> str:
    return f"{x:g}" if isinstance(x, (int, float)) else str(x)


def _show(raw: object) -> str:
    """A short, printable rendering of untrusted input (escaping happens where it becomes HTML)."""
    text = repr(raw)
    return text if len(text) <= 24 else text[:21] + "…"
