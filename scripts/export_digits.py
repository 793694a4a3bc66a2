"""Export the handwritten-digits data set from scikit-learn's wheel into `labs_py/_data/digits.json`.

Why: the labs train real networks on a real task in the browser, and scikit-learn ships the UCI
digits as one small file (`sklearn/datasets/data/digits.csv.gz`). scikit-learn is a build/test
dependency only: this script reads that file directly (no sklearn import), checks the shape and
the data's sha256 against `labs_py.digits.SHA256`, and writes a compact JSON (pixels and labels as
base64 uint8) with the provenance. `ensure()` (called by the site build) exports only when the file
is missing or stale. The output is deterministic: the same input gives the same bytes.

Usage: python scripts/export_digits.py [--force]
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import importlib.metadata
import importlib.util
import json
import sys
from pathlib import Path

import datafile
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from labs_py import digits  # noqa: E402

SOURCE = "sklearn/datasets/data/digits.csv.gz"
ORIGIN = {
    "title": "Optical Recognition of Handwritten Digits",
    "creators": "E. Alpaydin, C. Kaynak",
    "year": 1998,
    "repository": "UCI Machine Learning Repository",
    "doi": "10.24432/C50P49",
    "url": "https://archive.ics.uci.edu/dataset/80/optical+recognition+of+handwritten+digits",
    "part": "the test set (1,797 images from 13 writers), as shipped by scikit-learn",
    "licence": "CC BY 4.0",
}


class ExportError(RuntimeError):
    """scikit-learn (or its digits file) is missing, or the file is not the expected data."""


def source_path() -> Path:
    """The digits file inside the installed scikit-learn, found without importing sklearn."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or spec.origin is None:
        raise ExportError("scikit-learn is not installed: pip install -e '.[site]' (it is a build dependency only)")
    path = Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz"
    if not path.is_file():
        raise ExportError(f"scikit-learn has no {SOURCE} at {path}")
    return path


def read(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(pixels uint8 (1797, 64), labels uint8 (1797,)) from the csv.gz: 64 pixel counts then the digit per row."""
    with gzip.open(path, "rt") as f:
        rows = np.loadtxt(f, delimiter=",", dtype=np.int64)
    if rows.shape != (digits.N, digits.D + 1):
        raise ExportError(f"{path}: shape {rows.shape}, expected ({digits.N}, {digits.D + 1})")
    pixels, labels = rows[:, :-1], rows[:, -1]
    if pixels.min() < 0 or pixels.max() > digits.PIXEL_MAX or labels.min() < 0 or labels.max() > 9:
        raise ExportError(f"{path}: values out of range (pixels 0–{digits.PIXEL_MAX}, labels 0–9)")
    return pixels.astype(np.uint8), labels.astype(np.uint8)


def export() -> dict:
    """The JSON document: format, provenance, and the data as base64 uint8 arrays."""
    path = source_path()
    pixels, labels = read(path)
    sha = digits.digest(pixels, labels)
    if sha != digits.SHA256:
        raise ExportError(f"{path}: data sha256 {sha} differs from the expected {digits.SHA256}")
    provenance = {
        "package": "scikit-learn",
        "version": importlib.metadata.version("scikit-learn"),
        "path": SOURCE,
        "file_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "data_sha256": sha,
        "shape": [digits.N, digits.D],
        "origin": ORIGIN,
    }
    return {"format": digits.FORMAT, "provenance": provenance,
            "pixels": base64.b64encode(pixels.tobytes()).decode(), "labels": base64.b64encode(labels.tobytes()).decode()}


def up_to_date(path: Path) -> bool:
    """True when `path` holds this format and the expected data (the version of scikit-learn does not matter)."""
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return doc.get("format") == digits.FORMAT and doc.get("provenance", {}).get("data_sha256") == digits.SHA256


def write(doc: dict, path: Path) -> None:
    """Write atomically, so a build and a test running at once never read half a file."""
    datafile.write_json(doc, path)


def ensure(force: bool = False, path: Path = digits.DATA) -> Path:
    """Export digits.json unless it is already there and up to date; return its path."""
    if force or not up_to_date(path):
        write(export(), path)
        digits._raw.cache_clear()
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="export even when the file is up to date")
    args = parser.parse_args()
    try:
        path = ensure(args.force)
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{path.relative_to(ROOT)}: {path.stat().st_size:,} bytes, data sha256 {digits.SHA256}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
