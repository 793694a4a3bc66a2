"""RLHF Lab: your A/B picks fit a reward model; best-of-n against it shows when optimising it stops helping.

Each pick adds a label and refits the Bradley–Terry reward model r = w·φ and a toy DPO policy
(`rlhf_state`). The main chart is best-of-n on held-out prompts: the learned (proxy) reward and the
hidden true reward of the chosen answer as n grows (`rlhf_measure`, `best_of_n`). Below it, GRPO's
group update on the prompt on screen beside DPO's policy. Labels are the reader's work: the view hands
them to the page as `store`, which keeps them in localStorage.
"""

from __future__ import annotations

import re

import numpy as np

from labs_py import bradley_terry as bt
from labs_py import dpo
from labs_py import preferences as pref
from labs_py import rlhf_measure as ms
from labs_py import rlhf_state as st
from labs_py.controls import Choice, Slider
from labs_py.fmt import count, pct, sig
from labs_py.html import esc, figure
from labs_py.lab import Metric, Options, Reveal, Step, View, undefined
from labs_py.rlhf_state import Session
from labs_py.svg import Marks, Series, hbar_chart, line_chart, responsive

NAME = "rlhf"
TITLE = "RLHF Lab"
QUESTION = ("Your picks train a reward model: how well does it generalise, and what happens when best-of-n "
            "optimises against it?")
KEY = ("annotator", "bon")
LEARNING_RATES = ("0.1", "0.3", "1", "3", "10", "30")
CONTROLS = (
    Choice("annotator", "Simulated annotator", tuple(pref.ANNOTATOR_LABELS.items()), "careful",
           help="Who labels a batch when you press “Annotator: label a batch”."),
    Choice("bon", "Best-of-n: n", tuple((str(n), str(n)) for n in ms.BON_NS), "256",
           help="Answers drawn from π_ref per prompt; the reward model keeps its favourite."),
    Slider("n", "Pairs per batch", 10, 200, 10, 50, help="How many pairs the annotator labels per click.", integer=True),
    Slider("noise", "Annotator noise", 0.0, 2.0, 0.1, 0.5, help="0 never errs; more noise flips more close calls."),
    Choice("lr", "Learning rate η", tuple((v, v) for v in LEARNING_RATES), "1",
           help="Plain gradient descent on both models; try 30 to watch it overshoot."),
    Slider("steps", "Steps per label", 1, 100, 1, 20, help="Gradient steps run after each pick or batch.", integer=True),
    Slider("beta", "DPO β", 0.05, 1.0, 0.05, 0.1, help="Exchange rate between reward and distance from π_ref."),
    Slider("G", "GRPO group size G", 2, 16, 1, 8, help="Answers GRPO samples for the prompt on screen.", integer=True),
)
ACTIONS = (
    ("simulate", "Annotator: label a batch"),
    ("train", f"Train {st.TRAIN_STEPS} steps"),
    ("reset", "Reset labels", None, "Delete every label this lab has stored in this browser?"),
    ("export", "Export labels"),
    ("import", "Import labels"),
)
PICK_BUTTONS = (("a", "A is better", "a"), ("b", "B is better", "b"), ("skip", "Skip", "s"))


# ---- measurements ------------------------------------------------------------------------------

def _share(x: float) -> str:
    """A share of pairs as a whole percentage (200 pairs: finer digits would be noise), unless that reads 0 or 100 %."""
    text = pct(x, 0)
    return pct(x, 1) if text in ("0 %", "100 %") and 0 < x < 1 else text


