"""The Quantization Lab's view: numbers agree with a direct computation; RMSE falls with bits."""

import itertools

import numpy as np
import pytest

from labs_py import quant, quantization
from labs_py.controls import defaults


def direct_rmse(bits, method, block, dq):
    W = quantization.weights().astype(np.float64)
    Y = quant.roundtrip(quantization.weights(), bits, method, block, dq).astype(np.float64)
    return float(np.sqrt(np.mean((Y - W) ** 2)))


def test_demo_layer_is_what_the_page_says():
    W = quantization.weights()
    assert W.shape == (512, 512) and W.dtype == np.float32
    big = np.abs(W) > 6 * quantization.SIGMA
    assert big.sum() == pytest.approx(0.001 * W.size, rel=0.02)
    assert np.std(W[~big]) == pytest.approx(quantization.SIGMA, rel=0.01)


@pytest.mark.parametrize("method", ["absmax", "block"])
def test_rmse_is_monotone_in_bits(method):
    curve = [quantization.errors(b, method, 64, False)[0] for b in range(2, 16)]
    assert all(a > b for a, b in itertools.pairwise(curve))


@pytest.mark.parametrize("params", [
    {"bits": 4, "method": "nf4", "block": "64", "dq": 1},
    {"bits": 3, "method": "absmax", "block": "64", "dq": 0},
    {"bits": 8, "method": "block", "block": "256", "dq": 1},
])
def test_metrics_in_the_view_match_direct_computation(params):
    html = quantization.render({**defaults(quantization.CONTROLS), **params}).html
    bits, method, block, dq, _ = quantization.effective({**defaults(quantization.CONTROLS), **params})
    rmse = float(html.split('data-metric="rmse" data-value="')[1].split('"')[0])
    assert rmse == pytest.approx(direct_rmse(bits, method, block, dq), rel=1e-9)
    memory = float(html.split('data-metric="memory_7b" data-value="')[1].split('"')[0])
    assert memory == pytest.approx(7e9 * quant.bits_per_param(bits, method, block, dq) / 8, rel=1e-12)


def test_block_beats_tensor_and_nf4_beats_int4_on_this_layer():
    tensor = quantization.errors(4, "absmax", 64, False)[0]
    block = quantization.errors(4, "block", 64, False)[0]
    nf4 = quantization.errors(4, "nf4", 64, False)[0]
    assert nf4 < block < tensor


def test_nf4_forces_four_bits_with_a_note():
    bits, *_, notes = quantization.effective({"bits": 6, "method": "nf4", "block": "64", "dq": 0})
    assert bits == 4 and "4-bit" in notes[0]
