"""teacher: the derived data reproduces the raw GPT-2 arrays exactly — bucketed softmax at every grid T,
the 345M reference, the full-vocabulary entropy — and GLTR contexts are renormalised top-20 sets."""

from __future__ import annotations

import json

import derive_teacher
import numpy as np
import pytest
from scipy import special, stats

from labs_py import kd, teacher

derive_teacher.ensure()
PATHS = derive_teacher.input_paths()
Z117 = np.load(PATHS["logits"])[0].astype(np.float64)  # (14, V)
Z345 = np.load(PATHS["logits_ref"])[0].astype(np.float64)  # (14, V)
GLUON = [c for c in teacher.load().contexts if c.source == "gluon"]
GLTR = [c for c in teacher.load().contexts if c.source == "gltr"]
GRID_SAMPLE = (0.5, 0.7, 1.0, 2.0, 3.3, 6.1, 10.0)


def raw_buckets(z: np.ndarray, ctx: teacher.Context, T: float) -> np.ndarray:
    """Oracle: softmax over all 50,257 logits, then the listed tokens and the sum over everything else."""
    p = special.softmax(z / T)
    listed = p[ctx.token_ids]
    return np.append(listed, 1.0 - listed.sum() if ctx.tail_size else [])


def test_contexts_cover_every_position_of_the_sentence_and_the_gltr_picks():
    assert [c.key for c in GLUON] == [f"g{t}" for t in range(14)]
    assert [c.key for c in GLTR] == [f"{d[0]}{p}" for d, p in derive_teacher.GLTR_CONTEXTS]
    assert all(c.label.startswith("top-20 only") for c in GLTR)
    assert all(c.n == len(c.tokens) + 1 and c.tail_size == 50257 - len(c.tokens) for c in GLUON)
    assert all(c.n == len(c.tokens) and c.tail_size == 0 and c.tail_lse is None for c in GLTR)


def test_top_token_after_tools_such_is_as_with_p_0995():
    ctx = teacher.context("g4")
    assert ctx.prefix == " natural language processing tools such"
    assert ctx.tokens[0] == " as" and teacher.shown(ctx.tokens[0]) == "␣as"
    p = np.exp(teacher.teacher_log_probs(ctx, 1.0))
    assert p[0] == pytest.approx(0.995, abs=5e-4)
    assert p[0] == pytest.approx(special.softmax(Z117[4])[355], rel=1e-12)  # 355 = " as"
    assert ctx.y == 0 and ctx.y_rank == 1  # " as" is also what came next


