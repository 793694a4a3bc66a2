"""The Quantization Lab: metrics agree with direct computation, controls that do not apply are
disabled with a reason, the chart compares every method, and each step's check is right."""

import itertools

import numpy as np
import pytest

from labs_py import quant, quant_layer, quantization, runtime
from labs_py.controls import defaults


def params(**kw):
    return {**defaults(quantization.CONTROLS), **kw}


def test_headline_is_at_most_four_tiles_and_the_rest_are_numbers():
    m = runtime.metrics("quantization")
    assert sum(x.headline for x in m.values()) == 4
    assert {"rmse", "zero_share", "bits_per_param", "memory_7b"} == {k for k, x in m.items() if x.headline}


@pytest.mark.parametrize("raw", [
    {"bits": 4, "method": "nf4", "block": "64", "dq": 1},
    {"bits": 3, "method": "absmax"},
    {"bits": 8, "method": "block", "block": "256", "dq": 1, "outliers": 0},
    {"bits": 16},
])
def test_metrics_match_a_direct_computation(raw):
    m = runtime.metrics("quantization", raw)
    bits, method, block, dq, outliers, _ = quantization.effective(params(**raw))
    W = quant_layer.weights(outliers)
    E = quant.roundtrip(W, bits, method, block, dq).astype(np.float64) - W.astype(np.float64)
    assert m["rmse"].value == pytest.approx(float(np.sqrt(np.mean(E**2))), rel=1e-12)
    assert m["memory_7b"].value == pytest.approx(7e9 * quant.bits_per_param(bits, method, block, dq) / 8, rel=1e-12)
    assert m["compression"].value == pytest.approx(16 / m["bits_per_param"].value)


def test_controls_that_do_not_apply_are_disabled_with_a_reason():
    nf4 = runtime.view("quantization", {"method": "nf4", "bits": 6})[2]
    assert "bits" in nf4.disabled and "4-bit" in nf4.disabled["bits"]
    assert nf4.metrics["bits_per_param"].value == 4.5  # 4 bits are used whatever the slider says
    tensor = runtime.view("quantization", {"method": "absmax", "dq": 1})[2]
    assert set(tensor.disabled) == {"block", "dq"}
    assert tensor.metrics["bits_per_param"].value == 4.0  # DQ has no effect under one scale
    assert "DQ" not in tensor.chart.split("absmax per tensor")[1][:10]
    assert runtime.view("quantization", {"method": "block"})[2].disabled == {}


def test_rmse_is_monotone_in_bits_and_blocks_beat_the_tensor_scale():
    for method in ("absmax", "block"):
        curve = [quant_layer.roundtrip(b, method, 64, False, True).rmse for b in quant_layer.BITS_AXIS]
        assert all(a > b for a, b in itertools.pairwise(curve))
    t, b, n = (quant_layer.roundtrip(4, m, 64, False, True).rmse for m in ("absmax", "block", "nf4"))
    assert n < b < t


def test_the_main_chart_draws_every_method_with_integer_ticks_and_fp16_apart():
    chart = runtime.view("quantization", {})[2].chart
    for label in ("absmax per tensor", "absmax, blocks of 64", "NF4", "fp16 (float)"):
        assert label in chart
    wide = chart.split('class="lab-chart-narrow"')[0]
    ticks = [t.split(">")[1].split("<")[0] for t in wide.split('class="lab-tick"')[1:]]
    assert [t for t in ticks if t.isdigit() and int(t) >= 2][-14:] == [str(b) for b in range(2, 16)]
    assert "fp16" in ticks


def test_outliers_off_changes_the_per_tensor_picture():
    on = runtime.metrics("quantization", {"method": "absmax"})
    off = runtime.metrics("quantization", {"method": "absmax", "outliers": 0})
    assert off["rmse"].value < on["rmse"].value / 2
    assert off["zero_share"].value < on["zero_share"].value


@pytest.mark.parametrize("step", quantization.STEPS, ids=lambda s: s.id)
def test_each_step_is_right_for_exactly_the_computed_answer(step):
    if hasattr(step.predict, "choices"):
        verdicts = {v: runtime.check("quantization", step.id, v)["right"] for v, _ in step.predict.choices}
        assert sum(verdicts.values()) == 1, verdicts
    else:
        g = step.predict
        right = [x for x in np.arange(g.lo, g.hi + g.step / 2, g.step) if runtime.check("quantization", step.id, f"{x:g}")["right"]]
        assert 0 < len(right) < len(np.arange(g.lo, g.hi, g.step)) / 2
    setup = runtime.view("quantization", step.setup)[2]  # the setup is a valid state of the lab
    assert setup.metrics


def test_step_answers_quote_the_lab_numbers():
    z = runtime.metrics("quantization", {"method": "absmax"})["zero_share"]
    assert z.text in runtime.check("quantization", "zeros", "60")["text"]
    nf4 = runtime.metrics("quantization", {"method": "nf4", "dq": 1})
    assert nf4["bits_per_param"].text in runtime.check("quantization", "nf4-bits", "4.1")["text"]
    assert runtime.check("quantization", "nf4-bits", "4.125")["right"]
    assert runtime.check("quantization", "memory", "3.5")["right"] and not runtime.check("quantization", "memory", "7")["right"]
