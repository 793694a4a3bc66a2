"""The demo layer and its round-trip measurements, against a direct numpy computation."""

import numpy as np
import pytest

from labs_py import quant, quant_layer


def direct(bits, method, block, dq, outliers):
    W = quant_layer.weights(outliers)
    W_hat = quant.roundtrip(W, bits, method, block, dq).astype(np.float64)
    E = W_hat - W.astype(np.float64)
    return np.sqrt(np.mean(E**2)), np.linalg.norm(E) / np.linalg.norm(W.astype(np.float64)), np.count_nonzero(W_hat == 0) / W.size


def test_demo_layer_is_what_the_page_says():
    W = quant_layer.weights(True)
    assert W.shape == (512, 512) and W.dtype == np.float32
    big = np.abs(W) > 6 * quant_layer.SIGMA
    assert big.sum() == pytest.approx(0.001 * W.size, rel=0.02)
    assert np.std(W[~big]) == pytest.approx(quant_layer.SIGMA, rel=0.01)


def test_without_outliers_only_the_outliers_change():
    with_, without = quant_layer.weights(True), quant_layer.weights(False)
    changed = with_ != without
    assert changed.sum() == int(quant_layer.OUTLIER_FRACTION * with_.size)
    assert np.abs(without).max() < 6 * quant_layer.SIGMA


@pytest.mark.parametrize("args", [(4, "absmax", 64, False, True), (3, "block", 32, True, True),
                                  (4, "nf4", 64, True, False), (16, "absmax", 64, False, True), (8, "block", 1024, False, False)])
def test_roundtrip_measures_match_a_direct_computation(args):
    r = quant_layer.roundtrip(*args)
    rmse, rel, zeros = direct(*args)
    assert r.rmse == pytest.approx(rmse, rel=1e-12)
    assert r.rel == pytest.approx(rel, rel=1e-12)
    assert r.zero_share == zeros


def test_histogram_counts_every_weight():
    edges, counts = quant_layer.histogram(True)
    assert counts.sum() == 512 * 512 and edges[0] == -edges[-1]
