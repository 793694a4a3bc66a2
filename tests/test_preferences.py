"""The hand-written preference data and the simulated annotators: sanity, coverage and sampling statistics."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
from scipy.special import expit
from scipy.stats import binomtest

from labs_py import preferences as pref


def test_at_least_twelve_prompts_with_at_least_four_candidates():
    assert len(pref.PROMPTS) >= 12
    assert sum(not p.held_out for p in pref.PROMPTS) >= 12
    assert all(len(p.responses) >= 4 for p in pref.PROMPTS)
    assert 1 <= sum(p.held_out for p in pref.PROMPTS) <= 4


def test_ids_are_unique_and_name_their_prompt():
    ids = [r.id for r in pref.RESPONSES]
    assert len(ids) == len(set(ids))
    assert len({p.id for p in pref.PROMPTS}) == len(pref.PROMPTS)
    for p in pref.PROMPTS:
        assert all(r.id.startswith(p.id + ".") for r in p.responses)
    assert [pref.RESPONSES[i].id for i in pref.INDEX.values()] == list(pref.INDEX)


def test_feature_vectors_are_complete_and_in_range():
    assert pref.PHI.shape == (len(pref.RESPONSES), len(pref.FEATURES))
    assert np.all((pref.PHI >= 0) & (pref.PHI <= 1))
    assert set(pref.FEATURE_HELP) == set(pref.FEATURES)
    for r in pref.RESPONSES:
        words = len(r.text.split())
        assert r.phi[pref.FEATURES.index("length")] == pytest.approx(min(words / 50, 1.0), abs=0.005)


def test_responses_are_short_enough_for_a_phone():
    for r in pref.RESPONSES:
        sentences = len(re.findall(r"(?<!\d)[.!?](\s|$)", r.text))  # "2. " numbers a step
        assert len(r.text.split()) <= 60, r.id
        assert sentences <= 4, r.id


def test_candidates_differ_in_recognisable_ways():
    """Every prompt has a wrong or unsafe answer next to a right one, and the features vary inside it."""
    col = {f: pref.FEATURES.index(f) for f in pref.FEATURES}
    for p in pref.PROMPTS:
        rows = pref.PHI[[pref.INDEX[r.id] for r in p.responses]]
        assert rows[:, col["correct"]].max() == 1.0
        assert min(rows[:, col["correct"]].min(), rows[:, col["safe"]].min()) <= 0.5
    varies = [f for f in pref.FEATURES if np.ptp(pref.PHI[:, col[f]]) >= 0.9]
    assert varies == list(pref.FEATURES)


def test_some_preference_is_invisible_to_the_features():
    """At least one pair has identical φ: no linear reward on these features can tell them apart."""
    same = [(a.id, b.id) for p in pref.PROMPTS for a, b in itertools.combinations(p.responses, 2) if a.phi == b.phi]
    assert ("kitten.1", "kitten.2") in same


def test_training_order_covers_every_training_pair_once():
    expected = {frozenset((pref.INDEX[a.id], pref.INDEX[b.id])) for p in pref.PROMPTS if not p.held_out
                for a, b in itertools.combinations(p.responses, 2)}
    got = [frozenset(map(int, row)) for row in pref.TRAINING_ORDER]
    assert len(got) == len(set(got)) == len(expected)
    assert set(got) == expected
    assert 0.25 < np.mean(pref.TRAINING_ORDER[:, 0] > pref.TRAINING_ORDER[:, 1]) < 0.75  # sides are mixed


def test_held_out_pairs_are_labelled_by_the_reference_without_noise():
    ia, ib, y = pref.HELD_OUT
    held_rows = {pref.INDEX[r.id] for p in pref.PROMPTS if p.held_out for r in p.responses}
    assert set(ia) | set(ib) <= held_rows
    w_ref = pref.ANNOTATORS[pref.REFERENCE]
    for a, b, label in zip(ia, ib, y, strict=True):
        score = sum(w * (fa - fb) for w, fa, fb in zip(w_ref, pref.RESPONSES[a].phi, pref.RESPONSES[b].phi, strict=True))
        assert label == (1.0 if score > 0 else -1.0)
    assert len(y) == 24  # four held-out prompts, six pairs each, no exact ties
    assert 0.2 < np.mean(y > 0) < 0.8


def test_noiseless_annotator_follows_its_hidden_vector():
    D = pref.PHI[pref.TRAINING_ORDER[:, 0]] - pref.PHI[pref.TRAINING_ORDER[:, 1]]
    for name, w_star in pref.ANNOTATORS.items():
        y = pref.annotate(w_star, D, 0.0, np.random.default_rng(0))
        assert np.array_equal(y, np.where(D @ w_star > 0, 1.0, -1.0)), name


def test_noisy_annotator_is_a_bradley_terry_rater():
    """P(A ≻ B) = σ(w*·d / noise): checked on four pairs with 20,000 draws each (binomial test)."""
    w_star = pref.ANNOTATORS["careful"]
    D = pref.PHI[pref.TRAINING_ORDER[:4, 0]] - pref.PHI[pref.TRAINING_ORDER[:4, 1]]
    rng = np.random.default_rng(42)
    n = 20_000
    for noise in (0.5, 2.0):
        y = pref.annotate(w_star, np.repeat(D, n, axis=0), noise, rng).reshape(4, n)
        for k in range(4):
            p = float(expit(D[k] @ w_star / noise))
            assert binomtest(int(np.sum(y[k] > 0)), n, p).pvalue > 1e-3


def test_simulate_draws_training_pairs_reproducibly():
    ia, ib, y = pref.simulate("terse", 300, 0.5, np.random.default_rng(1))
    assert ia.shape == ib.shape == y.shape == (300,)
    assert set(np.unique(y)) <= {-1.0, 1.0}
    train_pairs = {frozenset(map(int, row)) for row in pref.TRAINING_ORDER}
    assert all(frozenset((int(a), int(b))) in train_pairs for a, b in zip(ia, ib, strict=True))
    again = pref.simulate("terse", 300, 0.5, np.random.default_rng(1))
    assert all(np.array_equal(u, v) for u, v in zip((ia, ib, y), again, strict=True))
