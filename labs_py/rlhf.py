"""RLHF Lab: your A/B picks fit a Bradley–Terry reward model live, with DPO trained beside it.

Each pick adds a label; plain gradient descent then runs on all labels so far, for the reward model
r = w·φ (`bradley_terry`) and for a toy DPO policy over the same candidates (`dpo`). A simulated
annotator with a hidden preference vector can label a batch of pairs at once. Labels are the
reader's work: the view hands them to the page as `store`, which keeps them in localStorage.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import numpy as np

from labs_py import bradley_terry as bt
from labs_py import dpo
from labs_py import preferences as pref
from labs_py.controls import Choice, Slider
from labs_py.fmt import count, pct, sig
from labs_py.html import esc, figure, metric, metrics_grid
from labs_py.lab import View
from labs_py.svg import Marks, Series, hbar_chart, line_chart

NAME = "rlhf"
TITLE = "RLHF Lab"
STORE_VERSION = 1
MAX_LABELS = 2000  # a stored or imported label set may not be larger (about 100 kB of JSON)
MAX_STORE_CHARS = 400_000  # longer stored or imported text is refused before parsing
TRAIN_STEPS = 100  # steps of the "Train" button
RESTORE_STEPS = 200  # steps that refit both models from zero after a reload or an import
MAX_POINTS = 200  # loss history kept (and drawn); past that, only every 2nd, 4th, … step is kept
SIM_SEED = 6  # with the label count, fixes the simulated annotator's draws (reproducible batches)
PICKS = {"a": 1.0, "b": -1.0}  # action → y (+1: A ≻ B)
WRITES = ("a", "b", "skip", "simulate", "train", "import")  # actions refused while the stored labels are unreadable
LEARNING_RATES = ("0.1", "0.3", "1", "3", "10", "30")
LOGP_REF = dpo.uniform_reference(pref.STARTS, len(pref.PHI))  # (M,) log π_ref: uniform over each prompt's candidates
N_TRAIN_PAIRS = len(pref.TRAINING_ORDER)
BY = ("you", *pref.ANNOTATORS)  # who gave a label: the reader or a simulated annotator
ALL_PAIRS = tuple(np.array(c) for c in zip(*[  # every within-prompt pair of candidates, as (rows i, rows j)
    (pref.STARTS[p] + i, pref.STARTS[p] + j) for p, prompt in enumerate(pref.PROMPTS)
    for i in range(len(prompt.responses)) for j in range(i + 1, len(prompt.responses))], strict=True))

QUESTION = "How does a reward model learn from your A/B picks, and what does DPO do with the same picks?"
KEY = ("annotator",)
STEPS: tuple = ()
CONTROLS = (
    Choice("lr", "Learning rate η", tuple((v, v) for v in LEARNING_RATES), "1",
           help="Plain gradient descent on both models; try 30 to watch it overshoot."),
    Slider("steps", "Steps per label", 1, 100, 1, 20, help="Gradient steps run after each pick or batch.", integer=True),
    Slider("beta", "DPO β", 0.05, 1.0, 0.05, 0.1, help="Exchange rate between reward and distance from π_ref."),
    Choice("annotator", "Simulated annotator", (("careful", "careful: right and safe first"),
                                                ("verbose", "verbose: long and warm wins"),
                                                ("terse", "terse: short and right")), "careful",
           help="Its hidden preference vector w* is shown below."),
    Slider("noise", "Annotator noise", 0.0, 2.0, 0.1, 0.5, help="0 never errs; more noise flips more close calls."),
    Slider("n", "Pairs per batch", 10, 200, 10, 50, help="How many pairs the annotator labels per click.", integer=True),
)
ACTIONS = (
    ("a", "A is better (a)", "a"),
    ("b", "B is better (b)", "b"),
    ("skip", "Skip (s)", "s"),
    ("simulate", "Annotator: label a batch"),
    ("train", f"Train {TRAIN_STEPS} steps"),
    ("reset", "Reset labels", None, "Delete every label this lab has stored in this browser?"),
    ("export", "Export labels"),
    ("import", "Import labels"),
)
CORRUPT, DETACHED = "corrupt", "detached"


@dataclass
class Session:
    """The reader's labels, both models' parameters and the loss history.

    labels: (row of A, row of B, y, by) with y = +1 when A ≻ B and `by` "you" or an annotator name.
    problem: "" normally; CORRUPT when the stored labels could not be read, DETACHED when the worker
    restarted and lost them. In both cases nothing is written until the reader resets.
    """

    labels: list[tuple[int, int, float, str]] = field(default_factory=list)
    w: np.ndarray = field(default_factory=lambda: np.zeros(len(pref.FEATURES)))  # (d,) reward weights
    theta: np.ndarray = field(default_factory=lambda: np.zeros(len(pref.FEATURES)))  # (d,) DPO policy
    steps: int = 0
    history: list[tuple[int, float, float]] = field(default_factory=list)  # (step, BT loss, DPO loss)
    stride: int = 1
    cursor: int = 0  # how many pairs the reader has picked or skipped: the next pair to show
    last: tuple[str, float] | None = None  # the previous pair: ("A" | "B" | "skip", P(A ≻ B) before the pick)
    problem: str = ""
    detail: str = ""  # why the stored labels could not be read
    attached: bool = False  # True once the page's stored labels were read (init), reset or imported
    optimum: tuple[int, float, np.ndarray | None] = (0, float("nan"), None)  # (label count, min of the BT loss, its w)


# ---- labels ↔ the JSON the page stores ---------------------------------------------------------------

def _show(value: object) -> str:
    """A short rendering of untrusted JSON for an error message (escaped where it becomes HTML)."""
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, (str, int, float, bool, type(None))) else type(value).__name__
    return text if len(text) <= 40 else text[:37] + "…"


def to_store(labels: list[tuple[int, int, float, str]]) -> dict:
    """The JSON-able value the page keeps in localStorage (and Export downloads)."""
    return {"lab": NAME, "version": STORE_VERSION,
            "labels": [{"a": pref.RESPONSES[a].id, "b": pref.RESPONSES[b].id, "pick": "A" if y > 0 else "B", "by": by}
                       for a, b, y, by in labels]}


def parse_store(text: object) -> tuple[list[tuple[int, int, float, str]] | None, str]:
    """(labels, "") from stored or imported text, or (None, why not). Strict: anything unexpected is refused."""
    if not isinstance(text, str):
        return None, "it is not text"
    if not text.strip():
        return None, "it is empty (or too large for the browser to hand over)"
    if len(text) > MAX_STORE_CHARS:
        return None, f"it is too large ({count(len(text))} characters; the limit is {count(MAX_STORE_CHARS)})"
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None, "it is not valid JSON"
    if data is None:
        return None, "it is empty (null): there were no labels to export"
    if not isinstance(data, dict) or data.get("lab") != NAME:
        return None, 'it is not RLHF Lab data (it has no "lab": "rlhf" entry)'
    version = data.get("version")
    if type(version) is not int or version != STORE_VERSION:
        return None, f"its version {_show(version)} is not one this lab can read (it reads version {STORE_VERSION})"
    unknown = sorted(set(data) - {"lab", "version", "labels"})
    if unknown:
        return None, f"it has an unexpected entry {_show(unknown[0])}"
    items = data.get("labels")
    if not isinstance(items, list):
        return None, '"labels" is not a list'
    if len(items) > MAX_LABELS:
        return None, f"it has {count(len(items))} labels; the limit is {count(MAX_LABELS)}"
    labels = []
    for i, item in enumerate(items, 1):
        if not isinstance(item, dict) or set(item) != {"a", "b", "pick", "by"}:
            return None, f"label {i} must have exactly the entries a, b, pick and by"
        a, b = item["a"], item["b"]
        for rid in (a, b):
            if not isinstance(rid, str) or rid not in pref.INDEX:
                return None, f"label {i}: {_show(rid)} is not a response in this lab's dataset"
        ia, ib = pref.INDEX[a], pref.INDEX[b]
        if ia == ib or pref.PROMPT_OF[ia] != pref.PROMPT_OF[ib]:
            return None, f"label {i}: a and b must be two different responses to the same prompt"
        if pref.PROMPTS[pref.PROMPT_OF[ia]].held_out:
            return None, f"label {i}: {_show(a)} belongs to a held-out prompt"
        if item["pick"] not in ("A", "B"):
            return None, f'label {i}: pick {_show(item["pick"])} is not "A" or "B"'
        if item["by"] not in BY:
            return None, f"label {i}: by {_show(item['by'])} is not one of {', '.join(BY)}"
        labels.append((ia, ib, 1.0 if item["pick"] == "A" else -1.0, item["by"]))
    return labels, ""


# ---- training ----------------------------------------------------------------------------------

def label_arrays(labels: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows of A, rows of B, y) as arrays (n,) each."""
    if not labels:
        return np.zeros(0, int), np.zeros(0, int), np.zeros(0)
    ia, ib, y, _ = zip(*labels, strict=True)
    return np.array(ia), np.array(ib), np.array(y)


