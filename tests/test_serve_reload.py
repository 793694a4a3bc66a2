"""Under `mkdocs serve`, editing a lab module changes the page's snapshot on the next rebuild.

The server runs the project's own hooks and labs_py from a temporary copy whose docs/ holds one
small lab page, so the edit never touches the working tree and each build takes seconds.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from conftest import ROOT, free_port

PAGE = "# Quantization\n\n```lab\nquantization\n```\n"
NAV = "nav:\n  - Quantization Lab: labs/quantization.md\n"
TIMEOUT_S = 90


def copy_project(dest: Path) -> None:
    """The build's inputs, with docs/ cut down to one lab page and the nav to match."""
    skip = shutil.ignore_patterns("__pycache__")
    for folder in ("labs_py", "scripts", "overrides", "docs/assets"):
        shutil.copytree(ROOT / folder, dest / folder, ignore=skip)
    (dest / "docs" / "labs").mkdir()
    (dest / "docs" / "labs" / "quantization.md").write_text(PAGE)
    config = (ROOT / "mkdocs.yml").read_text()
    (dest / "mkdocs.yml").write_text(re.sub(r"(?ms)^nav:\n.*?(?=^\S|\Z)", NAV, config))
    (dest / ".cache").symlink_to((ROOT / ".cache").resolve())


def fetch(url: str) -> str:
    """The page's HTML, or "" while the server is not up yet."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as resp:
            return resp.read().decode()
    except OSError:  # not listening yet (a request during a rebuild waits for it)
        return ""


def wait_for(url: str, text: str, server: subprocess.Popen, log: Path) -> None:
    """Return once `text` is in the served page; fail with the server's log if it exits or TIMEOUT_S pass."""
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline and server.poll() is None:
        if text in fetch(url):
            return
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never appeared at {url}; server log:\n{log.read_text()}")


def test_an_edited_lab_title_reaches_the_served_snapshot(tmp_path):
    copy_project(tmp_path)
    port = free_port()
    url = f"http://127.0.0.1:{port}/labs/quantization/"
    log = tmp_path / "serve.log"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # as on an author's machine
    env.update(SITE_URL=f"http://127.0.0.1:{port}/", NO_MKDOCS_2_WARNING="1")
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "-m", "mkdocs", "serve", "-a", f"127.0.0.1:{port}", "-w", "labs_py"],
                                  cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(url, 'aria-label="Quantization Lab"', server, log)
        module = tmp_path / "labs_py" / "quantization.py"
        source = module.read_text()
        assert 'TITLE = "Quantization Lab"\n' in source
        module.write_text(source.replace('TITLE = "Quantization Lab"\n', 'TITLE = "Edited Quantization Lab"\n'))
        wait_for(url, 'aria-label="Edited Quantization Lab"', server, log)
        # a .pyc written into the watched labs_py/ would trigger a second rebuild of every edit
        assert not (tmp_path / "labs_py" / "__pycache__").exists()
    finally:
        server.send_signal(signal.SIGINT)  # mkdocs serve removes its temporary site on Ctrl-C
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:  # seen on a loaded CI machine: its shutdown hung, not our build
            server.kill()
            server.wait(timeout=30)
