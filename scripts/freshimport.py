"""Import a module from its file on disk, even in a process that imported it before.

Why: `mkdocs serve` keeps the hooks module, and every module it imported, alive across rebuilds
(MkDocs loads a hook file once per process). Each build imports the modules that draw the lab
snapshots anew, so the snapshots come from the files as they are now: the files the same
rebuild packs into the wheel the browser runs.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType


def forget(package: str) -> list[str]:
    """Drop a module or package and all its submodules from sys.modules; return the names dropped."""
    dropped = [m for m in sys.modules if m == package or m.startswith(package + ".")]
    for name in dropped:
        del sys.modules[name]
    return dropped


def fresh(name: str, path: Path) -> ModuleType:
    """Module `name` imported anew from the directory `path`, its top-level package forgotten first.

    `path` goes first on sys.path for this import only (MkDocs restores sys.path after loading a
    hook file, and an installed copy of the package must not win). The import system's directory
    caches are cleared, so a module file added since the last import (a lab split in two) is found.
    """
    forget(name.partition(".")[0])
    importlib.invalidate_caches()
    sys.path.insert(0, str(path))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(path))
