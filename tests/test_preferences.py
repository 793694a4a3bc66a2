"""The assembled preference data, the hidden true reward and the simulated annotators, against the texts themselves."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.special import expit
from scipy.stats import binomtest

from labs_py import preferences as pref

COL = {f: k for k, f in enumerate(pref.FEATURES)}


def parts_of(prompt_index: int) -> pref.Parts:
    return pref.PARTS[prompt_index]


def test_twenty_prompts_six_held_out_and_many_answers_each():
    assert len(pref.PROMPTS) == 20 and sum(p.held_out for p in pref.PROMPTS) == 6
    for p, parts in zip(pref.PROMPTS, pref.PARTS, strict=True):
        assert len(p.responses) == (48 if parts.unsafe else 32)
    assert len({r.id for r in pref.RESPONSES}) == len(pref.RESPONSES)
    assert all(r.id.startswith(p.id + ".") for p in pref.PROMPTS for r in p.responses)


def test_features_are_facts_about_the_text():
    """Each feature is read back from the text: which core, whether the detail and hedges are there, pleasantries, words."""
    for pi, p in enumerate(pref.PROMPTS):
        parts = parts_of(pi)
        for r in p.responses:
            t = r.text
            phi = dict(zip(pref.FEATURES, r.phi, strict=True))
            core = "u" if parts.unsafe and parts.unsafe in t else ("w" if parts.wrong in t else "r")
            assert (parts.right in t) == (core == "r")
            assert phi["correct"] == (core != "w") and phi["unsafe"] == (core == "u")
            assert phi["detail"] == (parts.detail in t)
            assert phi["hedged"] == all(h in t for h in pref.HEDGES) == any(h in t for h in pref.HEDGES)
            pleasantries = sum(pad in t for pad, warm in zip(pref.PADS, pref.WARM_PADS, strict=True) if warm)
            assert phi["warm"] == pleasantries / 2
            assert phi["length"] == pytest.approx(len(t.split()) / 50, abs=0.005)


def test_features_trade_off():
    """Longer answers are not simply better or worse: length goes with detail (good), padding and doubt (bad)."""
    corr = np.corrcoef(pref.PHI.T)
    assert corr[COL["length"], COL["detail"]] > 0.2
    assert corr[COL["length"], COL["hedged"]] > 0.2
    assert corr[COL["length"], COL["warm"]] > 0.2


def test_true_reward_transcribed():
    """r* = W_TRUE·φ + the core's hidden quality − PAD_COST per padding sentence, recomputed from the text."""
    quality = pref._quality()
    for pi, p in enumerate(pref.PROMPTS):
        for r in p.responses:
            pads = sum(pad in r.text for pad in pref.PADS)
            expected = float(np.dot(pref.W_TRUE, r.phi)) + quality[pi][r.id.split(".")[1][0]] - pref.PAD_COST * pads
            assert r.true == pytest.approx(expected, abs=1e-12)
    assert np.array_equal(pref.annotator_reward("careful"), pref.TRUE)


def test_reference_policy_is_a_distribution_per_prompt_favouring_plain_answers():
    sums = np.add.reduceat(np.exp(pref.LOGP_REF), pref.STARTS)
    assert np.allclose(sums, 1.0, atol=1e-12)
    r = pref.PROMPTS[0].responses
    plain = next(x for x in r if x.id.endswith("r000"))
    padded = next(x for x in r if x.id.endswith("r113"))
    assert plain.base > 20 * padded.base


def test_held_out_pairs_are_at_least_100_and_labelled_by_the_true_reward():
    ia, ib, y = pref.HELD_OUT
    assert len(y) >= 100
    held_rows = {pref.INDEX[r.id] for p in pref.PROMPTS if p.held_out for r in p.responses}
    assert set(ia.tolist()) | set(ib.tolist()) <= held_rows
    for a, b, label in zip(ia, ib, y, strict=True):
        assert pref.PROMPT_OF[a] == pref.PROMPT_OF[b]
        assert label == (1.0 if pref.RESPONSES[a].true > pref.RESPONSES[b].true else -1.0)
    assert len({frozenset((int(a), int(b))) for a, b in zip(ia, ib, strict=True)}) == len(y)
    assert 0.3 < np.mean(y > 0) < 0.7


def test_training_order_is_distinct_training_pairs_with_mixed_sides():
    got = [frozenset(map(int, row)) for row in pref.TRAINING_ORDER]
    assert len(got) == len(set(got)) == pref.N_ORDER
    train = {frozenset((a, b)) for pi, p in enumerate(pref.PROMPTS) if not p.held_out
             for a, b in itertools.combinations(pref.rows_of(pi).tolist(), 2)}
    assert set(got) <= train
    assert 0.4 < np.mean(pref.TRAINING_ORDER[:, 0] > pref.TRAINING_ORDER[:, 1]) < 0.6


def test_noiseless_annotators_follow_their_reward():
    ia, ib = pref.TRAINING_ORDER[:, 0], pref.TRAINING_ORDER[:, 1]
    for name in pref.ANNOTATORS:
        r = pref.annotator_reward(name)
        y = pref.annotate(r, ia, ib, 0.0, np.random.default_rng(0))
        assert np.array_equal(y, np.where(r[ia] > r[ib], 1.0, -1.0)), name
    longer = pref.annotator_reward("longer")
    assert np.array_equal(longer, 0.3 * pref.TRUE + 3 * pref.PHI[:, COL["length"]])


def test_noisy_annotator_is_a_bradley_terry_rater():
    """P(A ≻ B) = σ((r_A − r_B) / noise): checked on four pairs with 20,000 draws each (binomial test)."""
    r = pref.annotator_reward("careful")
    ia, ib = pref.TRAINING_ORDER[:4, 0], pref.TRAINING_ORDER[:4, 1]
    rng = np.random.default_rng(42)
    n = 20_000
    for noise in (0.5, 2.0):
        y = pref.annotate(r, np.repeat(ia, n), np.repeat(ib, n), noise, rng).reshape(4, n)
        for k in range(4):
            p = float(expit((r[ia[k]] - r[ib[k]]) / noise))
            assert binomtest(int(np.sum(y[k] > 0)), n, p).pvalue > 1e-3


def test_simulate_draws_training_pairs_reproducibly():
    ia, ib, y = pref.simulate("terse", 300, 0.5, np.random.default_rng(1))
    assert ia.shape == ib.shape == y.shape == (300,)
    assert set(np.unique(y)) <= {-1.0, 1.0}
    train_pairs = {frozenset(map(int, row)) for row in pref.TRAIN_PAIRS}
    assert all(frozenset((int(a), int(b))) in train_pairs for a, b in zip(ia, ib, strict=True))
    again = pref.simulate("terse", 300, 0.5, np.random.default_rng(1))
    assert all(np.array_equal(u, v) for u, v in zip((ia, ib, y), again, strict=True))
