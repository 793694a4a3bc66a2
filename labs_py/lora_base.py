"""The LoRA Lab's two tasks and its base model: digits 0–4 (task A) learned first, digits 5–9 (task B) next.

Why: fine-tuning needs a model that already knows something. The base MLP (labs_py.lora_mlp) is
pretrained on task A at build time (`scripts/pretrain_lora_base.py`, deterministic and seeded) and
stored in `_data/lora_base.json` with the sha256 of its weights, so the build's snapshot and the
browser start from the same numbers. Task B is what the reader fine-tunes it on.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from labs_py import digits
from labs_py import lora_mlp as mlp
from labs_py.adam import Adam

DATA = Path(__file__).with_name("_data") / "lora_base.json"
FORMAT = 1
TASK_A = np.arange(0, 5)  # digits the base model learns
TASK_B = np.arange(5, 10)  # digits the reader fine-tunes on
ORDER = ("W1", "b1", "W2", "b2", "W3", "b3")  # how the weights are laid out in the file
PRETRAIN = {"seed": 0, "steps": 400, "batch": 64, "lr": 0.003}  # Adam with warm-up + cosine, on task A's training images
HOW_TO_MAKE = "run `python scripts/pretrain_lora_base.py` (after `python scripts/export_digits.py`), or build the site"


class BaseMissingError(FileNotFoundError):
    """The pretrained base model (or the digits data) is absent: the message says what to run."""


@dataclass(frozen=True)
class Task:
    """Training and held-out images of one task: X (n, 64) in [0, 1], y (n,) digits."""

    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: np.ndarray  # the digits of the task; accuracy is a choice among them


@lru_cache(maxsize=1)
def tasks() -> tuple[Task, Task]:
    """(A, B) from the fixed digits split (labs_py.digits.split)."""
    try:
        X, y = digits.load()
    except digits.DigitsMissingError as exc:
        raise BaseMissingError(str(exc)) from None
    train, test = digits.split(y)

    def task(classes: np.ndarray) -> Task:
        tr, te = train[np.isin(y[train], classes)], test[np.isin(y[test], classes)]
        return Task(X[tr], y[tr], X[te], y[te], classes)

    return task(TASK_A), task(TASK_B)


def pretrain() -> mlp.Params:
    """The base model: He init, then Adam on task A's training images; weights rounded to float32 for storage."""
    A, _ = tasks()
    p = mlp.init(np.random.default_rng(PRETRAIN["seed"]))
    opt = Adam.like(p)
    batches = mlp.batches(A.y.size, PRETRAIN["batch"], PRETRAIN["seed"])
    for t in range(1, PRETRAIN["steps"] + 1):
        i = next(batches)
        _, g = mlp.loss_and_grads(p, A.X[i], A.y[i])
        opt.update(p, g, mlp.learning_rate(t, PRETRAIN["lr"], PRETRAIN["steps"]))
    return {k: p[k].astype(np.float32).astype(np.float64) for k in ORDER}


def digest(p: mlp.Params) -> str:
    """sha256 of the weights as float32, in ORDER."""
    return hashlib.sha256(b"".join(np.ascontiguousarray(p[k], np.float32).tobytes() for k in ORDER)).hexdigest()


def encode(p: mlp.Params) -> dict:
    """The JSON document for `p`: format, shapes, float32 weights as base64, their sha256, how they were made."""
    A, _ = tasks()
    return {"format": FORMAT, "sizes": list(mlp.SIZES), "pretrain": PRETRAIN, "digits_sha256": digits.SHA256,
            "sha256": digest(p), "test_accuracy_A": mlp.accuracy(p, A.X_test, A.y_test, A.classes),
            "weights": {k: base64.b64encode(np.ascontiguousarray(p[k], np.float32).tobytes()).decode() for k in ORDER}}


@lru_cache(maxsize=1)
def load() -> mlp.Params:
    """The stored base model (float64 copies of the float32 weights), verified against its sha256."""
    try:
        doc = json.loads(DATA.read_text())
    except (OSError, ValueError) as exc:
        raise BaseMissingError(f"base model not found at {DATA} ({exc.__class__.__name__}): {HOW_TO_MAKE}") from None
    if doc.get("format") != FORMAT or doc.get("sizes") != list(mlp.SIZES):
        raise BaseMissingError(f"{DATA} is stale (format or sizes differ): {HOW_TO_MAKE}")
    shapes = {k: v.shape for k, v in mlp.init(np.random.default_rng(0)).items()}
    p = {k: np.frombuffer(base64.b64decode(doc["weights"][k]), np.float32).astype(np.float64).reshape(shapes[k])
         for k in ORDER}
    if digest(p) != doc["sha256"]:
        raise BaseMissingError(f"{DATA}: weights do not match their sha256: {HOW_TO_MAKE}")
    return p


@lru_cache(maxsize=1)
def sha256() -> str:
    """The stored base model's sha256 (shown on the lab page)."""
    return digest(load())