def winners(ia: np.ndarray, ib: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the preferred (y_w) and rejected (y_l) responses of each label."""
    return np.where(y > 0, ia, ib), np.where(y > 0, ib, ia)


def train(s: Session, lr: float, beta: float, steps: int) -> None:
    """`steps` gradient steps on all labels for both models, recording both losses at every step."""
    ia, ib, y = label_arrays(s.labels)
    if not len(y):
        return
    D = pref.PHI[ia] - pref.PHI[ib]  # (n, d)
    s.w, bt_losses = bt.gradient_descent(s.w, D, y, lr, steps)
    iw, il = winners(ia, ib, y)
    # With log πθ linear in φ and π_ref fixed, L_DPO(θ) is the Bradley–Terry NLL at w = βθ, so its curvature
    # in θ is β² times that of BT: the step lr/β² makes one DPO step move the implicit reward as far as one BT step.
    s.theta, dpo_losses = dpo.gradient_descent(s.theta, pref.PHI, pref.STARTS, iw, il, beta, LOGP_REF, lr / beta**2, steps)
    s.history.extend((s.steps + t, float(a), float(b)) for t, (a, b) in enumerate(zip(bt_losses, dpo_losses, strict=True))
                     if (s.steps + t) % s.stride == 0)
    s.steps += steps
    while len(s.history) > MAX_POINTS:
        s.stride *= 2
        s.history = [h for h in s.history if h[0] % s.stride == 0]


def refit(labels: list, params: dict) -> Session:
    """A session for these labels, both models fitted from zero with RESTORE_STEPS steps (after reload or import)."""
    s = Session(labels=list(labels), attached=True, cursor=sum(by == "you" for *_, by in labels))
    train(s, float(params["lr"]), params["beta"], RESTORE_STEPS)
    return s


def current_pair(cursor: int) -> tuple[int, int]:
    """Rows (A, B) of the pair the reader sees next: the fixed order, sides swapped on every second pass."""
    a, b = pref.TRAINING_ORDER[cursor % N_TRAIN_PAIRS]
    return (int(b), int(a)) if (cursor // N_TRAIN_PAIRS) % 2 else (int(a), int(b))


# ---- actions -----------------------------------------------------------------------------------

def from_stored(raw: object, prev: object, params: dict) -> tuple[Session, str]:
    """The session for the page's stored value on `init`; an unchanged live session is kept as it is."""
    if raw is None:
        return Session(attached=True), ""
    labels, why = parse_store(raw)
    if labels is None:
        return Session(problem=CORRUPT, detail=why), ""
    if isinstance(prev, Session) and prev.attached and not prev.problem and prev.labels == labels:
        return prev, ""
    if not labels:
        return Session(attached=True), ""
    return refit(labels, params), (f"Restored {count(len(labels))} labels saved in this browser; both models were refit "
                                   f"from zero with {RESTORE_STEPS} gradient steps.")


def act(s: Session, params: dict, action: str | None, payload: object) -> tuple[Session, object, str]:
    """Apply one action: (session, store to persist or None, note for the reader)."""
    lr, beta, steps = float(params["lr"]), params["beta"], params["steps"]
    if action in ("reset", "reset_store"):
        return Session(attached=True), to_store([]), "All labels deleted; both models start again from zero."
    if action in WRITES and not s.attached and not s.problem:
        s.problem = DETACHED  # the worker restarted: the stored labels never reached this session
    if action in WRITES and s.problem:
        return s, None, "Nothing was changed: the stored labels must be dealt with first (see above)."
    if action in PICKS or action == "skip":
        if action in PICKS and len(s.labels) >= MAX_LABELS:
            return s, None, f"The lab holds at most {count(MAX_LABELS)} labels: export them, then reset to go on."
        ia, ib = current_pair(s.cursor)
        p = float(bt.prob(s.w, pref.PHI[ia] - pref.PHI[ib]))
        s.cursor += 1
        if action == "skip":
            s.last = ("skip", p)
            return s, None, ""
        s.labels.append((ia, ib, PICKS[action], "you"))
        s.last = (action.upper(), p)
        train(s, lr, beta, steps)
        return s, to_store(s.labels), ""
    if action == "simulate":
        name, n = params["annotator"], min(params["n"], MAX_LABELS - len(s.labels))
        if n <= 0:
            return s, None, f"The lab holds at most {count(MAX_LABELS)} labels: export them, then reset to go on."
        ia, ib, y = pref.simulate(name, n, params["noise"], np.random.default_rng([SIM_SEED, len(s.labels)]))
        s.labels.extend((int(a), int(b), float(v), name) for a, b, v in zip(ia, ib, y, strict=True))
        train(s, lr, beta, steps)
        return s, to_store(s.labels), f"The {name} annotator labelled {n} pairs (noise {params['noise']:g})."
    if action == "train":
        if not s.labels:
            return s, None, "No labels yet: nothing to train on."
        train(s, lr, beta, TRAIN_STEPS)
        return s, None, ""
    if action == "import":
        text, name = (payload.get("text"), payload.get("name")) if isinstance(payload, dict) else (None, None)
        shown = _show(name) if isinstance(name, str) else "the file"
        labels, why = parse_store(text)
        if labels is None:
            return s, None, (f"Import failed: {shown} was not used because {why}. "
                             f"Your {count(len(s.labels))} labels are unchanged.")
        return refit(labels, params), to_store(labels), f"Imported {count(len(labels))} labels from {shown}."
    return s, None, ""


def render(params: dict, state: object = None, action: str | None = None, payload: object = None) -> View:
    """The pair to label, the reward model, DPO beside it and the simulated annotator."""
    if action == "init":
        s, note = from_stored(payload.get("stored") if isinstance(payload, dict) else None, state, params)
        store = None
    else:
        s = state if isinstance(state, Session) else Session()
        s, store, note = act(s, params, action, payload)
    return View("", problem_html(s) + note_html(note) + pair_section(s, params) + reward_section(s, params)
                + dpo_section(s, params) + annotator_section(s, params), summary(s, params), state=s, store=store)


# ---- rendering ---------------------------------------------------------------------------------

def problem_html(s: Session) -> str:
    """The explanation shown while nothing can be written (unreadable stored labels, or a restarted worker)."""
    if s.problem == CORRUPT:
        return ('<div class="rlhf-problem" role="alert"><p><strong>Your stored labels could not be read</strong>: the '
                f"value this browser keeps for the lab was refused because {esc(s.detail)}. It has been left exactly "
                "as it is, and nothing will overwrite it, so Export can still save a copy. Reset it to start "
                "labelling again.</p>"
                '<button type="button" class="md-button lab-action" data-action="reset_store" '
                'data-confirm="Delete the unreadable stored labels and start again?">Reset stored labels</button></div>')
    if s.problem == DETACHED:
        return ('<div class="rlhf-problem" role="alert"><p><strong>The lab restarted</strong> and no longer holds your '
                "labels. They are still saved in this browser: reload the page to continue.</p></div>")
    return ""


def note_html(note: str) -> str:
    """A one-off message about the last action (escaped: it may quote an imported file)."""
    return f'<p class="lab-note rlhf-message" role="status">{esc(note)}</p>' if note else ""


def _text_html(text: str) -> str:
    """Response text: escaped, with `code` spans as <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", esc(text))


def feedback(s: Session) -> str:
    """What happened to the previous pair: the pick, and whether the model's prediction agreed with it."""
    if s.last is None:
        return "Pick the better response. Below the pair is the model's prediction; after your pick, this line says if it agreed."
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


def pair_section(s: Session, params: dict) -> str:
    """The prompt, responses A and B, their features on demand, both models' P(A ≻ B), and the feedback line."""
    ia, ib = current_pair(s.cursor)
    prompt = pref.PROMPTS[pref.PROMPT_OF[ia]]
    d = pref.PHI[ia] - pref.PHI[ib]  # (d,)
    p = float(bt.prob(s.w, d))
    r_hat = dpo.implicit_reward(s.theta, pref.PHI, pref.STARTS, params["beta"], LOGP_REF)
    p_dpo = float(bt.sigmoid(r_hat[ia] - r_hat[ib]))
    cands = "".join(
        f'<div class="rlhf-cand"><p class="rlhf-cand__slot">{slot}</p>'
        f'<p class="rlhf-cand__text">{_text_html(pref.RESPONSES[i].text)}</p></div>'
        for slot, i in (("A", ia), ("B", ib)))
    rows = "".join(
        f"<tr><th scope=\"row\" title=\"{esc(pref.FEATURE_HELP[f])}\">{esc(f)}</th><td>{pref.PHI[ia, k]:.2f}</td>"
        f"<td>{pref.PHI[ib, k]:.2f}</td><td>{d[k]:+.2f}</td><td>{s.w[k]:+.2f}</td></tr>"
        for k, f in enumerate(pref.FEATURES))
    r_a, r_b = float(pref.PHI[ia] @ s.w), float(pref.PHI[ib] @ s.w)
    table = (f'<details class="rlhf-features"><summary>Features φ the reward model sees</summary><div class="rlhf-scroll">'
             "<table><thead><tr><th>feature</th><th>φ(A)</th><th>φ(B)</th><th>A − B</th><th>w</th></tr></thead>"
             f"<tbody>{rows}</tbody><tfoot><tr><th>reward w·φ</th><td>{r_a:+.2f}</td><td>{r_b:+.2f}</td>"
             f"<td>{r_a - r_b:+.2f}</td><td></td></tr></tfoot></table></div>"
             + "".join(f"<p>{esc(f)}: {esc(h)}.</p>" for f, h in pref.FEATURE_HELP.items()) + "</details>")
    tie = ('<p class="lab-note">A and B have identical features: no reward w·φ can prefer either. '
           "Whatever you pick, the model will say 50 %.</p>") if not np.any(d) else ""
    pass_no, pair_no = divmod(s.cursor, N_TRAIN_PAIRS)
    tiles = [
        metric("p_a", p, f"{p:.2f}", "Reward model: P(A ≻ B)", "σ(w·φ(A) − w·φ(B)), before your pick"),
        metric("dpo_p_a", p_dpo, f"{p_dpo:.2f}", "DPO: P(A ≻ B)", "σ of the implicit reward difference"),
    ]
    return (f'<section class="rlhf-pair" aria-label="The pair to label"><p class="rlhf-feedback" data-feedback>{esc(feedback(s))}</p>'
            f'<p class="rlhf-pair__meta">Pair {pair_no + 1} of {N_TRAIN_PAIRS}{f" · pass {pass_no + 1}" if pass_no else ""}</p>'
            f'<p class="rlhf-prompt"><span class="rlhf-prompt__label">Prompt</span> {esc(prompt.text)}</p>'
            f'<div class="rlhf-cands">{cands}</div>{tie}{metrics_grid(tiles)}{table}</section>')


def _acc(margin: np.ndarray, y: np.ndarray) -> float:
    """Share of labels a reward difference orders correctly; exact ties count one half."""
    m = y * margin
    return float(np.mean((m > 0) + 0.5 * (m == 0)))


def _loss_chart(s: Session, best: float) -> str:
    """Both losses at every recorded gradient step; the dashed line is the exact optimum of the BT loss."""
    steps = np.array([h[0] for h in s.history], float)
    bt_y = np.array([h[1] for h in s.history])
    dpo_y = np.array([h[2] for h in s.history])
    top = max(0.8, 1.05 * float(max(bt_y.max(), dpo_y.max()))) if s.history else 0.8
    marks = Marks(hlines=[(best, "BT optimum", "c1")] if s.labels else [])
    return line_chart([Series("BT loss + L2", steps, bt_y, "c0"), Series("DPO loss", steps, dpo_y, "c2", dashed=True)],
                      "Loss over gradient steps", "gradient step", "loss", x_range=(0, max(s.steps, 20)),
                      y_range=(0, top), marks=marks)


def reward_section(s: Session, params: dict) -> str:
    """Metrics of the reward model, its weights next to DPO's implicit-reward weights, and the loss curve."""
    ia, ib, y = label_arrays(s.labels)
    D = pref.PHI[ia] - pref.PHI[ib]  # (n, d)
    hia, hib, hy = pref.HELD_OUT
    held = bt.accuracy(s.w, pref.PHI[hia] - pref.PHI[hib], hy)
    n = len(y)
    mine = np.array([by == "you" for *_, by in s.labels], bool)  # (n,) the reader's own labels
    acc_hint = "all labels so far"
    if mine.any() and not mine.all():
        acc_hint = f"on your own labels: {pct(bt.accuracy(s.w, D[mine], y[mine]))}"
    if n:
        loss_now, acc = bt.loss(s.w, D, y), bt.accuracy(s.w, D, y)
        if s.optimum[0] != n:  # labels only ever grow within a session, so the count identifies them
            w_opt = bt.newton(D, y, w0=s.optimum[2])  # warm start: one more label moves the optimum a little
            s.optimum = (n, bt.loss(w_opt, D, y), w_opt)
        best = s.optimum[1]
    else:
        loss_now = best = acc = float("nan")
    tiles = [
        metric("labels", n, count(n), "Labels", f"{count(mine.sum())} yours, {count(n - mine.sum())} simulated"),
        metric("steps", s.steps, count(s.steps), "Gradient steps", f"η = {params['lr']}, {params['steps']} per label"),
        metric("loss", loss_now, sig(loss_now, 4) if n else "—", "Loss", f"mean NLL + (λ/2)‖w‖², λ = {bt.LAMBDA:g}"),
        metric("optimum", best, sig(best, 4) if n else "—", "Lowest possible loss", "exact minimum (Newton)"),
        metric("train_acc", acc, pct(acc) if n else "—", "Accuracy on the labels", acc_hint),
        metric("heldout_acc", held, pct(held), "Held-out accuracy", f"{len(hy)} pairs from 4 unseen prompts"),
    ]
    v_dpo = params["beta"] * s.theta  # (d,) the implicit reward is (βθ)·φ up to a per-prompt constant
    lim = max(1.0, float(np.max(np.abs(np.concatenate([s.w, v_dpo]))))) * 1.15
    bars = hbar_chart(list(pref.FEATURES), [("BT w", s.w, "c0"), ("DPO βθ", v_dpo, "c2")], "Reward weights",
                      "weight on the feature", x_range=(-lim, lim), value_fmt="{:+.2f}")
    return ('<h2 class="rlhf-h">Reward model: Bradley–Terry</h2>' + metrics_grid(tiles)
            + figure(bars, "r(x) = w·φ(x). DPO's implicit reward β·log(πθ/π_ref) equals (βθ)·φ plus a constant per "
                           "prompt, so its weights are βθ.")
            + figure(_loss_chart(s, best),
                     "Each new label changes the loss (a jump); gradient descent then pulls it down towards the optimum."))


def dpo_section(s: Session, params: dict) -> str:
    """DPO's loss and held-out accuracy, how its implicit reward ranks responses against BT, and the policy itself."""
    beta = params["beta"]
    r_bt = pref.PHI @ s.w  # (M,)
    r_hat = dpo.implicit_reward(s.theta, pref.PHI, pref.STARTS, beta, LOGP_REF)  # (M,)
    pi = np.exp(dpo.log_policy(s.theta, pref.PHI, pref.STARTS))  # (M,)
    hia, hib, hy = pref.HELD_OUT
    ii, jj = ALL_PAIRS
    same = np.sign(r_bt[ii] - r_bt[jj]) == np.sign(r_hat[ii] - r_hat[jj])
    agree = float(np.mean(same))
    kl = float(np.mean(dpo.kl_to_reference(s.theta, pref.PHI, pref.STARTS, LOGP_REF)))
    ia, ib, y = label_arrays(s.labels)
    if len(y):
        iw, il = winners(ia, ib, y)
        loss_now = dpo.loss(s.theta, pref.PHI, pref.STARTS, iw, il, beta, LOGP_REF)
        acc = _acc(r_hat[ia] - r_hat[ib], y)
    else:
        loss_now = acc = float("nan")
    held = _acc(r_hat[hia] - r_hat[hib], hy)
    size = float(np.linalg.norm(beta * s.theta))
    tiles = [
        metric("dpo_loss", loss_now, sig(loss_now, 4) if len(y) else "—", "DPO loss (Eq. 7)", f"β = {beta:g}, no L2 term"),
        metric("dpo_train_acc", acc, pct(acc) if len(y) else "—", "Accuracy on the labels", "implicit reward"),
        metric("dpo_heldout_acc", held, pct(held), "Held-out accuracy", "implicit reward vs reference"),
        metric("rank_agreement", agree, pct(agree), "Same order as BT", f"all {len(ii)} within-prompt pairs"),
        metric("kl", kl, sig(kl, 3), "KL(πθ ‖ π_ref)", "mean over prompts; log 4 ≈ 1.39 is all on one"),
        metric("dpo_norm", size, sig(size, 3), "‖βθ‖", f"BT's ‖w‖ = {sig(float(np.linalg.norm(s.w)), 3)} (held by L2)"),
    ]
    ca, cb = current_pair(s.cursor)
    p = pref.PROMPT_OF[ca]
    rows_idx = range(pref.STARTS[p], pref.STARTS[p] + len(pref.PROMPTS[p].responses))
    order_bt = {i: k for k, i in enumerate(sorted(rows_idx, key=lambda i: -r_bt[i]), 1)}
    order_dpo = {i: k for k, i in enumerate(sorted(rows_idx, key=lambda i: -r_hat[i]), 1)}
    slot = {ca: "A", cb: "B"}
    rows = "".join(
        f'<tr class="{"rlhf-row--shown" if i in slot else ""}"><td>{slot.get(i, "")}</td>'
        f"<td>{esc(_snippet(pref.RESPONSES[i].text))}</td><td>{r_bt[i]:+.2f} <small>#{order_bt[i]}</small></td>"
        f"<td>{r_hat[i]:+.2f} <small>#{order_dpo[i]}</small></td><td>{pi[i]:.2f}</td></tr>"
        for i in rows_idx)
    table = ('<div class="rlhf-scroll"><table class="rlhf-rank"><caption>This prompt\'s candidates: rewards (#rank) and '
             "DPO's policy; π_ref = 0.25 each</caption><thead><tr><th>shown</th><th>response</th><th>BT w·φ</th>"
             f"<th>β log π/π_ref</th><th>πθ</th></tr></thead><tbody>{rows}</tbody></table></div>")
    return ('<h2 class="rlhf-h">DPO beside it</h2>'
            '<p class="lab-note">The toy policy picks among a prompt\'s candidates with log πθ(y|x) = θ·φ(y) − '
            "logsumexp over the candidates; π_ref is uniform. DPO trains θ on the same labels, starting from θ = 0 "
            "(π = π_ref), with step η/β² (see the page).</p>"
            + metrics_grid(tiles) + table)


def annotator_section(s: Session, params: dict) -> str:
    """The selected annotator's hidden w* against the learned w (both scaled to unit length)."""
    name = params["annotator"]
    w_star = pref.ANNOTATORS[name]
    mine = [(a, b, y) for a, b, y, by in s.labels if by == name]
    w_unit = s.w / np.linalg.norm(s.w) if s.w.any() else s.w
    cos = float(w_unit @ w_star / np.linalg.norm(w_star))
    if mine:
        ia, ib, y = (np.array(c) for c in zip(*mine, strict=True))
        ceiling = _acc((pref.PHI[ia] - pref.PHI[ib]) @ w_star, y)
    else:
        ceiling = float("nan")
    others = len(s.labels) - len(mine)
    tiles = [
        metric("cosine", cos, f"{cos:.3f}", "cos(w, w*)", "1 = same direction: same rankings"),
        metric("annotator_labels", len(mine), count(len(mine)), f"Labels by the {name} annotator",
               f"{count(others)} other labels mixed in" if others else "no other labels mixed in"),
        metric("noise_ceiling", ceiling, pct(ceiling) if mine else "—", "w* agrees with its labels",
               f"noise {params['noise']:g}: what knowing w* exactly would score"),
    ]
    bars = hbar_chart(list(pref.FEATURES), [("hidden w*", w_star / np.linalg.norm(w_star), "c1"), ("learned w", w_unit, "c0")],
                      "Hidden w* vs learned w", "weight (vector scaled to length 1)",
                      x_range=(-1, 1), value_fmt="{:+.2f}")
    return ('<h2 class="rlhf-h">Simulated annotator</h2>'
            f'<p class="lab-note">It prefers A with probability σ(w*·(φ(A) − φ(B)) / noise): a Bradley–Terry rater, so '
            f"with enough labels the fit approaches w*/noise. Use \"Annotator: label a batch\" to add {params['n']} of its "
            "labels.</p>" + metrics_grid(tiles)
            + figure(bars, "Only the direction of w matters for rankings, so both are drawn at unit length."))


def _snippet(text: str, words: int = 7) -> str:
    """The first few words of a response."""
    parts = text.replace("`", "").split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


def summary(s: Session, params: dict) -> str:
    """One sentence for screen readers."""
    ia, ib = current_pair(s.cursor)
    p = float(bt.prob(s.w, pref.PHI[ia] - pref.PHI[ib]))
    hia, hib, hy = pref.HELD_OUT
    held = bt.accuracy(s.w, pref.PHI[hia] - pref.PHI[hib], hy)
    return (f"{count(len(s.labels))} labels, {count(s.steps)} gradient steps. For the next pair the reward model gives "
            f"P(A better than B) = {p:.2f}. Held-out accuracy {pct(held)}.")
