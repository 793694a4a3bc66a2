"""digit_teacher: the forward pass against a per-image re-implementation, its gradient against finite
differences, and the stored weights checked against their sha256 (a tampered file is refused)."""

from __future__ import annotations

import base64
import json

import export_digits
import numpy as np
import pytest
import train_digit_teacher

from labs_py import digit_teacher, digits

export_digits.ensure()
train_digit_teacher.ensure()


def small(seed: int = 0, hidden: int = 6) -> dict[str, np.ndarray]:
    P = digit_teacher.init(np.random.default_rng(seed), hidden)
    P["b1"] = np.random.default_rng(seed + 1).standard_normal(hidden) * 0.1  # some units off, some on
    return P


def test_forward_equals_a_per_image_loop():
    P, X = small(), np.random.default_rng(3).random((5, 64))
    out = digit_teacher.forward(P, X)
    for i, x in enumerate(X):
        h = [max(0.0, sum(x[j] * P["W1"][j, u] for j in range(64)) + P["b1"][u]) for u in range(6)]
        logits = [sum(h[u] * P["W2"][u, k] for u in range(6)) + P["b2"][k] for k in range(10)]
        assert np.allclose(out[i], logits, rtol=1e-12, atol=1e-12)


def test_gradient_equals_finite_differences():
    P, rng = small(), np.random.default_rng(4)
    X, y = rng.random((8, 64)), rng.integers(0, 10, 8)
    Y = np.eye(10)[y]

    def loss(Q):
        z = digit_teacher.forward(Q, X)
        z = z - z.max(1, keepdims=True)
        ce = -np.mean(z[np.arange(8), y] - np.log(np.exp(z).sum(1)))
        return ce + 0.5 * digit_teacher.WEIGHT_DECAY * (np.sum(Q["W1"] ** 2) + np.sum(Q["W2"] ** 2))

    G = digit_teacher.grads(P, X, Y)
    for name in digit_teacher.NAMES:
        for idx in list(np.ndindex(P[name].shape))[:: max(1, P[name].size // 25)]:
            Q, R = {k: v.copy() for k, v in P.items()}, {k: v.copy() for k, v in P.items()}
            Q[name][idx] += 1e-6
            R[name][idx] -= 1e-6
            assert G[name][idx] == pytest.approx((loss(Q) - loss(R)) / 2e-6, rel=1e-5, abs=1e-9), (name, idx)


def test_stored_teacher_verifies_and_is_accurate():
    t = digit_teacher.load()
    assert t.sha256 == digit_teacher.digest(t.P) and len(t.sha256) == 64
    assert {k: v.shape for k, v in t.P.items()} == digit_teacher.shapes()
    X, y = digits.load()
    _, test = digits.split(y)
    acc = float(np.mean(digit_teacher.forward(t.P, X[test]).argmax(1) == y[test]))
    assert acc == pytest.approx(t.provenance["accuracy_test"], abs=1e-12) and acc > 0.95
    assert t.provenance["data_sha256"] == digits.SHA256


def test_tampered_or_missing_weights_are_refused(tmp_path):
    doc = json.loads(digit_teacher.DATA.read_text())
    w = np.frombuffer(base64.b64decode(doc["weights"]["b2"]), "<f4").copy()
    w[0] += 1.0
    doc["weights"]["b2"] = base64.b64encode(w.tobytes()).decode()
    bad = tmp_path / "teacher.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(digit_teacher.TeacherMissingError, match="sha256"):
        digit_teacher.load.__wrapped__(bad)
    with pytest.raises(digit_teacher.TeacherMissingError, match="train_digit_teacher"):
        digit_teacher.load.__wrapped__(tmp_path / "absent.json")
