"""Quantization Lab: what storing weights in 4 bits costs in accuracy, and why the block size matters.

The lab measures full round trips of a fixed demo layer (labs_py.quant_layer) in the formats of
labs_py.quant, and lays out the answer: RMSE against bits for every method side by side, the
weight histogram with the levels a format can store, and the memory a 7B model's weights need.
"""

from __future__ import annotations

import numpy as np

from labs_py import quant
from labs_py.controls import Choice, Slider, Toggle
from labs_py.fmt import nbytes, pct, sig
from labs_py.html import esc, figure
from labs_py.lab import Guess, Metric, Options, Reveal, Step, View, nearest
from labs_py.quant_layer import BITS_AXIS, N_COLS, N_ROWS, SIGMA, histogram, roundtrip, typical_block_scale
from labs_py.svg import Marks, Series, line_chart, responsive
from labs_py.svg import histogram as histogram_svg

NAME = "quantization"
TITLE = "Quantization Lab"
QUESTION = "What does storing weights in 4 bits cost in accuracy, and why does the block size matter?"
MODEL_PARAMS = 7e9  # "a 7B model": memory of its weights at the chosen format
FP16_X = 17.0  # where the fp16 point is drawn, apart from the integer codes

CONTROLS = (
    Slider("bits", "Bits per weight", 2, 16, 1, 4, help="2–15: signed integer codes; 16: the fp16 baseline.", integer=True),
    Choice("method", "Method", (("absmax", "absmax, per tensor"), ("block", "absmax, per block"),
                                ("nf4", "NF4 (QLoRA), per block")), "block"),
    Choice("block", "Block size", tuple((str(b), str(b)) for b in (32, 64, 128, 256, 1024)), "64",
           help="Weights sharing one absmax scale."),
    Toggle("dq", "Double-quantize the block scales", 0, help="8-bit scales in blocks of 256 (QLoRA §3)."),
    Toggle("outliers", "Outliers in the layer", 1, help="0.1 % of weights at 6–12 σ, as trained LLM layers have."),
)
KEY = ("bits", "method")
ACTIONS: tuple[tuple[str, str], ...] = ()


def effective(params: dict) -> tuple[int, str, int, bool, bool, dict[str, str]]:
    """(bits, method, block, dq, outliers) actually simulated, and the controls that do not apply, with why."""
    bits, method, block = params["bits"], params["method"], int(params["block"])
    dq, outliers = bool(params["dq"]), bool(params["outliers"])
    off: dict[str, str] = {}
    if method == "nf4":
        bits = 4
        off["bits"] = "NF4 is a 4-bit code: 4 bits are used."
    if bits == 16:
        off.update(method="fp16 is a float format: no scales.", block="fp16 has no scales.", dq="fp16 has no scales.")
    elif method == "absmax":
        off.update(block="Per-tensor absmax has one scale, no blocks.", dq="One scale: nothing to double-quantize.")
        dq = False
    return bits, method, block, dq, outliers, off


def format_name(bits: int, method: str, block: int, dq: bool) -> str:
    """How the reader's format is named in tiles and charts."""
    if bits == 16:
        return "fp16"
    name = {"absmax": f"{bits}-bit absmax per tensor", "block": f"{bits}-bit absmax, blocks of {block}",
            "nf4": f"NF4, blocks of {block}"}[method]
    return name + (" + DQ" if dq else "")


def measure(params: dict) -> dict[str, Metric]:
    """Every number the lab shows for these (clean) params."""
    bits, method, block, dq, outliers, _ = effective(params)
    r = roundtrip(bits, method, block, dq, outliers)
    bpp_model = quant.bits_per_param(bits, method, block, dq)
    bpp_demo = quant.bits_per_param(bits, method, block, dq, n=N_ROWS * N_COLS)
    mem_model = MODEL_PARAMS * bpp_model / 8
    mem_demo = N_ROWS * N_COLS * bpp_demo / 8
    return {
        "rmse": Metric(r.rmse, "RMSE of the weights", sig(r.rmse), f"typical weight σ = {SIGMA}", True),
        "zero_share": Metric(r.zero_share, "Weights rounded to exactly 0", pct(r.zero_share), "share of all 262,144", True),
        "bits_per_param": Metric(bpp_model, "Bits per weight", f"{bpp_model:.3f}", "codes + scales, large tensor", True),
        "memory_7b": Metric(mem_model, "A 7B model's weights", nbytes(mem_model), "fp16: 14.00 GB", True),
        "rel_error": Metric(r.rel, "Relative error", pct(r.rel, 2), "‖W − Ŵ‖ / ‖W‖"),
        "memory_demo": Metric(mem_demo, "This 512×512 layer", nbytes(mem_demo), "fp16: 524.29 kB"),
        "compression": Metric(16 / bpp_model, "Smaller than fp16", f"{16 / bpp_model:.2f}×", "16 bits ÷ bits per weight"),
    }


