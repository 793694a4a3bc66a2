"""Train the Distillation Lab's digit teacher and store it in `labs_py/_data/digit_teacher.json`.

Why: the lab distils a real trained network, and training it in every reader's browser would cost
seconds for nothing: the build trains it once (`labs_py.digit_teacher.train`, seeded) on the digits'
training split and stores float32 weights with their sha256 and provenance. Training runs in a
child process with one BLAS thread, so the result does not depend on how many threads a machine
offers. `ensure()` (called by the site build after the digits export) retrains only when the
file is missing, its data or recipe changed, or it does not verify.

Usage: python scripts/train_digit_teacher.py [--force]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import datafile
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from labs_py import digit_teacher, digits  # noqa: E402

RECIPE_SOURCE = ROOT / "labs_py" / "digit_teacher.py"
SINGLE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def recipe_sha256() -> str:
    """sha256 of the module that defines the network and its training: a change there retrains."""
    return hashlib.sha256(RECIPE_SOURCE.read_bytes()).hexdigest()


def build(epochs: int = digit_teacher.EPOCHS, hidden: int = digit_teacher.HIDDEN) -> dict:
    """Train on the training split and return the JSON document (weights, sha256, provenance)."""
    X, y = digits.load()
    train, test = digits.split(y)
    P = digit_teacher.train(X[train], y[train], epochs=epochs, hidden=hidden)
    acc = {name: float(np.mean(digit_teacher.forward(P, X[idx]).argmax(1) == y[idx]))
           for name, idx in (("train", train), ("test", test))}
    provenance = {
        "data_sha256": digits.SHA256, "split": f"one image in {digits.TEST_EVERY} of each digit held out (labs_py.digits.split)",
        "n_train": int(train.size), "n_test": int(test.size), "hidden": hidden, "epochs": epochs,
        "batch": digit_teacher.BATCH, "lr": digit_teacher.LR, "weight_decay": digit_teacher.WEIGHT_DECAY,
        "noise": digit_teacher.NOISE, "seed": digit_teacher.SEED, "recipe_sha256": recipe_sha256(),
        "accuracy_train": acc["train"], "accuracy_test": acc["test"], "numpy": np.__version__,
    }
    return {"format": digit_teacher.FORMAT, "sha256": digit_teacher.digest(P), "provenance": provenance,
            "weights": digit_teacher.encode(P)}


def up_to_date(path: Path) -> bool:
    """True when `path` loads, verifies, and was trained from the current data and recipe."""
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    prov = doc.get("provenance", {})
    if doc.get("format") != digit_teacher.FORMAT or prov.get("recipe_sha256") != recipe_sha256():
        return False
    try:
        digit_teacher.load.__wrapped__(path)
    except digit_teacher.TeacherMissingError:
        return False
    return True


def write(doc: dict, path: Path) -> None:
    """Write atomically, so a build and a test running at once never read half a file."""
    datafile.write_json(doc, path, sort_keys=True)


def ensure(force: bool = False, path: Path = digit_teacher.DATA) -> Path:
    """Train in a single-threaded child process unless the stored teacher is up to date; return its path."""
    if force or not up_to_date(path):
        subprocess.run([sys.executable, __file__, "--out", str(path)], check=True, env={**os.environ, **SINGLE_THREAD})
        digit_teacher.load.cache_clear()
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="train even when the stored teacher is up to date")
    parser.add_argument("--out", type=Path, help="train now, in this process, and write here (what `ensure` runs)")
    args = parser.parse_args()
    if args.out:
        write(build(), args.out)
        path = args.out
    else:
        path = ensure(args.force)
    doc = json.loads(path.read_text())
    print(f"{path}: {path.stat().st_size:,} bytes, weights sha256 {doc['sha256']}, "
          f"held-out accuracy {doc['provenance']['accuracy_test']:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