def measure(s: Session, params: dict) -> dict[str, Metric]:
    """Every number the lab shows for this session and these params."""
    n = len(s.labels)
    mine = sum(by == "you" for *_, by in s.labels)
    bon = int(params["bon"])
    j = ms.BON_NS.index(bon)
    no_w = "no labels yet: every reward is 0, so every pair is a tie"
    m: dict[str, Metric] = {"labels": Metric(n, "Labels", count(n), f"{count(mine)} yours, {count(n - mine)} simulated", True)}
    H = len(pref.HELD_OUT[2])
    if s.w.any():
        acc, lo, hi = ms.heldout(s.w)
        m["heldout_acc"] = Metric(acc, "Held-out accuracy", _share(acc),
                                  f"of {H} pairs from unseen prompts; 95 % interval {_share(lo)[:-2]}–{_share(hi)}", True)
    else:
        m["heldout_acc"] = undefined("Held-out accuracy", no_w, True)
    curve = ms.bon_curve(s.w)
    if curve.proxy is None:
        m["proxy_gain"] = undefined("Learned reward, best-of-n", "no labels yet: the learned reward cannot choose", True)
        m["true_gain"] = undefined("True reward, best-of-n", "no labels yet: best-of-n picks at random", True)
    else:
        unit = f"n = 1 → {bon}, in SDs of π_ref's answers"
        m["proxy_gain"] = Metric(float(curve.proxy[j]), "Learned reward, best-of-n", f"{curve.proxy[j]:+.2f} SD", unit, True)
        m["true_gain"] = Metric(float(curve.true[j]), "True reward, best-of-n", f"{curve.true[j]:+.2f} SD", unit, True)
        peak = int(np.argmax(curve.true))
        m["true_peak_n"] = Metric(ms.BON_NS[peak], "True reward peaks at n", count(ms.BON_NS[peak]),
                                  f"{curve.true[peak]:+.2f} SD there")
    m["bon_kl"] = Metric(float(curve.kl[j]), "KL(best-of-n ‖ π_ref)", f"{sig(float(curve.kl[j]), 3)} nats" if j else "0 nats",
                         f"exact, mean over held-out prompts; log n − (n−1)/n = {sig(ms.best_of_n.kl_bound(bon), 3)}")
    ia, ib = st.current_pair(s.cursor)
    d = pref.PHI[ia] - pref.PHI[ib]
    p = float(bt.prob(s.w, d))
    m["p_a"] = Metric(p, "Reward model: P(A ≻ B)", f"{p:.2f}", "σ(w·φ(A) − w·φ(B)), before your pick")
    m["steps"] = Metric(s.steps, "Gradient steps", count(s.steps), f"η = {params['lr']}, {params['steps']} per label")
    ia_l, ib_l, y = st.label_arrays(s.labels)
    if n:
        D = pref.PHI[ia_l] - pref.PHI[ib_l]
        if s.optimum[0] != n:  # labels only ever grow within a session, so the count identifies them
            w_opt = bt.newton(D, y, w0=s.optimum[2])
            s.optimum = (n, bt.loss(w_opt, D, y), w_opt)
        m["loss"] = Metric(bt.loss(s.w, D, y), "Loss", sig(bt.loss(s.w, D, y), 4), f"mean NLL + (λ/2)‖w‖², λ = {bt.LAMBDA:g}")
        m["optimum"] = Metric(s.optimum[1], "Lowest possible loss", sig(s.optimum[1], 4), "exact minimum (Newton)")
        acc = bt.accuracy(s.w, D, y)
        m["train_acc"] = Metric(acc, "Accuracy on the labels", pct(acc), f"all {count(n)} labels")
    else:
        for key, label in (("loss", "Loss"), ("optimum", "Lowest possible loss"), ("train_acc", "Accuracy on the labels")):
            m[key] = undefined(label, "no labels yet")
    if s.w.any():
        cos = float(s.w @ pref.W_TRUE / np.linalg.norm(s.w) / np.linalg.norm(pref.W_TRUE))
        m["cosine"] = Metric(cos, "cos(w, r*'s weights)", f"{cos:.2f}", "1 = the same direction on φ")
    else:
        m["cosine"] = undefined("cos(w, r*'s weights)", "w = 0 has no direction")
    m.update(dpo_metrics(s, params))
    return m


