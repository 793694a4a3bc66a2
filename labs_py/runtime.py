"""Entry points shared by the build (snapshots) and the browser worker (live updates).

Why: identical code paths at build time and in Pyodide make the snapshot and the live lab agree.
The worker calls `handle` with JSON in and JSON out; per-instance state stays here in Python.
"""

from __future__ import annotations

import importlib
import json
from types import ModuleType

from labs_py.controls import clean, non_default
from labs_py.html import lab_root, notices_html
from labs_py.lab import LABS

_STATE: dict[str, object] = {}


def lab_module(name: str) -> ModuleType:
    """The module of a registered lab; anything else is a clear error."""
    if name not in LABS:
        raise KeyError(f"unknown lab {name!r}; known labs: {', '.join(LABS)}")
    return importlib.import_module(f"labs_py.{name}")


def snapshot(name: str, raw_params: object = None) -> str:
    """The lab's full HTML at the given (untrusted) params, as written into the built page."""
    mod = lab_module(name)
    params, notices = clean(mod.CONTROLS, raw_params)
    view = mod.render(params, None, None, None)
    return lab_root(name, mod.TITLE, mod.CONTROLS, mod.ACTIONS, params, view.html, view.summary, notices)


def handle(request_json: str) -> str:
    """One live update: {lab, instance, params, action?, payload?} → {html, summary, params, query, notices, store}."""
    req = json.loads(request_json)
    mod = lab_module(req["lab"])
    params, notices = clean(mod.CONTROLS, req.get("params"))
    key = f"{req['lab']}:{req.get('instance', '')}"
    if req.get("action") == "forget":
        _STATE.pop(key, None)
        return json.dumps({"forgotten": key})
    view = mod.render(params, _STATE.get(key), req.get("action"), req.get("payload"))
    _STATE[key] = view.state
    return json.dumps({
        "html": view.html,
        "summary": view.summary,
        "params": params,
        "query": non_default(mod.CONTROLS, params),
        "notices": notices_html(notices),
        "store": view.store,
    })
