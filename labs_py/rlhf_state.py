"""The RLHF Lab's state: the reader's labels, both trained models, and the JSON the page stores.

Why: labels are the reader's work. Every path that could lose them is here and tested: the stored
value is parsed strictly, an unreadable or earlier-version value is never overwritten until the
reader resets it (after a chance to export it), and an import that fails leaves the labels alone.
Training is plain gradient descent on all labels so far, for the Bradley–Terry reward model
(`bradley_terry`) and for the toy DPO policy (`dpo`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from labs_py import bradley_terry as bt
from labs_py import dpo
from labs_py import preferences as pref
from labs_py.fmt import count

NAME = "rlhf"
STORE_VERSION = 2  # version 1 held labels of the earlier 16-prompt set; they are kept, never read as today's
MAX_LABELS = 2000  # a stored or imported label set may not be larger (about 150 kB of JSON)
MAX_STORE_CHARS = 400_000  # longer stored or imported text is refused before parsing
TRAIN_STEPS = 100  # steps of the "Train" button
RESTORE_STEPS = 200  # steps that refit both models from zero after a reload or an import
MAX_POINTS = 200  # loss history kept (and drawn); past that, only every 2nd, 4th, … step is kept
SIM_SEED = 6  # with the label count, fixes the simulated annotator's draws (reproducible batches)
PICKS = {"a": 1.0, "b": -1.0}  # action → y (+1: A ≻ B)
WRITES = ("a", "b", "skip", "simulate", "train", "import")  # refused while the stored labels are not today's
BY = ("you", *pref.ANNOTATORS)  # who gave a label: the reader or a simulated annotator
N_TRAIN_PAIRS = len(pref.TRAINING_ORDER)
CORRUPT, OLD, UNREAD = "corrupt", "old", "unread"


@dataclass
class Session:
    """The reader's labels, both models' parameters and the loss history.

    labels: (row of A, row of B, y, by) with y = +1 when A ≻ B and `by` "you" or an annotator name.
    problem: "" normally; CORRUPT when the stored labels could not be read, OLD when they are from the
    earlier version of the lab, UNREAD when a request arrived before the stored labels did. Until the
    reader resets (or the stored labels arrive), nothing is written.
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
    detail: str = ""  # why the stored labels could not be read, or how many earlier-version labels there are
    optimum: tuple[int, float, np.ndarray | None] = (0, float("nan"), None)  # (label count, min of BT loss, its w)


# ---- labels ↔ the JSON the page stores ---------------------------------------------------------------

def show(value: object) -> str:
    """A short rendering of untrusted JSON for an error message (escape it where it becomes HTML)."""
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, (str, int, float, bool, type(None))) else type(value).__name__
    return text if len(text) <= 40 else text[:37] + "…"


def to_store(labels: list[tuple[int, int, float, str]]) -> dict:
    """The JSON-able value the page keeps in localStorage (and Export downloads)."""
    return {"lab": NAME, "version": STORE_VERSION,
            "labels": [{"a": pref.RESPONSES[a].id, "b": pref.RESPONSES[b].id, "pick": "A" if y > 0 else "B", "by": by}
                       for a, b, y, by in labels]}


def _load(text: object) -> tuple[object, str]:
    """(parsed JSON, "") or (None, why not) for stored or imported text."""
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
    return data, ""


def earlier_version(text: object) -> int | None:
    """How many labels an export of the lab's earlier version (1) holds, or None if `text` is not one."""
    data, _ = _load(text)
    if isinstance(data, dict) and data.get("lab") == NAME and type(data.get("version")) is int \
            and data["version"] == 1 and isinstance(data.get("labels"), list):
        return len(data["labels"])
    return None