def dpo_metrics(s: Session, params: dict) -> dict[str, Metric]:
    """DPO's numbers: its held-out accuracy, how far its policy moved from π_ref, and agreement with BT."""
    beta = params["beta"]
    kl = float(np.mean(dpo.kl_to_reference(s.theta, pref.PHI, pref.STARTS, pref.LOGP_REF)))
    out = {"kl": Metric(kl, "DPO: KL(πθ ‖ π_ref)", sig(kl, 3) if kl else "0", "nats, mean over prompts")}
    if not s.theta.any():
        reason = "no labels yet: πθ = π_ref, every implicit reward is 0"
        out["dpo_heldout_acc"] = undefined("DPO: held-out accuracy", reason)
        out["rank_agreement"] = undefined("DPO and BT order pairs alike", reason)
        return out
    r_hat = dpo.implicit_reward(s.theta, pref.PHI, pref.STARTS, beta, pref.LOGP_REF)
    hia, hib, hy = pref.HELD_OUT
    m = hy * (r_hat[hia] - r_hat[hib])
    held = float(np.mean((m > 0) + 0.5 * (m == 0)))
    out["dpo_heldout_acc"] = Metric(held, "DPO: held-out accuracy", _share(held), "implicit reward β log πθ/π_ref")
    if s.w.any():
        r_bt = pref.PHI[hia] @ s.w - pref.PHI[hib] @ s.w
        same = float(np.mean(np.sign(r_bt) == np.sign(r_hat[hia] - r_hat[hib])))
        out["rank_agreement"] = Metric(same, "DPO and BT order pairs alike", _share(same), f"of the {len(hy)} held-out pairs")
    return out


# ---- rendering ---------------------------------------------------------------------------------

def render(params: dict, state: object = None, action: str | None = None, payload: object = None) -> View:
    """The pair to label with the best-of-n chart beside the key controls; reward model, GRPO and DPO below."""
    live = action is not None or isinstance(state, Session)  # the build's snapshot: buttons wait for the runtime
    if action == "init":
        s, note = st.from_stored(payload.get("stored") if isinstance(payload, dict) else None, state, params)
        store = None
    elif isinstance(state, Session):
        s, store, note = st.act(state, params, action, payload)
    else:  # a request before the stored labels arrived: show the lab, write nothing
        s, store, note = Session(problem=st.UNREAD), None, ""
        if action is not None:
            s, store, note = st.act(s, params, action, payload)
    metrics = measure(s, params)
    chart = problem_html(s) + note_html(note) + pair_section(s, params, live) + bon_figure(s, params)
    body = reward_section(s, params) + grpo_section(s, params) + dpo_section(s, params)
    return View(chart, body, summary(metrics), metrics, state=s, store=store)


def problem_html(s: Session) -> str:
    """What the reader must decide before labelling again: unreadable or earlier-version stored labels."""
    export = '<button type="button" class="md-button lab-action" data-action="export">Export stored labels</button>'
    reset = ('<button type="button" class="md-button lab-action" data-action="reset_store" '
             'data-confirm="Delete the stored labels and start again?">Reset stored labels</button>')
    if s.problem == st.CORRUPT:
        text = ("<strong>Your stored labels could not be read</strong>: the value this browser keeps for the lab was "
                f"refused because {esc(s.detail)}. It has been left exactly as it is, and nothing will overwrite it: "
                "export a copy if you want one, then reset it to start labelling again.")
    elif s.problem == st.OLD:
        text = (f"<strong>This browser holds {esc(s.detail)} labels from the lab's earlier version.</strong> They "
                "judge answers that have since been replaced by a larger, harder set, so they cannot train today's "
                "models. They are kept exactly as they are: export them to keep a copy, then reset to start on the "
                "new pairs.")
    else:
        return ""
    return f'<div class="rlhf-problem" role="alert"><p>{text}</p><p class="rlhf-problem__actions">{export}{reset}</p></div>'


def note_html(note: str) -> str:
    """A one-off message about the last action (escaped: it may quote an imported file)."""
    return f'<p class="lab-note rlhf-message" role="status">{esc(note)}</p>' if note else ""


def _text_html(text: str) -> str:
    """Answer text: escaped, with `code` spans as <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", esc(text))


def feedback(s: Session) -> str:
    """What happened to the previous pair: the pick, and whether the model's prediction agreed with it."""
    if s.last is None:
        return "Which answer is better? Your pick trains the reward model; this line then says whether it had predicted it."
    picked, p = s.last
    if picked == "skip":
        return "You skipped the previous pair."
    p_pick = p if picked == "A" else 1 - p
    if p == 0.5:
        verdict = "it had no preference yet"
    elif p_pick > 0.5:
        verdict = "it agreed"
    else:
        verdict = "it disagreed, so this label pulls w towards the features of your pick"
    return f"Previous pair: you picked {picked}. The model had given {picked} a probability of {p_pick:.2f}: {verdict}."


