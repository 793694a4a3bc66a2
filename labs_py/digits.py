"""The handwritten-digits data set (UCI, via scikit-learn), loaded from the file the build exports.

Why: labs that train a real network need a real, small task that runs in the browser. The build
(`scripts/export_digits.py`) copies scikit-learn's `sklearn/datasets/data/digits.csv.gz` (1,797
8×8 images, pixel counts 0–16) into `_data/digits.json` with its provenance; scikit-learn itself
is never needed at run time. This module imports without the file and says what to run when a
lab asks for the data and it is missing.

Stable API (shared by the LoRA and Distillation Labs):
    load() -> (X, y)           X (1797, 64) float64 in [0, 1] (pixel count / 16), y (1797,) int64 in 0–9
    split(y) -> (train, test)  fixed index arrays: every third image of each digit is held out
    provenance() -> dict       where the data came from (shown on lab pages)
    available() -> bool
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import lru_cache
from pathlib import Path

import numpy as np

DATA = Path(__file__).with_name("_data") / "digits.json"
FORMAT = 1  # bumped whenever the JSON layout changes; the build re-exports stale data
N, D, PIXEL_MAX = 1797, 64, 16  # images, pixels per image (8×8), largest pixel count
# sha256 of the raw arrays (pixels as uint8, row-major, then labels as uint8): the data, whatever wrote the file
SHA256 = "87ff0c9e40dc7e2c0e34e7257799c2e3f3aec1a016363bb11cad869ec428a826"
TEST_EVERY = 3  # every third image of each digit (by its order in the file) is held out
HOW_TO_EXPORT = "run `python scripts/export_digits.py` (needs scikit-learn: pip install -e '.[site]'), or build the site"


class DigitsMissingError(FileNotFoundError):
    """The exported data file is absent or unreadable: the message says what to run."""


def available() -> bool:
    """True when the exported file exists (it is checked when loaded)."""
    return DATA.is_file()


def digest(pixels: np.ndarray, labels: np.ndarray) -> str:
    """sha256 of the data itself: pixels (n, 64) as uint8 row-major, then labels (n,) as uint8."""
    return hashlib.sha256(np.ascontiguousarray(pixels, np.uint8).tobytes()
                          + np.ascontiguousarray(labels, np.uint8).tobytes()).hexdigest()


@lru_cache(maxsize=1)
def _raw() -> tuple[np.ndarray, np.ndarray, dict]:
    """(pixels uint8 (n, 64), labels uint8 (n,), provenance) from the exported file, verified."""
    try:
        doc = json.loads(DATA.read_text())
    except (OSError, ValueError) as exc:
        raise DigitsMissingError(f"digits data not found at {DATA} ({exc.__class__.__name__}): {HOW_TO_EXPORT}") from None
    if doc.get("format") != FORMAT:
        raise DigitsMissingError(f"{DATA} has format {doc.get('format')!r}, expected {FORMAT}: {HOW_TO_EXPORT}")
    pixels = np.frombuffer(base64.b64decode(doc["pixels"]), np.uint8).reshape(-1, D)
    labels = np.frombuffer(base64.b64decode(doc["labels"]), np.uint8)
    if digest(pixels, labels) != SHA256:
        raise DigitsMissingError(f"{DATA} does not hold the expected data (sha256 differs): {HOW_TO_EXPORT}")
    return pixels, labels, doc["provenance"]


def load() -> tuple[np.ndarray, np.ndarray]:
    """X (1797, 64) float64 in [0, 1] (pixel count / 16) and y (1797,) int64 digits 0–9 (fresh arrays)."""
    pixels, labels, _ = _raw()
    return pixels.astype(np.float64) / PIXEL_MAX, labels.astype(np.int64)


def split(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) index arrays, fixed: within each digit, every TEST_EVERY-th image (in file order) is held out.

    No random numbers, so the split is the same on every platform and numpy version; every digit keeps
    the same share in both parts.
    """
    y = np.asarray(y)
    rank = np.empty(y.size, np.int64)  # position of each image among the images of its own digit
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        rank[idx] = np.arange(idx.size)
    test = rank % TEST_EVERY == TEST_EVERY - 1
    return np.flatnonzero(~test), np.flatnonzero(test)


def provenance() -> dict:
    """Where the data came from: package and version, path in the wheel, sha256 of the source file, origin."""
    return dict(_raw()[2])
