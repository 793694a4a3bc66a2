"""The distillation teacher: real GPT-2 next-token logits, loaded from the data the build derives.

Why: the lab distils a real model, GPT-2 small (117M), not a made-up distribution. The build
(`scripts/derive_teacher.py`) reduces the verified raw outputs to `_data/teacher.json`: per context,
the teacher's top-K tokens with their logits, the true next token, the same tokens' logits under
GPT-2 medium (345M), and what the remaining ~50,000 tokens contribute at every temperature the lab
allows. This module turns that into exact tempered distributions over K tokens + one "rest" bucket.

Why the rest bucket is exact: its tempered weight is Σ_tail exp(z_j / T), which depends on all tail
logits, not on one number, so the data holds log Σ_tail exp(z_j / T) for each T on the slider's grid
(0.5, 0.6, …, 10). The slider cannot leave that grid, and an off-grid T is an error, never a guess.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from labs_py import kd

FORMAT = 2  # bumped whenever the JSON layout changes; the build re-derives stale data
DATA = Path(__file__).with_name("_data") / "teacher.json"
T_LO, T_HI, T_STEP = 0.5, 10.0, 0.1  # the temperature slider, and the grid the tail sums are stored on
T_GRID = np.round(T_LO + T_STEP * np.arange(round((T_HI - T_LO) / T_STEP) + 1), 10)  # (96,)
VISIBLE = {" ": "␣", "\n": "↵", "\t": "⇥", "\r": "␍"}  # whitespace drawn so a token's leading space shows

# The contexts the build derives (key, menu label), known without the data so the lab imports without it;
# tests check that the derived data has exactly these.
CONTEXTS = (
    ("g0", "1/14: natural"),
    ("g1", "2/14: natural language"),
    ("g2", "3/14: natural language processing"),
    ("g3", "4/14: …language processing tools"),
    ("g4", "5/14: …processing tools such"),
    ("g5", "6/14: …processing tools such as"),
    ("g6", "7/14: …processing tools such as gl"),
    ("g7", "8/14: …processing tools such as glu"),
    ("g8", "9/14: …processing tools such as gluon"),
    ("g9", "10/14: …tools such as gluonnl"),
    ("g10", "11/14: …tools such as gluonnlp"),
    ("g11", "12/14: …tools such as gluonnlp and"),
    ("g12", "13/14: …such as gluonnlp and torch"),
    ("g13", "14/14: …as gluonnlp and torchtext"),
    ("w4", "top-20 only · woodchuck: How much wood would"),
    ("w13", "top-20 only · woodchuck: …a woodchuck chuck if a woodch"),
    ("w15", "top-20 only · woodchuck: …chuck if a woodchuck could"),
    ("w17", "top-20 only · woodchuck: …a woodchuck could chuck wood"),
    ("u25", "top-20 only · unicorn: …unexplored valley, in the And"),
    ("u43", "top-20 only · unicorn: …the unicorns spoke perfect"),
    ("u86", "top-20 only · unicorn: …cience. ↵ Now, after almost two"),
    ("u106", "top-20 only · unicorn: …finally solved. ↵ Dr. Jorge P"),
)


@dataclass(frozen=True)
class Context:
    """One prediction point: the text so far and the teacher's view of the next token.

    Buckets are the context's tokens (the teacher's top K, plus the true next token when it ranks
    lower), followed by one "rest of vocabulary" bucket when the full vocabulary is known.
    """

    key: str  # e.g. "g4" (gluon-nlp sentence, position 4) or "w13" (GLTR woodchuck demo, position 13)
    source: str  # "gluon" (full vocabulary, 117M and 345M) or "gltr" (117M top-20 only)
    label: str  # the option text in the lab's context menu
    prefix: str  # the text the model has read (possibly shortened at the front with "…")
    token_ids: np.ndarray  # (K,) GPT-2 vocabulary ids
    tokens: tuple[str, ...]  # (K,) decoded text of each token, leading spaces included
    z: np.ndarray  # (K,) teacher logits (GLTR: log p, equal to the logits up to a constant)
    z_ref: np.ndarray | None  # (K,) GPT-2 medium's logits at the same tokens (gluon only)
    y: int | None  # index of the true next token among `tokens`; None at the end of the text
    y_rank: int | None  # the true next token's rank in the teacher's full ranking (1 = top)
    top_k: int  # how many of `tokens` are the teacher's top tokens (the true next token may follow them)
    tail_size: int  # tokens in the rest bucket (0: no rest bucket)
    tail_lse: np.ndarray | None  # (len(T_GRID),) log Σ_tail exp(z_j / T), 117M
    tail_mean: np.ndarray | None  # (len(T_GRID),) E_q[z_j / T] under the tail's own tempered distribution q
    tail_lse_ref: np.ndarray | None  # (len(T_GRID),) log Σ_tail exp(z_j / T), 345M
    tail_cross: np.ndarray | None  # (len(T_GRID),) E_q'[(z'_j − z_j) / T], q' the 345M tail's tempered distribution
    top_mass: float  # teacher probability (T = 1) of the listed tokens (GLTR: the 20 as published)
    note: str  # what was dropped or flagged while deriving, or ""

    @property
    def n(self) -> int:
        """Number of buckets the student models."""
        return len(self.tokens) + (1 if self.tail_size else 0)

    @property
    def log_m(self) -> np.ndarray:
        """log of each bucket's size, shape (n,): 0 for a token, log(tail_size) for the rest bucket."""
        out = np.zeros(self.n)
        if self.tail_size:
            out[-1] = np.log(self.tail_size)
        return out