def _button(action: str, label: str, key: str, live: bool) -> str:
    off = "" if live else " disabled"
    return (f'<button type="button" class="md-button lab-action rlhf-pick" data-action="{action}" data-key="{key}" '
            f'aria-keyshortcuts="{key}"{off}>{esc(label)} <kbd>{key.upper()}</kbd></button>')


def pair_section(s: Session, params: dict, live: bool) -> str:
    """The prompt, answers A and B, the pick buttons under them, the model's prediction and the features on demand."""
    ia, ib = st.current_pair(s.cursor)
    prompt = pref.PROMPTS[pref.PROMPT_OF[ia]]
    d = pref.PHI[ia] - pref.PHI[ib]  # (d,)
    p = float(bt.prob(s.w, d))
    cands = "".join(
        f'<div class="rlhf-cand"><p class="rlhf-cand__slot">{slot}</p>'
        f'<p class="rlhf-cand__text">{_text_html(pref.RESPONSES[i].text)}</p></div>'
        for slot, i in (("A", ia), ("B", ib)))
    rows = "".join(
        f'<tr><th scope="row">{esc(f)}</th><td>{pref.PHI[ia, k]:.2f}</td><td>{pref.PHI[ib, k]:.2f}</td>'
        f"<td>{s.w[k]:+.2f}</td></tr>" for k, f in enumerate(pref.FEATURES))
    table = (f'<details class="rlhf-features"><summary>Features φ the reward model sees</summary>'
             f'<table><thead><tr><th scope="col">φ</th><th scope="col">A</th><th scope="col">B</th>'
             f'<th scope="col">w</th></tr></thead><tbody>{rows}</tbody></table>'
             + "".join(f"<p>{esc(f)}: {esc(h)}.</p>" for f, h in pref.FEATURE_HELP.items()) + "</details>")
    buttons = "".join(_button(a, label, key, live) for a, label, key in PICK_BUTTONS)
    prediction = ("The reward model has no preference yet (w = 0)." if not s.w.any()
                  else f"The reward model gives A ≻ B a probability of {p:.2f}.")
    pass_no, pair_no = divmod(s.cursor, st.N_TRAIN_PAIRS)
    return (f'<section class="rlhf-pair" aria-label="The pair to judge"><p class="rlhf-feedback" data-feedback>'
            f'{esc(feedback(s))}</p><p class="rlhf-prompt"><span class="rlhf-prompt__label">Prompt</span> {esc(prompt.text)}'
            f' <span class="rlhf-pair__meta">pair {pair_no + 1} of {st.N_TRAIN_PAIRS}'
            f'{f", pass {pass_no + 1}" if pass_no else ""}</span></p>'
            f'<div class="rlhf-cands">{cands}</div><div class="rlhf-picks" role="group" aria-label="Your pick">{buttons}</div>'
            f'<p class="rlhf-prediction">{esc(prediction)} Keys A, B and S work while focus is in the lab.</p>{table}</section>')


def bon_chart(curve: ms.BonCurve, bon: int, width: int) -> str:
    """Proxy and true reward of best-of-n's answer against n (log scale), the reader's n marked."""
    x = np.log2(np.array(ms.BON_NS, float))
    series = [Series("true r*", x, curve.true, "c1")]
    points = [(np.log2(bon), float(curve.true[ms.BON_NS.index(bon)]), "", "c1")]
    if curve.proxy is not None:
        series.insert(0, Series("learned w·φ", x, curve.proxy, "c0"))
        points.append((np.log2(bon), float(curve.proxy[ms.BON_NS.index(bon)]), "", "c0"))
    step = 1 if width >= 500 else 2
    ticks = [(float(np.log2(n)), str(n)) for k, n in enumerate(ms.BON_NS) if k % step == 0]
    lo = min(-0.5, float(np.min(curve.true)) - 0.2)
    hi = max(1.0, float(np.max(curve.proxy if curve.proxy is not None else curve.true)) + 0.2)
    return line_chart(series, "Reward of best-of-n's pick", "n: answers drawn per prompt (log scale)",
                      "change from n = 1 (SD)", x_range=(0, 8), y_range=(lo, hi), x_ticks=ticks, width=width,
                      marks=Marks(hlines=[(0.0, "", "c3")], vlines=[(np.log2(bon), "", "c3")], points=points))


