"""The Distillation Lab's digit teacher: a 64 → 128 → 10 ReLU network trained at build time.

Why: Hinton, Vinyals & Dean (2015, §3) distil a large, well-regularised network into a smaller one.
Here the teacher is trained once by the build (`scripts/train_digit_teacher.py`) on the digits'
training split, with Gaussian pixel noise and weight decay as its regularisers, and stored in
`_data/digit_teacher.json` as float32 weights with their sha256. The browser never trains it: it
only runs `forward`. Training is seeded and single-threaded, so the same inputs give the same file.
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
from labs_py.adam import Adam
from labs_py.kd import log_softmax

DATA = Path(__file__).with_name("_data") / "digit_teacher.json"
FORMAT = 1  # bumped whenever the JSON layout changes; the build retrains stale data
D_IN, HIDDEN, CLASSES = 64, 128, 10  # 8×8 pixels → 128 ReLU units → 10 digits
EPOCHS = 100  # passes over the 1,201 training images
BATCH = 64
LR = 1e-3  # Adam, β₁ = 0.9, β₂ = 0.999
WEIGHT_DECAY = 1e-4  # L2 pull on the weights, added to the gradient
NOISE = 0.1  # std of Gaussian noise added to every pixel (scaled 0–1) in every batch: augmentation
SEED = 150302531  # arXiv 1503.02531, Hinton et al.
NAMES = ("W1", "b1", "W2", "b2")
HOW_TO_TRAIN = "run `python scripts/train_digit_teacher.py` (the site build does)"


class TeacherMissingError(FileNotFoundError):
    """The trained weights are absent, stale or do not verify: the message says what to run."""


def shapes(hidden: int = HIDDEN) -> dict[str, tuple[int, ...]]:
    """Shape of each parameter."""
    return {"W1": (D_IN, hidden), "b1": (hidden,), "W2": (hidden, CLASSES), "b2": (CLASSES,)}


def init(rng: np.random.Generator, hidden: int = HIDDEN) -> dict[str, np.ndarray]:
    """He-initialised weights, zero biases."""
    return {"W1": rng.standard_normal((D_IN, hidden)) * np.sqrt(2 / D_IN), "b1": np.zeros(hidden),
            "W2": rng.standard_normal((hidden, CLASSES)) * np.sqrt(1 / hidden), "b2": np.zeros(CLASSES)}


def forward(P: dict[str, np.ndarray], X: np.ndarray) -> np.ndarray:
    """Teacher logits v (n, 10) for images X (n, 64)."""
    h = np.maximum(X @ P["W1"] + P["b1"], 0.0)  # (n, hidden)
    return h @ P["W2"] + P["b2"]  # (n, 10)


def grads(P: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray) -> dict[str, np.ndarray]:
    """Gradient of the mean cross-entropy (one-hot Y (n, 10)) plus the weight-decay term."""
    h = np.maximum(X @ P["W1"] + P["b1"], 0.0)  # (n, hidden)
    g = (np.exp(log_softmax(h @ P["W2"] + P["b2"])) - Y) / len(X)  # (n, 10) ∂L/∂v
    gh = (g @ P["W2"].T) * (h > 0)  # (n, hidden)
    return {"W1": X.T @ gh + WEIGHT_DECAY * P["W1"], "b1": gh.sum(0),
            "W2": h.T @ g + WEIGHT_DECAY * P["W2"], "b2": g.sum(0)}


def train(X: np.ndarray, y: np.ndarray, *, epochs: int = EPOCHS, hidden: int = HIDDEN, seed: int = SEED) -> dict[str, np.ndarray]:
    """Minibatch Adam on noisy copies of the training images; returns float32-rounded weights."""
    rng = np.random.default_rng(seed)
    P = init(rng, hidden)
    opt = Adam.like(P)
    Y = np.eye(CLASSES)[y]  # (n, 10)
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for start in range(0, len(y), BATCH):
            batch = order[start:start + BATCH]
            xb = X[batch] + NOISE * rng.standard_normal((len(batch), D_IN))
            opt.update(P, grads(P, xb, Y[batch]), LR)
    return {k: P[k].astype(np.float32).astype(np.float64) for k in NAMES}


def digest(P: dict[str, np.ndarray]) -> str:
    """sha256 of the weights as float32, little-endian, in the order W1, b1, W2, b2."""
    return hashlib.sha256(b"".join(np.asarray(P[k], "<f4").tobytes() for k in NAMES)).hexdigest()


def encode(P: dict[str, np.ndarray]) -> dict[str, str]:
    """Each parameter as base64 float32 little-endian (the JSON layout)."""
    return {k: base64.b64encode(np.asarray(P[k], "<f4").tobytes()).decode() for k in NAMES}


@dataclass(frozen=True)
class Teacher:
    """The trained weights and where they came from (shown on the lab page)."""

    P: dict
    sha256: str  # of the weights (`digest`)
    provenance: dict  # data sha256, split, recipe, accuracies


@lru_cache(maxsize=1)
def load(path: Path = DATA) -> Teacher:
    """The trained teacher, its weights checked against the sha256 stored with them."""
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise TeacherMissingError(f"digit teacher not found at {path} ({exc.__class__.__name__}): {HOW_TO_TRAIN}") from None
    if doc.get("format") != FORMAT or doc.get("provenance", {}).get("data_sha256") != digits.SHA256:
        raise TeacherMissingError(f"{path} is stale (format or data changed): {HOW_TO_TRAIN}")
    P = {k: np.frombuffer(base64.b64decode(doc["weights"][k]), "<f4").astype(np.float64).reshape(shape)
         for k, shape in shapes(doc["provenance"]["hidden"]).items()}
    if digest(P) != doc["sha256"]:
        raise TeacherMissingError(f"{path}: the weights do not match their sha256: {HOW_TO_TRAIN}")
    return Teacher(P, doc["sha256"], doc["provenance"])