def parse_store(text: object) -> tuple[list[tuple[int, int, float, str]] | None, str]:
    """(labels, "") from stored or imported text, or (None, why not). Strict: anything unexpected is refused."""
    data, why = _load(text)
    if data is None:
        return None, why
    if not isinstance(data, dict) or data.get("lab") != NAME:
        return None, 'it is not RLHF Lab data (it has no "lab": "rlhf" entry)'
    version = data.get("version")
    if type(version) is not int or version != STORE_VERSION:
        return None, f"its version {show(version)} is not one this lab can read (it reads version {STORE_VERSION})"
    unknown = sorted(set(data) - {"lab", "version", "labels"})
    if unknown:
        return None, f"it has an unexpected entry {show(unknown[0])}"
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
                return None, f"label {i}: {show(rid)} is not an answer in this lab's dataset"
        ia, ib = pref.INDEX[a], pref.INDEX[b]
        if ia == ib or pref.PROMPT_OF[ia] != pref.PROMPT_OF[ib]:
            return None, f"label {i}: a and b must be two different answers to the same prompt"
        if pref.PROMPTS[pref.PROMPT_OF[ia]].held_out:
            return None, f"label {i}: {show(a)} belongs to a held-out prompt"
        if item["pick"] not in ("A", "B"):
            return None, f'label {i}: pick {show(item["pick"])} is not "A" or "B"'
        if item["by"] not in BY:
            return None, f"label {i}: by {show(item['by'])} is not one of {', '.join(BY)}"
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
    # log πθ is linear in φ up to a per-prompt constant, so L_DPO(θ) is the Bradley–Terry NLL at w = βθ and its
    # curvature in θ is β² times that of BT: the step lr/β² moves the implicit reward as far as one BT step.
    s.theta, dpo_losses = dpo.gradient_descent(s.theta, pref.PHI, pref.STARTS, iw, il, beta, pref.LOGP_REF,
                                               lr / beta**2, steps)
    s.history.extend((s.steps + t, float(a), float(b)) for t, (a, b) in enumerate(zip(bt_losses, dpo_losses, strict=True))
                     if (s.steps + t) % s.stride == 0)
    s.steps += steps
    while len(s.history) > MAX_POINTS:
        s.stride *= 2
        s.history = [h for h in s.history if h[0] % s.stride == 0]


def refit(labels: list, params: dict) -> Session:
    """A session for these labels, both models fitted from zero with RESTORE_STEPS steps (after reload or import)."""
    s = Session(labels=list(labels), cursor=sum(by == "you" for *_, by in labels))
    train(s, float(params["lr"]), params["beta"], RESTORE_STEPS)
    return s


def current_pair(cursor: int) -> tuple[int, int]:
    """Rows (A, B) of the pair the reader sees next: the fixed order, sides swapped on every second pass."""
    a, b = pref.TRAINING_ORDER[cursor % N_TRAIN_PAIRS]
    return (int(b), int(a)) if (cursor // N_TRAIN_PAIRS) % 2 else (int(a), int(b))


def simulated(name: str, n: int, noise: float, have: int) -> list[tuple[int, int, float, str]]:
    """The annotator's batch of n labels that follows `have` labels: the same batch every time (seeded by the count)."""
    ia, ib, y = pref.simulate(name, n, noise, np.random.default_rng([SIM_SEED, have]))
    return [(int(a), int(b), float(v), name) for a, b, v in zip(ia, ib, y, strict=True)]


# ---- actions -----------------------------------------------------------------------------------

def from_stored(raw: object, prev: object, params: dict) -> tuple[Session, str]:
    """The session for the page's stored value on `init`; an unchanged live session is kept as it is."""
    if raw is None:
        return Session(), ""
    labels, why = parse_store(raw)
    if labels is None:
        old = earlier_version(raw)
        return (Session(problem=OLD, detail=count(old)) if old is not None else Session(problem=CORRUPT, detail=why)), ""
    if isinstance(prev, Session) and not prev.problem and prev.labels == labels:
        return prev, ""
    if not labels:
        return Session(), ""
    return refit(labels, params), (f"Restored {count(len(labels))} labels saved in this browser; both models were refit "
                                   f"from zero with {RESTORE_STEPS} gradient steps.")


def act(s: Session, params: dict, action: str | None, payload: object) -> tuple[Session, object, str]:
    """Apply one action: (session, store to persist or None, note for the reader)."""
    lr, beta, steps = float(params["lr"]), params["beta"], params["steps"]
    if action in ("reset", "reset_store"):
        return Session(), to_store([]), "All labels deleted; both models start again from zero."
    if action in WRITES and s.problem == UNREAD:
        return s, None, "Nothing was changed: your stored labels have not reached the lab yet."
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
        s.labels.extend(simulated(name, n, params["noise"], len(s.labels)))
        train(s, lr, beta, steps)
        return s, to_store(s.labels), f"The annotator ({pref.ANNOTATOR_LABELS[name]}) labelled {n} pairs (noise {params['noise']:g})."
    if action == "train":
        if not s.labels:
            return s, None, "No labels yet: nothing to train on."
        train(s, lr, beta, TRAIN_STEPS)
        return s, None, ""
    if action == "import":
        text, name = (payload.get("text"), payload.get("name")) if isinstance(payload, dict) else (None, None)
        shown = show(name) if isinstance(name, str) else "the file"
        labels, why = parse_store(text)
        if labels is None:
            old = earlier_version(text)
            if old is not None:
                why = (f"it holds {count(old)} labels from the lab's earlier version, whose answers no longer exist, "
                       "so they cannot train today's models")
            return s, None, (f"Import failed: {shown} was not used because {why}. "
                             f"Your {count(len(s.labels))} labels are unchanged.")
        return refit(labels, params), to_store(labels), f"Imported {count(len(labels))} labels from {shown}."
    return s, None, ""