def bon_figure(s: Session, params: dict) -> str:
    """The main chart with a caption that says what is plotted and over what."""
    curve = ms.bon_curve(s.w)
    bon = int(params["bon"])
    caption = (f"Dots: your n = {bon}. Best-of-n draws n answers per held-out prompt from π_ref and keeps the one the "
               f"learned reward scores highest. Both curves are exact expectations over the {len(pref.HELD_OUT_PROMPTS)} "
               "held-out prompts, in standard deviations of each reward over π_ref's answers.")
    if curve.proxy is None:
        caption += " With no labels the learned reward is 0 for every answer, so best-of-n picks at random: both stay at 0."
    return figure(responsive(lambda width: bon_chart(curve, bon, width)), caption)


def _loss_chart(s: Session, best: float, width: int) -> str:
    """Both losses at every recorded gradient step; the dashed line is the exact optimum of the BT loss."""
    steps = np.array([h[0] for h in s.history], float)
    bt_y = np.array([h[1] for h in s.history])
    dpo_y = np.array([h[2] for h in s.history])
    top = max(0.8, 1.05 * float(max(bt_y.max(), dpo_y.max()))) if s.history else 0.8
    marks = Marks(hlines=[(best, "BT optimum", "c1")] if s.labels else [])
    return line_chart([Series("BT loss + L2", steps, bt_y, "c0"), Series("DPO loss", steps, dpo_y, "c2", dashed=True)],
                      "Loss over gradient steps", "gradient step", "loss", x_range=(0, max(s.steps, 20)),
                      y_range=(0, top), marks=marks, width=width)


def _unit(v: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(v))
    return v / norm if norm else v


def reward_section(s: Session, params: dict) -> str:
    """The learned weights against the true reward's, and the loss curve."""
    v_dpo = params["beta"] * s.theta  # (d,) the implicit reward is (βθ)·φ up to a per-prompt constant
    groups = [("learned w", _unit(s.w), "c0"), ("DPO βθ", _unit(v_dpo), "c2"), ("r*", _unit(pref.W_TRUE), "c1")]
    bars = responsive(lambda width: hbar_chart(list(pref.FEATURES), groups, "Reward weights, scaled to length 1",
                                               "weight on the feature", x_range=(-1, 1), value_fmt="{:+.2f}", width=width))
    best = s.optimum[1] if s.labels else float("nan")
    return ('<h2 class="rlhf-h">Reward model: Bradley–Terry</h2>'
            '<p class="lab-note">r(x) = w·φ(x) and P(A ≻ B) = σ(r_A − r_B). r* is the hidden true reward: its weights on '
            "φ, plus what φ cannot see (how good each core sentence is, and a cost per padding sentence). Only the "
            "direction of a weight vector matters for rankings, so all three are drawn at length 1.</p>"
            + figure(bars, "DPO's implicit reward β log πθ/π_ref equals (βθ)·φ plus a constant per prompt.")
            + figure(responsive(lambda width: _loss_chart(s, best, width)),
                     "Each new label changes the loss (a jump); gradient descent then pulls it down towards the optimum."))


def _snippet(text: str, words: int = 9) -> str:
    """The first few words of an answer."""
    parts = text.replace("`", "").split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


