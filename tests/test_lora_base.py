"""lora_base + scripts/pretrain_lora_base.py: the stored base model, its sha256, its tasks and its accuracy.

Oracle for accuracy: a direct re-implementation of the network with einsum, independent of lora_mlp.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import pretrain_lora_base

from labs_py import lora_base

pretrain_lora_base.ensure()


def predict(p: dict, X: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """The network written out again: two ReLU layers and the head, argmax among `classes`."""
    h = np.maximum(np.einsum("dk,nk->nd", p["W1"], X) + p["b1"], 0)
    h = np.maximum(np.einsum("dk,nk->nd", p["W2"], h) + p["b2"], 0)
    z = np.einsum("dk,nk->nd", p["W3"], h) + p["b3"]
    return classes[np.argmax(z[:, classes], axis=1)]


def test_tasks_split_the_digits():
    A, B = lora_base.tasks()
    assert set(A.y.tolist()) == set(A.y_test.tolist()) == {0, 1, 2, 3, 4}
    assert set(B.y.tolist()) == set(B.y_test.tolist()) == {5, 6, 7, 8, 9}
    assert A.y.size + A.y_test.size + B.y.size + B.y_test.size == 1797
    assert (A.y_test.size, B.y_test.size) == (299, 297)


def test_stored_base_matches_its_sha256_and_retraining():
    doc = json.loads(lora_base.DATA.read_text())
    p = lora_base.load()
    assert lora_base.digest(p) == doc["sha256"] == lora_base.sha256()
    assert {k: v.shape for k, v in p.items()} == {"W1": (64, 64), "b1": (64,), "W2": (64, 64), "b2": (64,),
                                                  "W3": (10, 64), "b3": (10,)}
    again = lora_base.pretrain()  # deterministic: seeded init, seeded minibatches
    assert all(np.array_equal(again[k], p[k]) for k in p)


def test_base_knows_task_a_and_not_task_b():
    A, B = lora_base.tasks()
    p = lora_base.load()
    acc_A = np.mean(predict(p, A.X_test, A.classes) == A.y_test)
    assert acc_A == pytest.approx(json.loads(lora_base.DATA.read_text())["test_accuracy_A"], abs=1e-15)
    assert acc_A > 0.95
    assert np.mean(predict(p, B.X_test, B.classes) == B.y_test) < 0.4  # never trained on 5–9


def test_missing_base_says_what_to_run(tmp_path, monkeypatch):
    monkeypatch.setattr(lora_base, "DATA", tmp_path / "absent.json")
    lora_base.load.cache_clear()
    try:
        with pytest.raises(lora_base.BaseMissingError, match=r"pretrain_lora_base\.py"):
            lora_base.load()
    finally:
        monkeypatch.undo()
        lora_base.load.cache_clear()
