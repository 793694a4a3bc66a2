"""What a lab's `render` returns, and the registry of labs the runtime may load.

Why: one tiny contract lets the build hook, the browser worker and the tests drive every lab the
same way: `render(params, state, action, payload) -> View`.
"""

from __future__ import annotations

from dataclasses import dataclass

LABS = ("quantization", "lora", "rlhf", "distillation")


@dataclass
class View:
    """A rendered lab view.

    html: the fragment swapped into `[data-lab-view]`; summary: one sentence for screen readers;
    state: what a training lab keeps between calls (opaque to the runtime); store: reader data the
    page should persist (JSON-able), or None.
    """

    html: str
    summary: str
    state: object = None
    store: object = None