def grpo_section(s: Session, params: dict) -> str:
    """One GRPO update on the prompt on screen: the group, rewards, advantages, and π before and after."""
    ia, _ = st.current_pair(s.cursor)
    g = ms.grpo_group(s.w, pref.PROMPT_OF[ia], params["G"], s.cursor)
    head = ('<h2 class="rlhf-h">GRPO beside DPO</h2><p class="lab-note">GRPO (DeepSeekMath §4.1) samples a group of '
            f"G = {params['G']} answers to the prompt above from the current policy (here π_ref), scores them with the "
            "reward model, and gives each the advantage Â = (r − mean r) / std r of its group. One update then "
            f"climbs the clipped objective (ε = {ms.grpo.EPS:g}, KL weight {ms.grpo.KL_BETA:g}) for "
            f"{ms.GRPO_ITERATIONS} gradient steps.</p>")
    if not g.A.any():
        return head + ('<p class="lab-note">Every answer in the group has the same reward (with no labels, w = 0 scores '
                       "everything 0), so every advantage is 0 and GRPO changes nothing.</p>")
    order = np.argsort(-g.r, kind="stable")
    rows = "".join(
        f'<tr class="{"rlhf-up" if g.after[i] > g.before[i] else "rlhf-down"}"><td>{esc(_snippet(pref.RESPONSES[g.rows[i]].text))}</td>'
        f"<td>{g.r[i]:+.2f}</td><td>{g.A[i]:+.2f}</td><td>{pct(g.before[i])}</td><td>{pct(g.after[i])}</td>"
        f'<td>{"▲" if g.after[i] > g.before[i] else "▼"} {g.after[i] / g.before[i]:.2f}×</td></tr>' for i in order)
    table = ('<div class="rlhf-scroll" tabindex="0" role="region" aria-label="GRPO group"><table class="rlhf-rank">'
             f"<caption>The group, best reward first: probability before and after one update "
             f"({pct(g.moved)} of the probability moved in all)</caption><thead><tr><th scope=\"col\">answer</th>"
             '<th scope="col">r</th><th scope="col">Â</th><th scope="col">π_old</th><th scope="col">π_new</th>'
             f'<th scope="col">change</th></tr></thead><tbody>{rows}</tbody></table></div>')
    return head + table


def dpo_section(s: Session, params: dict) -> str:
    """DPO's policy on the prompt on screen: the answers it now favours, against π_ref."""
    ia, _ = st.current_pair(s.cursor)
    rows_idx = pref.rows_of(pref.PROMPT_OF[ia])
    pi = np.exp(dpo.log_policy(s.theta, pref.PHI, pref.STARTS, pref.LOGP_REF))[rows_idx]
    ref = np.exp(pref.LOGP_REF[rows_idx])
    top = np.argsort(-pi, kind="stable")[:5]
    rows = "".join(f"<tr><td>{esc(_snippet(pref.RESPONSES[rows_idx[i]].text))}</td><td>{pct(ref[i])}</td>"
                   f"<td>{pct(pi[i])}</td><td>{pref.TRUE[rows_idx[i]]:+.2f}</td></tr>" for i in top)
    return ('<p class="lab-note">DPO (Rafailov et al. 2023, Eq. 7) needs no reward model and no sampling: it trains '
            f"πθ ∝ π_ref·exp(θ·φ) on the labelled pairs themselves, with β = {params['beta']:g}. Its five most likely "
            "answers to this prompt now:</p>"
            '<div class="rlhf-scroll" tabindex="0" role="region" aria-label="DPO policy"><table class="rlhf-rank">'
            '<thead><tr><th scope="col">answer</th><th scope="col">π_ref</th><th scope="col">πθ</th>'
            f'<th scope="col">true r*</th></tr></thead><tbody>{rows}</tbody></table></div>')


def summary(m: dict[str, Metric]) -> str:
    """One sentence for screen readers."""
    return (f"{m['labels'].text} labels. Reward model P(A better than B) = {m['p_a'].text}. Held-out accuracy "
            f"{m['heldout_acc'].text}. Best-of-n: learned reward {m['proxy_gain'].text}, true reward {m['true_gain'].text}.")


# ---- guided steps: each answer is computed with the lab's own code when the reader checks ------------

