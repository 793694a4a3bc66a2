"""The GPUs the Planner Lab knows: memory PyTorch can use, peak 16-bit tensor throughput, bandwidth, price.

Why: a plan fits or not against the memory PyTorch reports as the device's total capacity (what
its out-of-memory messages print), not the marketing number. Prices are a dated snapshot, not
facts: the lab uses them only when the reader leaves the price at 0.
"""

from __future__ import annotations

from dataclasses import dataclass

PRICES_FROM = "RunPod on-demand prices, March 2026 (deploybase.ai, 'RunPod GPU Pricing', 10 March 2026)"


@dataclass(frozen=True)
class GPU:
    """One GPU model. peak: dense 16-bit tensor TFLOP/s with fp32 accumulation (bf16; fp16 on T4)."""

    label: str
    usable_gib: float  # total capacity as PyTorch reports it
    usable_from: str
    peak_tflops: float
    bandwidth_gbs: float  # memory bandwidth, GB/s
    price: float | None  # $/GPU-hour in PRICES_FROM, None when not listed there
    bf16: bool = True


GPUS: dict[str, GPU] = {
    "a100-40": GPU("A100 40GB", 39.50, "PyTorch OOM message on an A100 40GB (TianheWu/CoSeR#10)", 312, 1555, None),
    "a100-80": GPU("A100 80GB", 79.25, "PyTorch OOM message on an A100 80GB (levihsu/OOTDiffusion#235)", 312, 2039, 2.45),
    "h100": GPU("H100 80GB SXM", 79.11, "PyTorch OOM messages on H100 80GB in public training logs", 989, 3350, 4.76),
    "l40s": GPU("L40S 48GB", 44.42, "PyTorch OOM message on an L40S (stepfun-ai/Step-Video-T2V#8)", 362, 864, 1.40),
    "l4": GPU("L4 24GB", 22.05, "PyTorch OOM messages on 24 GB L4/A10G-class cards", 121, 300, 0.78),
    "rtx4090": GPU("RTX 4090 24GB", 23.64, "PyTorch OOM message on an RTX 4090 (3DTopia/Phidias-Diffusion#8)", 165.2, 1008, 0.60),
    "t4": GPU("T4 16GB", 14.75, "PyTorch OOM message on a Colab T4 (hpcaitech/Open-Sora#697)", 65, 320, None, bf16=False),
}
