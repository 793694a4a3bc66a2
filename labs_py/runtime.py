"""Entry points shared by the build (snapshots) and the browser worker (live updates).

Why: identical code paths at build time and in Pyodide make the snapshot and the live lab agree.
The worker calls `handle` with JSON in and JSON out; per-instance state stays here in Python.

Requests (JSON) and replies:
  {lab, instance, params, action?, payload?}
      → {slots: {chart, headline, numbers, body}, summary, params, query, notices, disabled, store, stop}
  {lab, instance, action: "forget"}            → {forgotten}
  {lab, check: step id, prediction: text}      → {step, right, text} | {step, error}
`warm(lab)` is stepped by the worker after start-up: the page's labs at once, the others while the reader is idle.
"""

from __future__ import annotations

import importlib
import json
import math
from collections.abc import Iterator
from types import ModuleType

from labs_py.controls import clean, non_default, nudged
from labs_py.html import lab_root, notices_html, slots
from labs_py.lab import LABS, Guess, Metric, Options, Step, View

_STATE: dict[str, object] = {}


def lab_module(name: str) -> ModuleType:
    """The module of a registered lab; anything else is a clear error."""
    if name not in LABS:
        raise KeyError(f"unknown lab {name!r}; known labs: {', '.join(LABS)}")
    return importlib.import_module(f"labs_py.{name}")


def view(name: str, raw_params: object = None) -> tuple[dict, list[str], View]:
    """(clean params, notices, View) of a fresh lab at the given (untrusted) params."""
    mod = lab_module(name)
    params, notices = clean(mod.CONTROLS, raw_params)
    return params, notices, mod.render(params, None, None, None)


def metrics(name: str, raw_params: object = None) -> dict[str, Metric]:
    """What a fresh lab shows at these params: for tests and for numbers quoted in the text."""
    return view(name, raw_params)[2].metrics


def snapshot(name: str, raw_params: object = None) -> str:
    """The lab's full HTML at the given (untrusted) params, as written into the built page."""
    params, notices, v = view(name, raw_params)
    return lab_root(name, lab_module(name), params, v, notices)


def _prediction(step: Step, raw: object) -> str | None:
    """The reader's prediction as text, or None when it is not one the step accepts."""
    if isinstance(step.predict, Options):
        return raw if isinstance(raw, str) and raw in {v for v, _ in step.predict.choices} else None
    if isinstance(step.predict, Guess) and isinstance(raw, (str, int, float)) and not isinstance(raw, bool):
        try:
            x = float(raw)
        except (ValueError, OverflowError):
            return None
        return f"{x:g}" if math.isfinite(x) and step.predict.lo <= x <= step.predict.hi else None
    return None


def check(name: str, step_id: object, raw_prediction: object) -> dict:
    """Run a guided step's check with the lab's own code: {step, right, text} or {step, error}."""
    steps = {s.id: s for s in lab_module(name).STEPS}
    step = steps.get(step_id) if isinstance(step_id, str) else None
    if step is None:
        return {"step": None, "error": "This lab has no such step."}
    prediction = _prediction(step, raw_prediction)
    if prediction is None:
        return {"step": step.id, "error": "Make a prediction first (one of the choices, or a number in range)."}
    reveal = step.check(prediction)
    return {"step": step.id, "right": reveal.right, "text": reveal.text}


def warm(name: str) -> Iterator[None]:
    """Compute what a reader's first change of this lab computes, one piece per `next`, touching no page's state.

    Why: a fresh WebAssembly instance, one restored from the memory image too, runs each function
    slowly until the engine has compiled and optimised it, so the worker steps this while the reader
    is idle. A piece is the render at one key control's neighbouring value, or the lab's own `warm()`
    where such a render is too long to keep a reader's change waiting behind it.
    """
    mod = lab_module(name)
    if hasattr(mod, "warm"):
        yield from mod.warm()
        return
    for key in mod.KEY:
        mod.render(nudged(mod.CONTROLS, key), None, None, None)
        yield


def handle(request_json: str) -> str:
    """One live update, a forget, or a step check (see the module docstring for the shapes)."""
    req = json.loads(request_json)
    if "check" in req:
        return json.dumps(check(req["lab"], req["check"], req.get("prediction")))
    mod = lab_module(req["lab"])
    params, notices = clean(mod.CONTROLS, req.get("params"))
    key = f"{req['lab']}:{req.get('instance', '')}"
    if req.get("action") == "forget":
        _STATE.pop(key, None)
        return json.dumps({"forgotten": key})
    v = mod.render(params, _STATE.get(key), req.get("action"), req.get("payload"))
    _STATE[key] = v.state
    return json.dumps({
        "slots": slots(v),
        "summary": v.summary,
        "params": params,
        "query": non_default(mod.CONTROLS, params),
        "notices": notices_html(notices),
        "disabled": v.disabled,
        "store": v.store,
        "stop": v.stop,
    })
