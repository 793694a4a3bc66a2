"""What a teacher's soft distribution looks like: GPT-2 small's next token, softened by a temperature T.

Why: before a student learns from soft targets, the reader should see one. The teacher is real
(`teacher`: GPT-2 small's logits for its top 20 tokens plus one exact "rest of the vocabulary"
bucket). Three pictures: the 20 tokens on a scale of their own (the rest bucket, which at T = 4
holds almost all the mass, gets its own bar instead of squashing theirs), the entropy against T,
and how the mass moves between the top tokens and the rest as T grows. Softening never reorders
single tokens (z/T keeps their order); only the rest bucket, a sum of ~50,000 tokens, climbs past them.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from labs_py import kd, teacher
from labs_py.fmt import count, pct, sig
from labs_py.html import esc, figure
from labs_py.lab import Metric
from labs_py.svg import Marks, Panel, Series, hbar_panels, line_chart, responsive, share_bar

TOP_KS = (1, 5, 20)  # cumulative masses against T (top 1 and top 20 drawn; top 5 lies between them)
DRAWN = np.r_[0:teacher.T_GRID.size - 1:2, teacher.T_GRID.size - 1]  # every other grid T and the last: half the markup
PHONE_W = 310  # the token bars' phone drawing: about the column's CSS width, so 12 px labels stay 12 px


def share(x: float) -> str:
    """A share of the probability as a percentage: one decimal, or significant figures below 0.1 %."""
    return pct(x) if x >= 0.001 or x == 0 else f"{sig(100 * x, 2)} %"


@lru_cache(maxsize=512)
def distribution(key: str, T: float) -> np.ndarray:
    """p^T over the context's buckets (tokens, then the rest bucket when there is one)."""
    return np.exp(teacher.teacher_log_probs(teacher.context(key), T))


def rest_rank(key: str, T: float) -> int | None:
    """Rank of the rest bucket among all buckets at T (1 = the most probable), or None without one."""
    ctx = teacher.context(key)
    if not ctx.tail_size:
        return None
    p = distribution(key, T)
    return int(np.sum(p[:-1] > p[-1])) + 1


@lru_cache(maxsize=64)
def curves(key: str) -> dict[str, np.ndarray]:
    """Along the temperature grid: entropy / its maximum (buckets, vocabulary) and the mass of the top k tokens and of the rest."""
    ctx = teacher.context(key)
    grid = teacher.T_GRID.tolist()
    P = np.array([distribution(key, T) for T in grid])  # (grid, n)
    tokens = P[:, :len(ctx.tokens)]
    top = np.sort(tokens, axis=1)[:, ::-1]  # (grid, tokens) descending: the order is the same at every T
    out = {"H": np.array([kd.entropy(np.log(np.maximum(p, 1e-300))) for p in P]) / np.log(ctx.n)}
    out.update({f"top{k}": top[:, :k].sum(axis=1) for k in TOP_KS if k <= top.shape[1]})
    if ctx.tail_size:
        out["rest"] = P[:, -1]
        out["Hv"] = np.array([teacher.vocab_entropy(ctx, T) for T in grid]) / np.log(teacher.load().vocab_size)
    return out


def token_chart(key: str, T: float, width: int) -> str:
    """The context's tokens at T on a linear scale set by the largest of them, values printed."""
    ctx = teacher.context(key)
    p = distribution(key, T)[:len(ctx.tokens)]
    labels = [teacher.shown(tok) + (" ✓" if i == ctx.y else "") for i, tok in enumerate(ctx.tokens)]
    panel = Panel(f"p at T = {T:g}", [("GPT-2 small", p, "c0")], x_range=(0.0, float(p.max()) * 1.05), value_fmt="{:.2g}")
    return hbar_panels(labels, [panel], f"GPT-2 small's {len(ctx.tokens)} listed tokens", bar=9, legend=False,
                       marked=() if ctx.y is None else (ctx.y,), width=width, label_w=104 if width >= 500 else 84)


