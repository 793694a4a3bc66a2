"""The lab contract: what a lab module declares, what its `render` returns, and the registry.

Why: one small contract lets the build hook, the browser worker and the tests drive every lab the
same way. A lab module declares

    NAME, TITLE        registry name and heading
    QUESTION           the one question the lab answers, in a sentence
    CONTROLS           its inputs (labs_py.controls); KEY names the 1–2 that sit beside the chart,
                       the rest go under "Advanced"
    ACTIONS            buttons: (name, label[, shortcut key[, confirm question]])
    STEPS              3–5 guided predict → check steps (Step)
    render(params, state, action, payload) -> View
    warm() (optional)  runs, in pieces (one per `yield`), what a reader's first change computes, when
                       rendering a key control's neighbouring value would be too long a piece (runtime.warm)

and the framework lays it out: question, key controls beside the main chart and the headline
tiles, "Advanced", "All numbers", the rest of the view, then the steps.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

LABS = ("quantization", "lora", "rlhf", "distillation", "planner")


@dataclass(frozen=True)
class Metric:
    """One number a lab shows.

    value: the raw number, or None when it is undefined; text: what the reader sees, with its unit
    ("—" when undefined); hint: what it is a share of / how it is computed, or why it is undefined;
    headline: shown as one of the ≤ 4 tiles beside the chart (else under "All numbers").
    """

    value: float | None
    label: str
    text: str
    hint: str = ""
    headline: bool = False


def undefined(label: str, reason: str, headline: bool = False) -> Metric:
    """A metric that has no value in this setting: shown as "—" with the reason."""
    return Metric(None, label, "—", reason, headline)


@dataclass(frozen=True)
class Options:
    """A prediction made by picking one of 2–4 answers: (value, label) pairs."""

    choices: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Guess:
    """A numeric prediction made on a range input."""

    label: str
    lo: float
    hi: float
    step: float
    default: float
    unit: str = ""


@dataclass(frozen=True)
class Reveal:
    """What Check shows: whether the prediction was right, and the computed answer with its why."""

    right: bool
    text: str


@dataclass(frozen=True)
class Step:
    """A guided experiment: set it up, predict, then check against what the lab computes.

    setup: params applied by "Set it up" (merged over the defaults), then `action` if given.
    check(prediction) computes the answer with the lab's own code at that moment; the prediction
    arrives as the chosen option's value or the guessed number as text (already validated).
    """

    id: str
    question: str
    setup: dict
    predict: Options | Guess
    check: Callable[[str], Reveal]
    action: str | None = None


@dataclass
class View:
    """A rendered lab view.

    chart: the main figure, drawn beside the key controls; html: everything below (secondary
    charts, tables); summary: one sentence for screen readers; metrics: name → Metric, rendered
    by the framework as tiles; disabled: control name → why it does not apply in this setting;
    state: what a training lab keeps between calls (opaque to the runtime); store: reader data
    the page should persist (JSON-able), or None; stop: Play should stop now (schedule ended or
    converged; the view says why).
    """

    chart: str
    html: str
    summary: str
    metrics: dict[str, Metric] = field(default_factory=dict)
    disabled: dict[str, str] = field(default_factory=dict)
    state: object = None
    store: object = None
    stop: bool = False


def nearest(choices: dict[str, float], x: float) -> str:
    """The option whose representative value is closest to x on a log scale (all values > 0)."""
    return min(choices, key=lambda k: abs(math.log(choices[k]) - math.log(max(x, 1e-300))))
