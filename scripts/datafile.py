"""Atomic JSON writes for the build-derived lab data in labs_py/_data.

Why: a build and a test can run at once (e.g. `mkdocs serve` and pytest); writing to a temporary
file in the same folder and renaming it means a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def write_json(doc: dict, path: Path, **dump: object) -> None:
    """Write `doc` compactly to `path` atomically; `dump` adds json.dump options (e.g. sort_keys)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(doc, f, separators=(",", ":"), **dump)
    os.chmod(tmp, 0o644)  # mkstemp makes it private; the file is ordinary package data
    os.replace(tmp, path)