def rmse_chart(bits: int, method: str, block: int, dq: bool, outliers: bool, width: int) -> str:
    """RMSE against bits for every method, the reader's format ringed, fp16 drawn apart at the right."""
    xs = np.array(BITS_AXIS, float)
    tensor = [roundtrip(b, "absmax", block, False, outliers).rmse for b in BITS_AXIS]
    blocked = [roundtrip(b, "block", block, dq, outliers).rmse for b in BITS_AXIS]
    nf4 = roundtrip(4, "nf4", block, dq, outliers).rmse
    fp16 = roundtrip(16, "absmax", block, False, outliers).rmse
    here = roundtrip(bits, method, block, dq, outliers).rmse
    dq_tag = " + DQ" if dq else ""
    series = [Series("absmax per tensor", xs, np.array(tensor), "c0"),
              Series(f"absmax, blocks of {block}{dq_tag}", xs, np.array(blocked), "c2")]
    marks = Marks(points=[(4, nf4, f"NF4{dq_tag}", "c1"), (FP16_X, fp16, "fp16 (float)", "c3")],
                  vlines=[(16, "", "c3")], rings=[(FP16_X if bits == 16 else bits, here)])
    step = 1 if width >= 500 else 2
    ticks = [(b, str(b)) for b in BITS_AXIS if (b - BITS_AXIS[0]) % step == 0] + [(FP16_X, "fp16")]
    return line_chart(series, "RMSE versus bits per weight", "bits per weight (integer codes; fp16 apart)",
                      "RMSE (log scale)", log_y=True, x_range=(1.5, 17.8), marks=marks, x_ticks=ticks, width=width)


def levels_chart(bits: int, method: str, block: int, outliers: bool, width: int) -> tuple[str, str]:
    """The weight histogram with the levels of the chosen format, and what the ticks show."""
    edges, counts = histogram(outliers)
    if bits == 16:
        lv, note = None, "fp16 has 63,488 finite values: too dense to draw."
    elif method == "absmax":
        lv, note = quant.levels(bits, method, float(np.abs(edges).max())), "levels of the single tensor scale"
    else:
        typical = typical_block_scale(block, outliers)
        lv, note = quant.levels(bits, method, typical), f"levels of a typical block (median absmax {typical:.4f})"
    if lv is not None and lv.size > 300:
        lv, note = None, f"{lv.size} levels: too dense to draw."
    svg = histogram_svg(edges, counts, "Weights of the demo layer, with the levels", "weight value", levels=lv, width=width)
    return svg, note


def render(params: dict, state: object = None, action: str | None = None, payload: object = None) -> View:
    """The RMSE chart beside the key controls, headline tiles, and the histogram of levels below."""
    bits, method, block, dq, outliers, off = effective(params)
    metrics = measure(params)
    chart = figure(responsive(lambda w: rmse_chart(bits, method, block, dq, outliers, w)),
                   "Ring: your format. Each point is a full quantize → dequantize round trip of all 262,144 weights. "
                   "fp16 is a float format (5 exponent bits), not a 16-bit integer code, so it is drawn apart.")
    hist, note = levels_chart(bits, method, block, outliers, 560)
    hist_narrow, _ = levels_chart(bits, method, block, outliers, 340)
    body = figure(f'<div class="lab-chart-wide">{hist}</div><div class="lab-chart-narrow">{hist_narrow}</div>',
                  f"Bars: counts of all weights (log scale). Ticks: {note}.")
    name = format_name(bits, method, block, dq)
    m = metrics
    summary = (f"{name}: RMSE {m['rmse'].text}, {m['zero_share'].text} of weights rounded to zero, "
               f"{m['bits_per_param'].text} bits per weight, 7B model {m['memory_7b'].text}.")
    return View(chart, f'<p class="lab-note">Format shown: {esc(name)}.</p>' + body, summary, metrics, off)