def mass_chart(key: str, T: float, width: int) -> str:
    """Share of the mass held by the top token, the top 20 tokens and the rest of the vocabulary (top 1 and top 5 of
    a top-20-only context), against T."""
    ctx, c = teacher.context(key), curves(key)
    grid = teacher.T_GRID[DRAWN]
    ks = (1, 20) if "rest" in c else (1, 5)  # without a rest bucket the 20 tokens always hold everything
    series = [Series(f"top {k}", grid, c[f"top{k}"][DRAWN], cls) for k, cls in zip(ks, ("c0", "c1"), strict=True)]
    points = [(T, float(c["top1"][teacher.grid_index(T)]), "", "c0")]
    if "rest" in c:
        series.append(Series(f"rest ({count(ctx.tail_size)} tokens)", grid, c["rest"][DRAWN], "c3"))
        points.append((T, float(c["rest"][teacher.grid_index(T)]), f"T = {T:g}", "c3"))
    return line_chart(series, "Where the mass goes as T grows", "temperature T", "share of the probability",
                      x_range=(teacher.T_LO, teacher.T_HI), y_range=(0, 1.05), marks=Marks(points=points), width=width)


def entropy_chart(key: str, T: float, width: int) -> str:
    """Teacher entropy over its maximum against T: over the whole vocabulary when known, else over the listed tokens."""
    ctx, c = teacher.context(key), curves(key)
    H, name = (c["Hv"], f"all {count(teacher.load().vocab_size)} tokens") if "Hv" in c else (c["H"], f"the {ctx.n} tokens")
    point = (T, float(H[teacher.grid_index(T)]), f"T = {T:g}", "c0")
    return line_chart([Series(name, teacher.T_GRID[DRAWN], H[DRAWN], "c0")], "Teacher entropy against T", "temperature T",
                      "entropy / its maximum", x_range=(teacher.T_LO, teacher.T_HI), y_range=(0, 1.1),
                      marks=Marks(hlines=[(1.0, "uniform", "c2")], points=[point]), width=width)


def metrics(key: str, T: float) -> dict[str, Metric]:
    """The teacher's numbers at T (shown under "All numbers"); entropies over the whole vocabulary when it is known."""
    ctx = teacher.context(key)
    p = distribution(key, T)
    top = int(np.argmax(p[:len(ctx.tokens)]))
    V = teacher.load().vocab_size
    out = {"teacher_top": Metric(float(p[top]), f"GPT-2's top token {teacher.shown(ctx.tokens[top])}, probability at T = {T:g}",
                                 sig(float(p[top])), "the same token at every T: softening keeps the order")}
    if not ctx.tail_size:
        H = kd.entropy(np.log(np.maximum(p, 1e-300)))
        out["teacher_entropy"] = Metric(H, f"GPT-2 entropy at T = {T:g}", f"{sig(H)} nats",
                                        f"over the {ctx.n} published tokens only; uniform = {np.log(ctx.n):.2f}")
        return out
    Hv = teacher.vocab_entropy(ctx, T)
    kl = teacher.reference_kl_vocab(ctx, T)
    out.update({
        "teacher_rest": Metric(float(p[-1]), f"GPT-2's rest of the vocabulary at T = {T:g}", share(float(p[-1])),
                               f"{count(ctx.tail_size)} tokens together, share of all the probability"),
        "teacher_entropy_vocab": Metric(Hv, f"GPT-2 entropy at T = {T:g}", f"{sig(Hv)} nats", f"over all {count(V)} tokens"),
        "teacher_uniformity": Metric(Hv / np.log(V), "GPT-2 entropy / uniform's", share(Hv / np.log(V)),
                                     f"100 % would be all {count(V)} tokens equally likely"),
        "kl_medium_small": Metric(kl, f"KL(GPT-2 medium ‖ small) at T = {T:g}", f"{sig(kl)} nats",
                                  "how far a bigger model's soft distribution is, over the full vocabulary"),
    })
    return out