def _check_labels(prediction: str) -> Reveal:
    a5, a50 = ms.learning_curve("careful", (5, 50), 10)
    gain = 100 * (a50 - a5)
    right = prediction == min(("0", "10", "25", "40"), key=lambda v: abs(float(v) - gain))
    return Reveal(right, f"Averaged over 10 label streams from the careful annotator: {_share(a5)} after 5 labels, "
                         f"{_share(a50)} after 50, {gain:.0f} points more. Five labels pin down only a few of the six "
                         "weights; the held-out tile's interval shows how much 200 pairs can tell apart.")


def _check_longer(prediction: str) -> Reveal:
    curve = ms.bon_curve(ms.fit("longer", 50).w)
    peak = int(np.argmax(curve.true))
    end = float(curve.true[-1])
    answer = "falls" if end < 0 else ("rises" if end > 0.1 else "flat")
    return Reveal(prediction == answer,
                  f"After its first 50 labels, best-of-256 raises the learned reward by {curve.proxy[-1]:+.2f} SD, but the "
                  f"true reward ends at {end:+.2f} SD, after peaking at {curve.true[peak]:+.2f} SD around n = "
                  f"{ms.BON_NS[peak]}. Small n finds answers with detail (long and good); large n finds the padded, "
                  "hedged ones (longer still, and worse).")


def _check_grpo(prediction: str) -> Reveal:
    s = ms.fit("careful", 50)
    g = ms.grpo_group(s.w, pref.PROMPT_OF[st.current_pair(0)[0]], 8, 0)
    up = g.after > g.before
    above = g.A > 0
    agree = int(np.sum(up == above))
    answer = "above" if agree == len(up) else ("top" if up.sum() == 1 else "mixed")
    return Reveal(prediction == answer,
                  f"For the first pair's prompt, after the careful annotator's first 50 labels: {int(above.sum())} of "
                  f"{len(up)} answers score above the group's mean, and {int(up.sum())} gain probability; the sign of "
                  f"the advantage and the direction of the change agree for {agree} of {len(up)}. "
                  "Â > 0 pushes an answer up and Â < 0 pushes it down; the table shows each one.")


def _check_beta(prediction: str) -> Reveal:
    kls = {}
    for beta in (0.5, 0.05):
        s = st.Session(labels=st.simulated("careful", 50, 0.5, 0))
        st.train(s, 1.0, beta, st.TRAIN_STEPS)
        kls[beta] = float(np.mean(dpo.kl_to_reference(s.theta, pref.PHI, pref.STARTS, pref.LOGP_REF)))
    answer = "larger" if kls[0.05] > 1.2 * kls[0.5] else ("smaller" if kls[0.05] < kls[0.5] / 1.2 else "same")
    return Reveal(prediction == answer,
                  f"Same 50 labels, {st.TRAIN_STEPS} steps: KL(πθ ‖ π_ref) is {sig(kls[0.5], 3)} nats at β = 0.5 and "
                  f"{sig(kls[0.05], 3)} at β = 0.05. DPO fits the same implicit reward βθ either way, so a smaller β needs "
                  "a larger θ: the policy moves further from π_ref.")


STEPS = (
    Step("labels", "With the careful annotator, how much higher is held-out accuracy after 50 labels than after 5?",
         {"annotator": "careful", "n": 50}, Options((("0", "about the same"), ("10", "about 10 points"),
                                                     ("25", "about 25 points"), ("40", "about 40 points"))),
         _check_labels, "simulate"),
    Step("longer", "Labels from the annotator who prefers longer answers: as best-of-256 optimises the reward model "
                   "they train, the true reward of what it picks…", {"annotator": "longer", "bon": "256", "n": 50},
         Options((("rises", "keeps rising"), ("flat", "stays about level"), ("falls", "ends below where it started"))),
         _check_longer, "simulate"),
    Step("grpo", "GRPO scores a group of 8 answers with the reward model and updates the policy once. Which answers "
                 "gain probability?", {"annotator": "careful", "G": 8},
         Options((("top", "only the best one"), ("above", "those above the group's mean reward"),
                  ("mixed", "no clear rule"))), _check_grpo),
    Step("beta", "DPO on the same labels: lowering β from 0.5 to 0.05 makes the policy's KL from π_ref…",
         {"beta": 0.05}, Options((("smaller", "smaller"), ("same", "about the same"), ("larger", "larger"))),
         _check_beta, "train"),
)
