"""soft_targets: the GPT-2 teacher's tokens keep their order at every T, the top-k and rest masses and the
rest bucket's rank equal direct computations, and the charts show every listed token readably."""

from __future__ import annotations

import derive_teacher
import numpy as np
import pytest
from scipy import special

derive_teacher.ensure()

from labs_py import soft_targets as st  # noqa: E402
from labs_py import teacher  # noqa: E402

KEYS = ("g0", "g4", "g5", "w15")


@pytest.mark.parametrize("key", KEYS)
def test_temperature_never_reorders_the_listed_tokens(key):
    ctx = teacher.context(key)
    orders = {tuple(np.argsort(-st.distribution(key, T)[:len(ctx.tokens)], kind="stable")) for T in teacher.T_GRID[::5]}
    assert orders == {tuple(np.argsort(-ctx.z, kind="stable"))}


@pytest.mark.parametrize("key", KEYS)
def test_masses_and_rest_rank_equal_direct_sums(key):
    ctx, c = teacher.context(key), st.curves(key)
    for i in (0, 15, 35, 95):
        T = float(teacher.T_GRID[i])
        p = special.softmax(np.append(ctx.z / T, ctx.tail_lse[i]) if ctx.tail_size else ctx.z / T)
        top = np.sort(p[:len(ctx.tokens)])[::-1]
        assert c["top5"][i] == pytest.approx(top[:5].sum(), rel=1e-12)
        assert c["top20"][i] == pytest.approx(top[:20].sum(), rel=1e-12)
        if ctx.tail_size:
            assert c["rest"][i] == pytest.approx(p[-1], rel=1e-12)
            assert st.rest_rank(key, T) == 1 + int(np.sum(p[:-1] > p[-1]))
        else:
            assert st.rest_rank(key, T) is None and "rest" not in c


def test_rest_overtakes_the_top_token_as_T_grows():
    assert st.rest_rank("g4", 1.0) == 2 and st.rest_rank("g4", 4.0) == 1
    assert st.distribution("g4", 4.0)[-1] > 0.98  # why the rest gets a bar of its own


def test_token_bars_are_scaled_to_the_tokens_and_print_every_value():
    svg = st.token_chart("g4", 4.0, 560)
    p = st.distribution("g4", 4.0)
    assert svg.count('class="lab-bar-label"') == 20 and "␣as ✓" in svg and "rest" not in svg
    assert f">{p[0]:.2g}<" in svg  # the largest token printed, 0.0033, with 2 significant figures
    html = st.section("g4", 4.0)
    assert "rest of the vocabulary (50,237 tokens): 99.0 %" in html and "listed tokens: 1.0 %" in html


def test_metrics_equal_the_teacher_module():
    m = st.metrics("g4", 2.0)
    ctx = teacher.context("g4")
    assert m["teacher_entropy_vocab"].value == teacher.vocab_entropy(ctx, 2.0)
    assert m["kl_medium_small"].value == teacher.reference_kl_vocab(ctx, 2.0)
    assert m["teacher_top"].text == "0.221"  # significant figures, not a rounded 0.000
    assert "kl_medium_small" not in st.metrics("w15", 2.0)
