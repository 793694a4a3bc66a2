"""Make the labs' memory image ("heap image") for a built site, in headless Chromium.

Why: restoring Python's memory with numpy and every lab already imported skips most of start-up
(see README, "Start-up"). The image must be made in the browser that restores it (one made under
Node does not restore in Chromium), with numpy's compiled modules loaded in a fixed order before the
interpreter starts, so the same bases apply when a reader's worker restores it.

Steps: copy numpy's compiled modules out of its wheel as separate `.wasm` files (streamed, code-cached
by the browser); boot the site's own worker with them (`make-heap`); keep only the non-zero 4 KiB
pages of the memory, gzip it, and name it by its content; write `heap` into runtime.json; finally boot
a fresh worker from the image, which must pass its self-test. Any failure is an error.
Usage: python scripts/heap_snapshot.py SITE_DIR
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import struct
import sys
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import serve_site  # noqa: E402

PAGE = 4096
SITE_PACKAGES = "/lib/python3.12/site-packages/"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]
CHROMIUM = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")

# Runs in a page of the site: one worker, one message, the worker's final answer ("heap" for make-heap;
# "verified", "fallback" or "fatal" for a heap boot) with binary parts as a download.
WORKER_JS = """async ([message, download]) => {
  const worker = new Worker(new URL("assets/labs/worker.mjs", message.base), { type: "module" });
  const reply = await new Promise((resolve) => {
    worker.onmessage = ({ data }) => { if (!["progress", "stage", "ready"].includes(data.type)) resolve(data); };
    worker.onerror = (e) => resolve({ type: "fatal", message: e.message || "the worker failed to load" });
    worker.postMessage(message);
  });
  worker.terminate();
  if (download && reply.type === "heap") {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([reply.snapshot]));
    a.download = "snapshot.bin";
    a.click();
    delete reply.snapshot;
  }
  return reply;
}"""


def find_chromium() -> str:
    """An installed Chromium ($CHROMIUM, Debian's, PATH); `make site` runs scripts/ensure_chromium.sh first."""
    import os
    import shutil

    for candidate in (os.environ.get("CHROMIUM"), *CHROMIUM):
        found = candidate and (shutil.which(candidate) or (Path(candidate).exists() and candidate))
        if found:
            return found
    raise SystemExit("heap image: no Chromium found; run scripts/ensure_chromium.sh, or set CHROMIUM=/path")


def extract_libs(site: Path, runtime: dict) -> list[list[str]]:
    """numpy's compiled modules as site files; [[path in Pyodide's file system, site URL]…], in load order."""
    wheel = site / runtime["pyodide"] / runtime["numpy"]
    out_dir = site / runtime["pyodide"] / (runtime["numpy"].split("-cp")[0] + "-libs")
    out_dir.mkdir(parents=True, exist_ok=True)
    libs, seen = [], set()
    with zipfile.ZipFile(wheel) as z:
        for name in sorted(n for n in z.namelist() if n.endswith(".so")):
            flat = name.removesuffix(".so").replace("/", ".").split(".cpython")[0] + ".wasm"
            if flat in seen:
                raise SystemExit(f"heap image: two modules map to {flat}")
            seen.add(flat)
            (out_dir / flat).write_bytes(z.read(name))
            libs.append([SITE_PACKAGES + name, str((out_dir / flat).relative_to(site))])
    return libs


def encode(snapshot: bytes, meta: dict) -> bytes:
    """The image file before gzip: magic, JSON meta, Pyodide's header, page numbers, non-zero pages."""
    u32 = struct.unpack_from("<4I", snapshot)
    header = u32[1]  # Pyodide's snapshot: its memory starts at this offset
    memory = np.frombuffer(snapshot, dtype=np.uint8, offset=header)
    if len(memory) % PAGE:
        raise SystemExit("heap image: memory is not a whole number of pages")
    pages = memory.reshape(-1, PAGE)
    keep = np.flatnonzero(pages.any(axis=1)).astype("<u4")
    meta = {**meta, "header": header, "memory": len(memory), "page": PAGE, "pages": len(keep)}
    blob = json.dumps(meta).encode()
    return b"".join([b"LABHEAP1", struct.pack("<I", len(blob)), blob, snapshot[:header], keep.tobytes(), pages[keep].tobytes()])


def make(site: Path) -> dict:
    """Make and verify the image for `site`; returns runtime.json's `heap` entry."""
    from playwright.sync_api import sync_playwright

    cfg_path = site / "assets" / "labs" / "runtime.json"
    runtime = json.loads(cfg_path.read_text())
    runtime.pop("heap", None)
    cfg_path.write_text(json.dumps(runtime, indent=1))
    libs = extract_libs(site, runtime)
    server = serve_site.start(site)
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
            page = browser.new_context(accept_downloads=True).new_page()
            page.goto(base + "assets/labs/runtime.json")
            with page.expect_download(timeout=120_000) as download:
                reply = page.evaluate(WORKER_JS, [{"type": "make-heap", "base": base, "libs": libs}, True])
            if reply["type"] != "heap":
                raise SystemExit(f"heap image: the worker answered {reply}")
            snapshot = Path(download.value.path()).read_bytes()
            meta = {"hashes": runtime["hashes"], "handles": reply["handles"]}
            data = gzip.compress(encode(snapshot, meta), compresslevel=9, mtime=0)
            image = site / "assets" / "labs" / "heap" / hashlib.sha256(data).hexdigest()[:12] / "heap.bin"
            image.parent.mkdir(parents=True, exist_ok=True)
            image.write_bytes(data)
            heap = {"image": str(image.relative_to(site)), "size": len(snapshot), "libs": libs, "selftest": reply["selftest"]}
            runtime["heap"] = heap
            for rel in [heap["image"], *(url for _, url in libs)]:
                runtime["sizes"][rel] = (site / rel).stat().st_size
            cfg_path.write_text(json.dumps(runtime, indent=1))
            check = browser.new_context().new_page()
            check.goto(base + "assets/labs/runtime.json")
            checked = check.evaluate(WORKER_JS, [{"type": "init", "base": base, "path": "heap"}, False])
            browser.close()
    finally:
        server.shutdown()
    if checked.get("type") != "verified":
        raise SystemExit(f"heap image: a worker booted from it answered {checked}")
    print(f"heap image: {heap['image']} ({image.stat().st_size / 1e6:.1f} MB, {len(snapshot) / 1e6:.1f} MB restored), "
          f"self-test passed")
    return heap


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path)
    make(parser.parse_args().site)


if __name__ == "__main__":
    main()