@lru_cache(maxsize=256)
def section(key: str, T: float) -> str:
    """The whole GPT-2 part as HTML (cached: it depends on the context and T only)."""
    ctx = teacher.context(key)
    p = distribution(key, T)
    parts = [figure(f'<div class="lab-chart-wide">{token_chart(key, T, 560)}</div>'
                    f'<div class="lab-chart-narrow">{token_chart(key, T, PHONE_W)}</div>',
                    "Each bar is one token's probability at T, on a scale set by the largest token so every bar stays "
                    "readable; ✓ marks the token that really came next. ␣ is a leading space.")]
    if ctx.tail_size:
        listed, rest = float(p[:-1].sum()), float(p[-1])
        rank = rest_rank(key, T)
        parts.append(figure(responsive(lambda w: share_bar(
            [(f"the {len(ctx.tokens)} listed tokens: {share(listed)}", listed, "c0"),
             (f"rest of the vocabulary ({count(ctx.tail_size)} tokens): {share(rest)}", rest, "c3")],
            f"Where the mass is at T = {T:g}", width=w)),
            f"The rest bucket is drawn apart: at this T it would rank {rank} of {ctx.n} as one bar, and on a common "
            "scale it would squash the tokens."))
    parts.append(figure(responsive(lambda w: mass_chart(key, T, w)),
                        "Raising T never reorders the listed tokens (z/T keeps their order); it moves mass from the top "
                        "tokens to everything else. " + (
                            "The rest of the vocabulary, tens of thousands of unlikely tokens, overtakes them one by one."
                            if ctx.tail_size else "Here only the 20 published tokens exist, so T spreads the mass over them.")))
    parts.append(figure(responsive(lambda w: entropy_chart(key, T, w)),
                        "Entropy as a share of a uniform distribution's. T → 0 puts all the mass on the top token "
                        "(0); large T flattens the distribution towards uniform (1)."))
    return (f'<section class="kd-gpt2" aria-label="A real teacher\'s soft distribution">'
            f"<h3>What a soft distribution looks like: GPT-2 small</h3>{context_note(key)}{''.join(parts)}</section>")


@lru_cache(maxsize=32)
def context_note(key: str) -> str:
    """The text the teacher has read, the true next token, and where the numbers come from."""
    ctx = teacher.context(key)
    T_ = teacher.load()
    src = T_.sources[ctx.source]
    truth = ("none: the sentence ends here" if ctx.y is None else
             f"<code>{esc(teacher.shown(ctx.tokens[ctx.y]))}</code>, the teacher's choice number {count(ctx.y_rank)}")
    extra = ctx.y is not None and ctx.y_rank > ctx.top_k
    if ctx.source == "gluon":
        scope = (f"Listed: the teacher's top {ctx.top_k} tokens{', the true next token' if extra else ''}; one bucket "
                 f"holds the other {count(ctx.tail_size)} of the {count(T_.vocab_size)} tokens, softened exactly.")
    else:
        scope = (f"<strong>Top-20 only</strong>: GLTR published GPT-2 small's 20 most likely tokens (here {pct(ctx.top_mass)} "
                 f"of its probability at T = 1), rounded to 5 decimals; the lab renormalises over them"
                 f"{' and the true next token' if extra else ''}, so there is no rest bucket.")
    note = f" {esc(ctx.note)}" if ctx.note else ""
    commit = f" @ <code>{esc(src['commit'][:7])}</code>" if src["commit"] else ""
    return (f'<p class="kd-context"><span class="kd-context__label">Context</span>'
            f'<span class="kd-context__text">{esc(ctx.prefix)}</span><span class="kd-context__cursor">▮</span></p>'
            f'<p class="lab-note">True next token: {truth}. {scope}{note} Source: {esc(src["model"])}, '
            f"<code>{esc(src['project'])}</code>{commit} ({esc(src['licence'])}); token text from "
            f"{esc(T_.sources['vocab']['project'])} ({esc(T_.sources['vocab']['licence'])}).</p>")
