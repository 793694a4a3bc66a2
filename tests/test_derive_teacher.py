"""derive_teacher: verified inputs, GPT-2's byte-level BPE against gluon-nlp's published tokenisation,
exact tail sums, GLTR clean-up, and a deterministic, fast, incremental derivation."""

from __future__ import annotations

import hashlib
import json
import time

import derive_teacher as dt
import fetch_assets
import numpy as np
import pytest
from scipy import special

from labs_py import teacher

# gluon-nlp's test_gpt2_transforms (tests/unittest/test_transforms.py): the sentence's subwords and ids.
GLUON_SUBWORDS = ["Ġnatural", "Ġlanguage", "Ġprocessing", "Ġtools", "Ġsuch", "Ġas", "Ġgl", "u", "on", "nl", "p", "Ġand",
                  "Ġtorch", "text"]
GLUON_IDS = [3288, 3303, 7587, 4899, 884, 355, 1278, 84, 261, 21283, 79, 290, 28034, 5239]
SUMS = fetch_assets.DEFAULT_MIRROR / "gpt2" / "SHA256SUMS"


@pytest.fixture(scope="module")
def encoder() -> dict[str, int]:
    return json.loads(dt.input_paths()["vocab"].read_text(encoding="utf-8"))


def test_117m_logits_have_the_published_shape_and_sha256():
    path = dt.input_paths()["logits"]
    a = np.load(path)
    assert a.shape == (1, 14, 50257) and a.dtype == np.float32
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    manifest = {x["name"]: x for x in fetch_assets.load_manifest()["artifacts"]}
    assert digest == manifest["gpt2-117M-logits"]["sha256"]
    if not SUMS.exists():
        pytest.skip("the mirror's SHA256SUMS is not on this machine")
    sums = dict(line.split()[::-1] for line in SUMS.read_text().splitlines() if line.strip())
    assert digest == sums["117M_gt_logits.npy"]
    assert hashlib.sha256(dt.input_paths()["logits_ref"].read_bytes()).hexdigest() == sums["345M_gt_logits.npy"]


def test_sentence_encodes_as_gluon_nlp_published_and_round_trips(encoder):
    ids = dt.encode(dt.SENTENCE, encoder)
    assert ids == GLUON_IDS
    vocab = sorted(encoder, key=encoder.get)
    assert [vocab[i] for i in ids] == GLUON_SUBWORDS
    assert dt.decode(ids, vocab) == dt.SENTENCE
    assert [dt.token_text(vocab[i]) for i in ids] == [s.replace("Ġ", " ") for s in GLUON_SUBWORDS]
    assert "".join(dt.token_text(vocab[i]) for i in ids) == dt.SENTENCE


def test_byte_table_is_gpt2s(encoder):
    table = dt.byte_decoder()
    assert sorted(table.values()) == list(range(256))  # a bijection onto the 256 bytes
    assert table["Ġ"] == 32 and table["Ċ"] == 10 and table["ĉ"] == 9 and table["!"] == 33
    assert all(ch in encoder for ch in table)  # every byte symbol is a vocabulary entry
    assert dt.token_text("Ã©") == "é" and dt.token_text("Ã") == "\\xc3"


@pytest.mark.parametrize("demo", ["unicorn", "woodchuck"])
def test_encoder_reproduces_the_tokenisation_gltr_published(demo, encoder):
    """GLTR's files hold their text and its GPT-2 tokens: newlines, quotes, 'é', apostrophes and all."""
    doc = json.loads(dt.input_paths()[demo].read_text(encoding="utf-8"))
    vocab = sorted(encoder, key=encoder.get)
    ids = dt.encode(doc["request"]["text"], encoder)
    assert [vocab[i] for i in ids] == doc["result"]["bpe_strings"][1:]  # [0] is <|endoftext|>
    assert dt.decode(ids, vocab) == doc["request"]["text"]


def test_tail_sums_match_scipy():
    z = np.random.default_rng(0).standard_normal(5000) * 8 - 40
    lse, mean = dt.tail_sums(z)
    for i, T in enumerate(teacher.T_GRID.tolist()):
        assert lse[i] == pytest.approx(special.logsumexp(z / T), rel=1e-13)
        assert mean[i] == pytest.approx(special.softmax(z / T) @ (z / T), rel=1e-11)


def test_gltr_drops_unmappable_and_zero_entries_and_adds_the_true_token(encoder):
    vocab = sorted(encoder, key=encoder.get)
    pred = [["Ġthe", 0.5], ["Ċ ", 0.2], ["Ġa", 0.1], ["Ġzzzz-not-a-token", 0.05], ["Ġof", 0.0]]
    doc = {"result": {"bpe_strings": ["<|endoftext|>", "The", "Ġcat"], "pred_topk": [[], pred],
                      "real_topk": [[0, 0.1], [41, 0.003]]}}
    ctx = dt.gltr_context("demo", 1, doc, encoder, vocab)
    assert ctx["tokens"] == [" the", " a", " cat"]
    assert ctx["top_k"] == 2 and ctx["y"] == 2 and ctx["y_rank"] == 42
    assert np.allclose(ctx["z"], np.log([0.5, 0.1, 0.003]))
    assert ctx["top_mass"] == pytest.approx(0.6)
    assert "3 of the published top-20 could not be used" in ctx["note"]
    assert ctx["prefix"] == "The"


def test_derivation_is_deterministic_and_provenance_comes_from_the_manifest():
    a, b = dt.derive(), dt.derive()
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    src = a["sources"]
    assert src["gluon"]["project"] == "dmlc/gluon-nlp" and src["gluon"]["commit"].startswith("2c5420e")
    assert src["gltr"]["project"] == "HendrikStrobelt/detecting-fake-text" and src["gltr"]["commit"].startswith("9827483")
    assert src["gluon"]["licence"] == src["gltr"]["licence"] == "Apache-2.0" and src["vocab"]["licence"] == "MIT"
    assert a["sentence_ids"] == GLUON_IDS and a["vocab_size"] == 50257


def test_ensure_rewrites_only_when_stale(tmp_path):
    path = tmp_path / "teacher.json"
    started = time.perf_counter()
    dt.ensure(path=path)
    assert time.perf_counter() - started < 20  # the build runs it: seconds, not minutes
    stamp = path.stat().st_mtime_ns
    started = time.perf_counter()
    dt.ensure(path=path)
    assert time.perf_counter() - started < 2 and path.stat().st_mtime_ns == stamp  # up to date: untouched
    path.write_text("{broken")
    dt.ensure(path=path)
    assert json.loads(path.read_text())["format"] == teacher.FORMAT
    teacher.load.cache_clear()


def test_a_corrupted_input_is_refused(monkeypatch):
    arts = dt.artifacts()
    arts["logits"] = {**arts["logits"], "sha256": "0" * 64}
    monkeypatch.setattr(dt, "artifacts", lambda: arts)
    with pytest.raises(dt.DeriveError, match="does not match"):
        dt.verified_hashes()
