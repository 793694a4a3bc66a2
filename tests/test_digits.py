"""digits + scripts/export_digits.py: the exported data is scikit-learn's digits file, bit for bit.

Oracle: scikit-learn's own loader (`sklearn.datasets.load_digits`), used only here.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import export_digits

from labs_py import digits

export_digits.ensure()


def test_exported_data_has_the_expected_sha256_and_shape():
    pixels, labels, _ = digits._raw()
    assert pixels.shape == (1797, 64) and labels.shape == (1797,)
    assert hashlib.sha256(pixels.tobytes() + labels.tobytes()).hexdigest() == digits.SHA256
    doc = json.loads(digits.DATA.read_text())
    assert doc["provenance"]["data_sha256"] == digits.SHA256
    assert doc["provenance"]["path"] == "sklearn/datasets/data/digits.csv.gz"
    assert doc["provenance"]["file_sha256"] == hashlib.sha256(export_digits.source_path().read_bytes()).hexdigest()


def test_load_equals_scikit_learns_loader():
    from sklearn.datasets import load_digits

    ref = load_digits()
    X, y = digits.load()
    assert np.array_equal(X * 16, ref.data) and np.array_equal(y, ref.target)
    assert X.dtype == np.float64 and y.dtype == np.int64 and X.min() == 0 and X.max() == 1


def test_split_is_fixed_disjoint_and_stratified():
    _, y = digits.load()
    train, test = digits.split(y)
    assert np.intersect1d(train, test).size == 0 and train.size + test.size == y.size
    for c in range(10):  # every third image of each digit, by file order
        idx = np.flatnonzero(y == c)
        assert np.array_equal(np.intersect1d(test, idx), idx[2::3])


def test_missing_file_says_what_to_run(tmp_path, monkeypatch):
    monkeypatch.setattr(digits, "DATA", tmp_path / "absent.json")
    digits._raw.cache_clear()
    try:
        assert not digits.available()
        with pytest.raises(digits.DigitsMissingError, match=r"export_digits\.py"):
            digits.load()
    finally:
        monkeypatch.undo()
        digits._raw.cache_clear()


def test_tampered_file_is_refused_and_re_exported(tmp_path):
    path = tmp_path / "digits.json"
    export_digits.ensure(path=path)
    first = path.read_bytes()
    doc = json.loads(first)
    doc["provenance"]["data_sha256"] = "0" * 64
    path.write_text(json.dumps(doc))
    assert not export_digits.up_to_date(path)
    export_digits.ensure(path=path)
    assert path.read_bytes() == first  # deterministic: the same input gives the same bytes
