"""scripts/train_digit_teacher.py: training is deterministic, the file records what it was trained from,
and `ensure` keeps an up-to-date file and retrains a stale one."""

from __future__ import annotations

import base64
import json

import export_digits
import numpy as np
import train_digit_teacher

from labs_py import digit_teacher, digits

export_digits.ensure()


def test_training_is_deterministic_and_recorded():
    a, b = train_digit_teacher.build(epochs=1, hidden=8), train_digit_teacher.build(epochs=1, hidden=8)
    assert a == b
    prov = a["provenance"]
    assert prov["data_sha256"] == digits.SHA256 and prov["hidden"] == 8 and prov["epochs"] == 1
    assert prov["n_train"] + prov["n_test"] == 1797 and prov["recipe_sha256"] == train_digit_teacher.recipe_sha256()
    P = {k: np.frombuffer(base64.b64decode(a["weights"][k]), "<f4").astype(float).reshape(s)
         for k, s in digit_teacher.shapes(8).items()}
    assert digit_teacher.digest(P) == a["sha256"]


def test_ensure_keeps_an_up_to_date_file_and_retrains_a_stale_one(tmp_path, monkeypatch):
    path = tmp_path / "digit_teacher.json"
    train_digit_teacher.write(train_digit_teacher.build(epochs=1, hidden=8), path)
    assert train_digit_teacher.up_to_date(path)
    calls = []
    monkeypatch.setattr(train_digit_teacher.subprocess, "run", lambda *a, **k: calls.append(a))
    before = path.read_bytes()
    train_digit_teacher.ensure(path=path)
    assert calls == [] and path.read_bytes() == before
    doc = json.loads(before)
    doc["provenance"]["recipe_sha256"] = "0" * 64  # the recipe changed since
    path.write_text(json.dumps(doc))
    assert not train_digit_teacher.up_to_date(path)
    train_digit_teacher.ensure(path=path)
    assert len(calls) == 1 and calls[0][0][-2:] == ["--out", str(path)]