# ---- guided steps: each answer is measured on the demo layer when the reader checks ------------

def _check_fewer_bits(prediction: str) -> Reveal:
    r4, r3 = roundtrip(4, "block", 64, False, True).rmse, roundtrip(3, "block", 64, False, True).rmse
    ratio = r3 / r4
    right = prediction == nearest({"1.2": 1.2, "2": 2.0, "4": 4.0, "10": 10.0}, ratio)
    return Reveal(right, f"RMSE goes from {sig(r4)} to {sig(r3)}: {ratio:.2f}× larger. One bit fewer halves the "
                         "number of levels, so the step between neighbouring levels (and the rounding error) doubles.")


def _check_blocks(prediction: str) -> Reveal:
    t = roundtrip(4, "absmax", 64, False, True)
    b = roundtrip(4, "block", 64, False, True)
    ratio = t.rmse / b.rmse
    right = prediction == nearest({"1": 1.0, "1.5": 1.5, "3.5": 3.5, "10": 10.0}, ratio)
    return Reveal(right, f"Per tensor: RMSE {sig(t.rmse)}; per block of 64: {sig(b.rmse)}, {ratio:.1f}× lower. "
                         "One 12 σ outlier sets the tensor's only scale, so the levels are spaced for it and "
                         f"{pct(t.zero_share)} of the weights round to 0; a block's scale only serves its 64 weights.")


def _check_zeros(prediction: str) -> Reveal:
    z = roundtrip(4, "absmax", 64, False, True).zero_share
    right = prediction == nearest({"5": 0.05, "25": 0.25, "60": 0.6, "95": 0.95}, z)
    return Reveal(right, f"{pct(z)} of the weights become exactly 0 with 4-bit per-tensor absmax. The level next to "
                         "0 sits at max|W|/7, which is far above a typical weight when one outlier sets max|W|.")


def _check_nf4_bits(prediction: str) -> Reveal:
    bpp = quant.bits_per_param(4, "nf4", 64, True)
    plain = quant.bits_per_param(4, "nf4", 64, False)
    right = abs(float(prediction) - bpp) <= 0.05
    return Reveal(right, f"{bpp:.3f} bits per weight: 4 for the code, 8/64 for the 8-bit block scale and "
                         f"32/(256·64) for the second-level fp32 scale. Without double quantization it is {plain:.3f} "
                         "(a 32-bit scale per 64 weights). These are QLoRA's figures (§3).")


def _check_memory(prediction: str) -> Reveal:
    gb = MODEL_PARAMS * quant.bits_per_param(4, "nf4", 64, True) / 8 / 1e9
    right = abs(float(prediction) - gb) <= 0.5
    return Reveal(right, f"{gb:.2f} GB for the weights, against 14.00 GB in fp16: 7 × 10⁹ weights × 4.127 bits ÷ 8. "
                         "Activations, the LoRA adapters and their optimizer states come on top.")


STEPS = (
    Step("fewer-bits", "Per-block absmax, blocks of 64: going from 4 to 3 bits multiplies the RMSE by about…",
         {"bits": 3, "method": "block"}, Options((("1.2", "1.2×"), ("2", "2×"), ("4", "4×"), ("10", "10×"))),
         _check_fewer_bits),
    Step("zeros", "4-bit absmax with one scale for the whole tensor: what share of the weights become exactly 0?",
         {"bits": 4, "method": "absmax"}, Options((("5", "about 5 %"), ("25", "about 25 %"), ("60", "about 60 %"),
                                                  ("95", "over 90 %"))), _check_zeros),
    Step("blocks", "Same 4 bits, outliers on: per-block scales (64 weights each) instead of one per tensor lower "
                   "the RMSE by about…", {"bits": 4, "method": "block"},
         Options((("1", "hardly at all"), ("1.5", "1.5×"), ("3.5", "3–4×"), ("10", "10×"))), _check_blocks),
    Step("nf4-bits", "NF4 with double quantization, blocks of 64: how many bits does each weight cost, scales included?",
         {"method": "nf4", "dq": 1}, Guess("bits per weight", 4.0, 5.0, 0.025, 4.5), _check_nf4_bits),
    Step("memory", "How much memory do a 7B model's weights need in that format (NF4 + double quantization)?",
         {"method": "nf4", "dq": 1}, Guess("GB", 1.0, 14.0, 0.25, 7.0, " GB"), _check_memory),
)