@pytest.mark.parametrize("T", GRID_SAMPLE)
def test_bucketed_teacher_equals_the_full_softmax(T):
    for ctx in GLUON:
        t = int(ctx.key[1:])
        assert np.allclose(np.exp(teacher.teacher_log_probs(ctx, T)), raw_buckets(Z117[t], ctx, T), rtol=1e-9, atol=1e-15)
        assert np.allclose(np.exp(teacher.reference_log_probs(ctx, T)), raw_buckets(Z345[t], ctx, T), rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("T", GRID_SAMPLE)
def test_full_vocabulary_entropy_and_the_345m_reference(T):
    for ctx in GLUON[::3]:
        t = int(ctx.key[1:])
        assert teacher.vocab_entropy(ctx, T) == pytest.approx(stats.entropy(special.softmax(Z117[t] / T)), rel=1e-9)
        kl = kd.kl(teacher.reference_log_probs(ctx, T), teacher.teacher_log_probs(ctx, T))
        assert kl == pytest.approx(stats.entropy(raw_buckets(Z345[t], ctx, T), raw_buckets(Z117[t], ctx, T)), rel=1e-7, abs=1e-15)
        full = stats.entropy(special.softmax(Z345[t] / T), special.softmax(Z117[t] / T))
        assert teacher.reference_kl_vocab(ctx, T) == pytest.approx(full, rel=1e-9, abs=1e-15)
        assert kl <= full + 1e-15  # merging tokens into buckets can only hide disagreement


def test_buckets_hold_the_top_k_and_the_true_next_token():
    for ctx in GLUON:
        t = int(ctx.key[1:])
        order = np.argsort(-Z117[t], kind="stable")
        assert ctx.top_k == derive_teacher.K
        assert list(ctx.token_ids[:ctx.top_k]) == list(order[:ctx.top_k])
        assert np.allclose(ctx.z, Z117[t][ctx.token_ids]) and np.allclose(ctx.z_ref, Z345[t][ctx.token_ids])
        if t < 13:
            true_id = derive_teacher.encode(derive_teacher.SENTENCE, json.loads(PATHS["vocab"].read_text()))[t + 1]
            assert ctx.token_ids[ctx.y] == true_id
            assert ctx.y_rank == 1 + int(np.sum(Z117[t] > Z117[t][true_id]))
            assert (ctx.y < ctx.top_k) == (ctx.y_rank <= ctx.top_k)
        else:
            assert ctx.y is None and ctx.y_rank is None


def test_gltr_contexts_are_renormalised_within_the_published_set():
    doc = json.loads(PATHS["woodchuck"].read_text())["result"]
    ctx = teacher.context("w15")
    published = {s: p for s, p in doc["pred_topk"][15]}
    assert ctx.prefix == "How much wood would a woodchuck chuck if a woodchuck could"
    assert ctx.tokens[ctx.y] == " chuck" and ctx.y_rank == 2
    p = np.array([published["Ġ" + tok[1:] if tok.startswith(" ") else tok] for tok in ctx.tokens])
    for T in (0.5, 1.0, 4.0):
        q = p ** (1 / T)
        assert np.allclose(np.exp(teacher.teacher_log_probs(ctx, T)), q / q.sum(), rtol=1e-12)
    assert ctx.top_mass == pytest.approx(sum(published.values()), rel=1e-12)
    assert teacher.reference_log_probs(ctx, 1.0) is None and teacher.vocab_entropy(ctx, 1.0) is None
    assert teacher.reference_kl_vocab(ctx, 1.0) is None


def test_multibyte_token_is_decoded():
    ctx = teacher.context("u106")
    assert ctx.prefix.endswith("Dr. Jorge P")
    assert "é" in ctx.tokens and ctx.tokens[ctx.y] == "é"  # one token for the two UTF-8 bytes C3 A9


def test_log_m_counts_the_rest_bucket():
    ctx = teacher.context("g0")
    assert ctx.log_m[-1] == pytest.approx(np.log(ctx.tail_size)) and not ctx.log_m[:-1].any()
    assert not teacher.context("w4").log_m.any()


def test_grid_and_shown():
    assert teacher.T_GRID.size == 96 and teacher.T_GRID[0] == 0.5 and teacher.T_GRID[-1] == 10.0
    assert teacher.grid_index(0.5) == 0 and teacher.grid_index(2.0) == 15 and teacher.grid_index(10.0) == 95
    for bad in (0.55, 0.4, 10.1, 2.0 + 1e-6):
        with pytest.raises(ValueError, match="not on the stored grid"):
            teacher.grid_index(bad)
    assert teacher.shown(" as") == "␣as" and teacher.shown("\n\n") == "↵↵" and teacher.shown("") == "∅"


def test_missing_or_stale_data_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"derive_teacher\.py"):
        teacher.load(tmp_path / "none.json")
    stale = json.loads(teacher.DATA.read_text())
    stale["format"] = teacher.FORMAT + 1
    (tmp_path / "stale.json").write_text(json.dumps(stale))
    with pytest.raises(ValueError, match="stale"):
        teacher.load(tmp_path / "stale.json")
    with pytest.raises(KeyError):
        teacher.context("nope")


def test_context_menu_is_known_without_the_data():
    assert tuple((c.key, c.label) for c in teacher.load().contexts) == teacher.CONTEXTS