@dataclass(frozen=True)
class Teacher:
    """All contexts plus the provenance shown on the lab page."""

    contexts: tuple[Context, ...]
    sources: dict  # key → {model, project, commit, url, files, licence}
    vocab_size: int


def _array(x: list | None) -> np.ndarray | None:
    return None if x is None else np.asarray(x, float)


@lru_cache(maxsize=1)
def load(path: Path = DATA) -> Teacher:
    """The derived teacher data (cached); a clear error when it is missing or stale."""
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `python scripts/derive_teacher.py` (the site build does)")
    data = json.loads(path.read_text())
    if data.get("format") != FORMAT or data.get("T_grid") != T_GRID.tolist():
        raise ValueError(f"{path} is stale (format or temperature grid changed): run `python scripts/derive_teacher.py`")
    contexts = tuple(
        Context(c["key"], c["source"], c["label"], c["prefix"], np.asarray(c["token_ids"], int), tuple(c["tokens"]),
                _array(c["z"]), _array(c.get("z_ref")), c["y"], c["y_rank"], c["top_k"], c["tail_size"], _array(c.get("tail_lse")),
                _array(c.get("tail_mean")), _array(c.get("tail_lse_ref")), _array(c.get("tail_cross")),
                c["top_mass"], c["note"])
        for c in data["contexts"])
    return Teacher(contexts, data["sources"], data["vocab_size"])


def context(key: str) -> Context:
    """The context with this key."""
    for c in load().contexts:
        if c.key == key:
            return c
    raise KeyError(f"no teacher context {key!r}")


def grid_index(T: float) -> int:
    """Position of T on the stored temperature grid; off-grid values are an error."""
    i = round((T - T_LO) / T_STEP)
    if not 0 <= i < T_GRID.size or abs(T_GRID[i] - T) > 1e-9:
        raise ValueError(f"T = {T!r} is not on the stored grid {T_LO:g}, {T_LO + T_STEP:g}, …, {T_HI:g}")
    return i


def _bucket_log_probs(z: np.ndarray, tail_lse: np.ndarray | None, T: float) -> np.ndarray:
    """log p^T over the buckets: softmax of [z / T, log Σ_tail exp(z_j / T)], exact over the full vocabulary."""
    a = z / T
    if tail_lse is not None:
        a = np.append(a, tail_lse[grid_index(T)])
    return kd.log_softmax(a)


def teacher_log_probs(ctx: Context, T: float) -> np.ndarray:
    """The teacher's (117M) tempered log-probabilities over the context's buckets, shape (n,)."""
    return _bucket_log_probs(ctx.z, ctx.tail_lse, T)


def reference_log_probs(ctx: Context, T: float) -> np.ndarray | None:
    """GPT-2 medium's (345M) tempered log-probabilities over the same buckets, or None (GLTR contexts)."""
    if ctx.z_ref is None:
        return None
    return _bucket_log_probs(ctx.z_ref, ctx.tail_lse_ref, T)


def vocab_entropy(ctx: Context, T: float) -> float | None:
    """Entropy of the teacher's tempered distribution over all 50,257 tokens (None without the full vocabulary).

    Chain rule: H = H(buckets) + p_rest · H(q), with q the tail's own tempered distribution and
    H(q) = log Σ_tail exp(z_j / T) − E_q[z_j / T], both stored per grid temperature.
    """
    if ctx.tail_lse is None:
        return None
    log_p = teacher_log_probs(ctx, T)
    i = grid_index(T)
    return kd.entropy(log_p) + float(np.exp(log_p[-1])) * float(ctx.tail_lse[i] - ctx.tail_mean[i])


def reference_kl_vocab(ctx: Context, T: float) -> float | None:
    """KL(345M ‖ 117M) at T over all 50,257 tokens (None without the full vocabulary).

    Listed tokens contribute p' (log p' − log p) directly; over the tail, log p'_j − log p_j =
    (z'_j − z_j) / T − A' + A with A, A' the log-partition functions, so the tail adds
    p'_rest · (E_q'[(z'_j − z_j) / T] − A' + A), and E_q' is stored per grid temperature.
    """
    if ctx.tail_cross is None:
        return None
    log_p, log_q = teacher_log_probs(ctx, T), reference_log_probs(ctx, T)  # 117M, 345M over the buckets
    i = grid_index(T)
    A = kd.logsumexp(np.append(ctx.z / T, ctx.tail_lse[i]))
    A_ref = kd.logsumexp(np.append(ctx.z_ref / T, ctx.tail_lse_ref[i]))
    listed = float(np.sum(np.exp(log_q[:-1]) * (log_q[:-1] - log_p[:-1])))
    return listed + float(np.exp(log_q[-1])) * float(ctx.tail_cross[i] - A_ref + A)


def shown(text: str) -> str:
    """A token as the lab draws it: whitespace made visible (' as' → '␣as', '\\n' → '↵')."""
    return "".join(VISIBLE.get(ch, ch) for ch in text) or "∅"
