"""Quantization Lab: slide bits from 16 to 2 and watch RMSE rise while memory falls.

The weights are a fixed, seeded 512×512 "layer": N(0, 0.02²) entries, like a transformer
projection at initialisation scale, with 0.1 % of entries replaced by outliers of 6–12 σ, the
heavy tail that makes per-tensor absmax waste most of its levels.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from labs_py import quant
from labs_py.controls import Choice, Slider, Toggle
from labs_py.fmt import nbytes, sig
from labs_py.html import esc, figure, metric, metrics_grid
from labs_py.lab import View
from labs_py.svg import Marks, Series, histogram, line_chart

NAME = "quantization"
TITLE = "Quantization Lab"
N_ROWS = N_COLS = 512
SIGMA = 0.02  # typical init std of transformer projections
OUTLIER_FRACTION = 0.001
MODEL_PARAMS = 7e9  # "a 7B model": memory of its weights at the chosen format
BITS_AXIS = tuple(range(2, 17))

CONTROLS = (
    Slider("bits", "Bits per weight", 2, 16, 1, 4, help="16 = fp16 baseline; 2–15 = signed integer codes.", integer=True),
    Choice("method", "Method", (("absmax", "absmax, per tensor"), ("block", "absmax, per block"),
                                ("nf4", "NF4 (QLoRA), per block")), "block",
           help="NF4 is a 4-bit code, so it always uses 4 bits."),
    Choice("block", "Block size", tuple((str(b), str(b)) for b in (32, 64, 128, 256, 1024)), "64",
           help="Weights sharing one absmax scale (per-block methods)."),
    Toggle("dq", "Double-quantize the block scales", 0, help="8-bit scales in blocks of 256 (QLoRA §3)."),
)
ACTIONS: tuple[tuple[str, str], ...] = ()


@lru_cache(maxsize=1)
def weights() -> np.ndarray:
    """The demo layer (float32, 512×512), identical on every run and platform."""
    rng = np.random.default_rng(20230523)
    W = rng.standard_normal((N_ROWS, N_COLS)) * SIGMA
    n_out = int(OUTLIER_FRACTION * W.size)
    idx = rng.choice(W.size, size=n_out, replace=False)
    W.flat[idx] = rng.choice([-1.0, 1.0], n_out) * rng.uniform(6, 12, n_out) * SIGMA
    return W.astype(np.float32)


@lru_cache(maxsize=1)
def weights_sq() -> float:
    """‖W‖_F² in float64 (the denominator of the relative error)."""
    W64 = weights().astype(np.float64).ravel()
    return float(W64 @ W64)


@lru_cache(maxsize=256)
def errors(bits: int, method: str, block: int, dq: bool) -> tuple[float, float]:
    """(RMSE, relative Frobenius error) of the round trip on the demo layer, summed in float64."""
    W = weights()
    E = (quant.roundtrip(W, bits, method, block, dq) - W).astype(np.float64).ravel()
    sq = float(E @ E)
    return (sq / W.size) ** 0.5, (sq / weights_sq()) ** 0.5


@lru_cache(maxsize=1)
def weight_histogram() -> tuple[np.ndarray, np.ndarray]:
    """Counts of the demo weights in 120 bins over ±max|W|."""
    W = weights()
    m = float(np.abs(W).max())
    counts, edges = np.histogram(W, bins=120, range=(-m, m))
    return edges, counts


@lru_cache(maxsize=8)
def typical_block_scale(block: int) -> float:
    """Median (upper) per-block absmax of the demo layer: the scale whose levels the histogram shows."""
    scales = np.sort(quant.block_absmax(weights(), block).ravel())
    return float(scales[scales.size // 2])


def effective(params: dict) -> tuple[int, str, int, bool, list[str]]:
    """The format actually simulated, with notes where a control has no effect."""
    bits, method, block, dq = params["bits"], params["method"], int(params["block"]), bool(params["dq"])
    notes = []
    if method == "nf4" and bits != 4:
        notes.append(f"NF4 is a 4-bit code: showing 4 bits (the slider says {bits}).")
        bits = 4
    if bits == 16 and (method != "absmax" or dq):
        notes.append("16 bits is the fp16 baseline: no scales, so method, block and double quantization do not apply.")
    return bits, method, block, dq, notes


def render(params: dict, state: object = None, action: str | None = None, payload: object = None) -> View:
    """Metrics, the weight histogram with the quantization levels, and the RMSE-vs-bits curve."""
    bits, method, block, dq, notes = effective(params)
    W = weights()
    rmse, rel = errors(bits, method, block, dq)
    bpp = quant.bits_per_param(bits, method, block, dq, n=W.size)
    bpp_model = quant.bits_per_param(bits, method, block, dq)
    mem_demo = W.size * bpp / 8
    mem_model = MODEL_PARAMS * bpp_model / 8
    tiles = [
        metric("rmse", rmse, sig(rmse), "RMSE", f"σ of weights = {SIGMA}"),
        metric("rel_error", rel, f"{100 * rel:.2f} %", "Relative error", "‖W − Ŵ‖ / ‖W‖"),
        metric("bits_per_param", bpp_model, f"{bpp_model:.3f}", "Bits per parameter", "incl. scales"),
        metric("memory_demo", mem_demo, nbytes(mem_demo), "This 512×512 layer", "fp16: 524.29 kB"),
        metric("memory_7b", mem_model, nbytes(mem_model), "A 7B model's weights", "fp16: 14.00 GB"),
        metric("compression", 16 / bpp_model, f"{16 / bpp_model:.2f}×", "Smaller than fp16", ""),
    ]
    edges, counts = weight_histogram()
    if bits == 16:
        lv, lv_note = None, "fp16 has 63,488 finite values: too dense to draw."
    elif method == "absmax":
        lv, lv_note = quant.levels(bits, method, float(np.abs(W).max())), "levels of the single tensor scale"
    else:
        typical = typical_block_scale(block)
        lv, lv_note = quant.levels(bits, method, typical), f"levels of a typical block (median absmax {typical:.4f})"
    if lv is not None and lv.size > 300:
        lv, lv_note = None, f"{lv.size} levels: too dense to draw."
    hist = histogram(edges, counts, "Weights of the demo layer, with quantization levels", "weight value",
                     levels=lv)
    curve_method = "block" if method == "nf4" else method
    xs = np.array(BITS_AXIS, float)
    ys = np.array([errors(b, curve_method, block, dq)[0] for b in BITS_AXIS])
    label = {"absmax": "absmax per tensor", "block": f"absmax, blocks of {block}"}[curve_method]
    marks = Marks(points=[(bits, rmse, f"{'NF4' if method == 'nf4' else f'{bits}-bit'}: {sig(rmse)}", "c1")])
    curve = line_chart([Series(label + (" + DQ" if dq else ""), xs, ys, "c0")], "RMSE versus bits",
                       "bits per weight (16 = fp16)", "RMSE (log scale)", log_y=True, x_range=(2, 16), marks=marks)
    notes_html = "".join(f'<p class="lab-note">{esc(n)}</p>' for n in notes)
    html = (notes_html + metrics_grid(tiles) + figure(hist, f"Bars: counts of all 262,144 weights (log scale). Ticks: {lv_note}.")
            + figure(curve, "Each point is a full quantize → dequantize round trip of the demo layer."))
    name = "NF4" if method == "nf4" else ("fp16" if bits == 16 else f"{bits}-bit {label}")
    summary = f"{name}: RMSE {sig(rmse)}, {bpp_model:.3f} bits per parameter, 7B model {nbytes(mem_model)}."
    return View(html, summary)
