"""Distillation Lab: why a small student learns more from a teacher's softened probabilities than from the labels.

Two identical students (softmax regression on 8×8 digits, `kd_student`) learn from the same small
transfer set: one from the hard labels only (α = 0), one from the build-trained teacher network's
probabilities at temperature T mixed with the labels by α (`distill_run`); both are scored on
held-out digits. Leaving one digit out of the transfer set repeats Hinton et al.'s §3 experiment.
Below, a real teacher's soft distribution: GPT-2 small's next token at the same T (`soft_targets`).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from labs_py import digit_teacher, digits, distill_run, soft_targets, teacher
from labs_py.controls import Choice, Slider, nudged
from labs_py.distill_run import SCHEDULE, STEPS_PER_FRAME, Run, Scores
from labs_py.fmt import count, pct
from labs_py.html import esc, figure
from labs_py.kd import log_softmax
from labs_py.lab import Guess, Metric, Options, Reveal, Step, View, nearest, undefined
from labs_py.svg import Marks, Series, line_chart, responsive

NAME = "distillation"
TITLE = "Distillation Lab"
QUESTION = "Why does a small student learn more from a teacher's softened probabilities than from the right answers alone?"
MAX_TRANSFER = 1000  # of the 1,201 training images

CONTROLS = (
    Slider("T", "Temperature T", teacher.T_LO, teacher.T_HI, teacher.T_STEP, 4.0,
           help="Softens teacher and student alike: p = softmax(z / T). Scoring is at T = 1."),
    Slider("alpha", "Weight α of the soft targets", 0.0, 1.0, 0.05, 0.9,
           help="Loss α·T²·KL(teacher ‖ student) + (1 − α)·CE(label); α = 0 is the hard-label student."),
    Slider("transfer", "Transfer-set size", 20, MAX_TRANSFER, 10, 100, unit=" images", integer=True,
           help="Training images both students learn from (the teacher saw all 1,201)."),
    Choice("omit", "Leave out a digit", (("none", "none"), *((str(c), str(c)) for c in range(10))), "none",
           help="Remove every image of this digit from the transfer set (Hinton et al. §3)."),
    Choice("context", "GPT-2 context", teacher.CONTEXTS, "g4",
           help="Where GPT-2 small predicts the next token, in the soft-distribution section."),
)
KEY = ("T", "alpha")
ACTIONS = (("play", "Play"), ("train", f"Train {SCHEDULE} steps"))
WARM_STEPS = 10  # training steps per warm-up piece (a whole run is one ≈ 150 ms task in the browser)


def run_key(params: dict) -> tuple:
    """(T, α, transfer-set size, omitted digit or None, seed): what a run depends on."""
    omit = None if params["omit"] == "none" else int(params["omit"])
    return float(params["T"]), float(params["alpha"]), int(params["transfer"]), omit, distill_run.SEED


def measure(run: Run, params: dict) -> dict[str, Metric]:
    """Every number the lab shows for this run (the GPT-2 teacher's numbers last)."""
    T, alpha, n, omit, seed = run.key
    s: Scores = run.history[-1]
    n_test, size = distill_run.held_out_count(None), distill_run.transfer(n, omit, seed).size
    acc_t = distill_run.teacher_accuracy()
    held = f"held-out accuracy, {count(n_test)} images"
    m = {
        "acc_hard": Metric(s.acc_hard, "Hard labels only (α = 0)", pct(s.acc_hard), held, True),
        "acc_soft": Metric(s.acc_soft, f"Soft targets (T = {T:g}, α = {alpha:g})", pct(s.acc_soft), held, True),
        "acc_teacher": Metric(acc_t, "Teacher (64 → 128 → 10 network)", pct(acc_t), held, omit is None),
    }
    if omit is None:
        why = "no digit is left out: pick one under Advanced"
        m["acc_omitted_hard"] = undefined("Left-out digit, hard labels", why)
        m["acc_omitted_soft"] = undefined("Left-out digit, soft targets", why)
    else:
        k = distill_run.held_out_count(omit)
        for name, acc, shift in (("hard", s.omitted_hard, s.shift_hard), ("soft", s.omitted_soft, s.shift_soft)):
            m[f"acc_omitted_{name}"] = Metric(acc, f"Held-out {omit}s, {name} {'labels' if name == 'hard' else 'targets'}",
                                              f"{pct(acc, 0)} ({round(acc * k)} of {k})",
                                              f"share of the {k} held-out {omit}s recognised, bias shifted by {signed(shift)}", True)
        m["omitted_soft_raw"] = Metric(s.raw_omitted_soft, f"Held-out {omit}s, soft, bias not raised",
                                       pct(s.raw_omitted_soft, 0), "before the bias shift")
        for name, shift in (("hard", s.shift_hard), ("soft", s.shift_soft)):
            m[f"bias_shift_{name}"] = Metric(shift, f"Bias shift for {omit}, {name} student", signed(shift),
                                             f"makes its mean p({omit}) on the transfer images equal the teacher's, at T = {T:g}")
    m["soft_minus_hard"] = Metric(s.acc_soft - s.acc_hard, "Soft − hard", f"{100 * (s.acc_soft - s.acc_hard):+.1f} points",
                                  "difference in held-out accuracy, percentage points")
    m["step"] = Metric(run.t, "Steps", f"{run.t} of {SCHEDULE}", "full-batch Adam steps, both students")
    m["transfer_size"] = Metric(size, "Transfer images used", count(size),
                                f"first {n} of a seeded shuffle of the training split" + (f", {omit}s removed" if omit is not None else ""))
    L = s.losses
    m["loss_soft"] = Metric(float(L.total[1]), "Soft student's loss", f"{L.total[1]:.3g}",
                            f"α·T²·KL + (1 − α)·CE on the transfer set; KL {L.kl[1]:.3g}")
    m["loss_hard"] = Metric(float(L.total[0]), "Hard student's cross-entropy", f"{L.total[0]:.3g}", "on the transfer set")
    m.update(soft_targets.metrics(params["context"], T))
    return m


def signed(x: float) -> str:
    """A shift with its sign and 3 significant figures (0 when exactly 0)."""
    return "0" if x == 0 else f"{x:+.3g}".replace("-", "−")


def accuracy_chart(run: Run, width: int) -> str:
    """Held-out accuracy of both students after every frame, the teacher's as a line."""
    T, alpha, _, omit, _ = run.key
    h = run.history
    xs = np.array([s.t for s in h], float)
    series = [Series("hard labels", xs, 100 * np.array([s.acc_hard for s in h]), "c0"),
              Series(f"soft, T = {T:g}, α = {alpha:g}", xs, 100 * np.array([s.acc_soft for s in h]), "c1")]
    if omit is not None:
        series += [Series(f"hard, {omit}s only", xs, 100 * np.array([s.omitted_hard for s in h]), "c0", dashed=True),
                   Series(f"soft, {omit}s only", xs, 100 * np.array([s.omitted_soft for s in h]), "c1", dashed=True)]
    marks = Marks(hlines=[(100 * distill_run.teacher_accuracy(), "teacher", "c3")])
    return line_chart(series, "Held-out accuracy", "step", "held-out accuracy (%)",
                      x_range=(0, SCHEDULE), y_range=(0, 100), marks=marks, width=width)


def run_status(run: Run) -> str:
    """Where the run is, and why Play stopped when it did."""
    if run.stopped == "schedule":
        return f"Schedule ended: both students took all {SCHEDULE} steps. Play starts them again from zero."
    if run.stopped == "converged":
        return (f"Converged at step {run.t}: neither loss moved by more than {distill_run.CONVERGED:g} of its value over "
                f"the last {STEPS_PER_FRAME} steps, so Play stopped.")
    return f"Step {run.t} of {SCHEDULE}. Play continues, Train finishes the schedule at once."


def render(params: dict, state: object = None, action: str | None = None, payload: object = None) -> View:
    """Accuracy curves beside T and α, headline tiles, then the setup, the data and the GPT-2 teacher."""
    key = run_key(params)
    run = state if isinstance(state, Run) and state.key == key else None
    if action == "step":  # one Play frame; a finished run starts again from zero
        if run is None or run.done:
            run = distill_run.new_run(key)
        distill_run.advance(run, STEPS_PER_FRAME)
    elif action == "train" and run is not None and not run.done:
        distill_run.advance(run, SCHEDULE)
    elif run is None or action == "train":
        run = distill_run.complete(key)
    metrics = measure(run, params)
    T, alpha, n, omit, _ = key
    chart = (figure(responsive(lambda w: accuracy_chart(run, w)),
                    "Both students start at zero and take the same full-batch Adam steps on the same transfer set; "
                    "accuracy is measured at T = 1 on digits neither has seen."
                    + (f" Dashed: the held-out {omit}s only, after the bias shift for {omit}." if omit is not None else ""))
             + f'<p class="lab-note kd-status" data-run-status="{esc(run.stopped or "running")}">{esc(run_status(run))}</p>')
    html = setup_note(key) + provenance_note() + soft_targets.section(params["context"], T)
    s = run.history[-1]
    summary = (f"After {run.t} steps on {count(distill_run.transfer(n, omit, key[4]).size)} transfer images: hard labels "
               f"{pct(s.acc_hard)}, soft targets at T = {T:g}, α = {alpha:g} {pct(s.acc_soft)} held-out accuracy"
               + (f"; held-out {omit}s: hard {pct(s.omitted_hard, 0)}, soft {pct(s.omitted_soft, 0)}." if omit is not None else "."))
    return View(chart, html, summary, metrics, state=run, stop=action == "step" and run.done)


def warm() -> Iterator[None]:
    """What a T or α change computes — a run trained, scored and drawn — at each key control's neighbouring
    value, WARM_STEPS steps per piece (runtime.warm)."""
    for name in KEY:
        params = nudged(CONTROLS, name)
        run = distill_run.new_run(run_key(params))
        while not run.done:
            distill_run.advance(run, WARM_STEPS)
            yield
        render(params, run, None, None)
        yield


def setup_note(key: tuple) -> str:
    """What the two students learn from, in words."""
    T, _, n, omit, seed = key
    size = distill_run.transfer(n, omit, seed).size
    left = f", minus its {n - size} images of the digit {omit}" if omit is not None else ""
    shift = (f" Afterwards the {omit}'s bias of each student is raised until its mean probability for {omit} on the transfer "
             f"images, at T = {T:g}, equals the teacher's: transfer data only, never the held-out set.") if omit is not None else ""
    return (f'<p class="lab-note">Transfer set: {count(size)} images, the first {n} of a seeded shuffle of the training split'
            f"{left}. Students: softmax regression on the 64 pixels (650 parameters; the teacher has 9,610). Hard: "
            f"cross-entropy with the labels. Soft: α·T²·KL(p_t^T ‖ p_s^T) + (1 − α)·CE, with the teacher's probabilities "
            f"at T = {T:g}.{shift}</p>")


def provenance_note() -> str:
    """Where the digits and the teacher come from, with their sha256."""
    prov = digits.provenance()
    origin = prov["origin"]
    t = digit_teacher.load()
    tp = t.provenance
    return (f'<p class="lab-note kd-provenance" data-provenance>Data: {esc(origin["title"])} ({esc(origin["creators"])}, '
            f'{origin["year"]}, {esc(origin["repository"])}, {esc(origin["licence"])}), the {count(prov["shape"][0])} '
            f'8×8 images shipped in {esc(prov["package"])} {esc(prov["version"])} as <code>{esc(prov["path"])}</code>; data '
            f'sha256 <code class="kd-hash">{esc(prov["data_sha256"])}</code>. Split: {esc(tp["split"])}, '
            f'{count(tp["n_train"])} training and {count(tp["n_test"])} held-out images. Teacher: trained by the build '
            f'({tp["epochs"]} epochs of Adam, pixel noise σ = {tp["noise"]:g}, weight decay {tp["weight_decay"]:g}, seed '
            f'{tp["seed"]}); weights sha256 <code class="kd-hash">{esc(t.sha256)}</code>.</p>')


# ---- guided steps: each answer is computed by the lab's own code when the reader checks ----------

def _final(T: float, alpha: float, n: int, omit: int | None) -> Scores:
    return distill_run.complete((T, alpha, n, omit, distill_run.SEED)).history[-1]


def _check_entropy(prediction: str) -> Reveal:
    ctx = teacher.context("g4")
    H1, H4 = teacher.vocab_entropy(ctx, 1.0), teacher.vocab_entropy(ctx, 4.0)
    share = H4 / np.log(teacher.load().vocab_size)
    p1 = soft_targets.distribution("g4", 1.0)
    right = prediction == nearest({"10": 0.1, "50": 0.5, "97": 0.97}, share)
    return Reveal(right, f"{pct(share)} of the maximum: {H4:.2f} nats at T = 4 against {H1:.3f} at T = 1 (uniform over "
                         f"{count(teacher.load().vocab_size)} tokens is {np.log(teacher.load().vocab_size):.2f}). At T = 1 "
                         f"␣as holds {p1[ctx.y]:.3f}; at T = 4 the rest of the vocabulary holds "
                         f"{pct(float(soft_targets.distribution('g4', 4.0)[-1]))}: tens of thousands of unlikely tokens, each "
                         "raised to the power 1/4, outweigh the few likely ones.")


def _check_small_transfer(prediction: str) -> Reveal:
    s = _final(4.0, 0.9, 100, None)
    gain = 100 * (s.acc_soft - s.acc_hard)
    right = abs(float(prediction) - gain) <= 2
    return Reveal(right, f"{gain:+.1f} points: hard labels {pct(s.acc_hard)}, soft targets {pct(s.acc_soft)} on the "
                         f"{count(distill_run.held_out_count(None))} held-out digits. With 100 images the labels say one "
                         "thing per image; the teacher's probabilities also say which other digits each image resembles, "
                         "and how much.")


def resemblers(T: float, n: int, omit: int, k: int = 3) -> list[int]:
    """The k digits of the transfer set to which the teacher gives the omitted digit the most probability at T."""
    d, idx = distill_run.data(), distill_run.transfer(n, omit, distill_run.SEED)
    p = np.exp(log_softmax(d.V[idx], T))[:, omit]  # (n,) the teacher's p^T(omit) on each transfer image
    means = {c: float(p[d.y[idx] == c].mean()) for c in np.unique(d.y[idx]).tolist()}
    return sorted(means, key=means.get, reverse=True)[:k]


def _check_omitted(prediction: str) -> Reveal:
    s = _final(4.0, 0.9, 100, 3)
    right = abs(float(prediction) / 100 - s.omitted_soft) <= 0.1
    a, b, c = resemblers(4.0, 100, 3)
    return Reveal(right, f"{pct(s.omitted_soft, 0)} of the held-out 3s, with no 3 among its transfer images; the hard-label "
                         f"student gets {pct(s.omitted_hard, 0)}. The soft student learned what a 3 looks like from the "
                         f"teacher's small p(3) on other digits, most on its {a}s, {b}s and {c}s. Raising its bias for 3 "
                         f"(by {signed(s.shift_soft)}, from transfer data) changed little here; the hard student's bias went "
                         f"up by {signed(s.shift_hard)} and it still finds "
                         f"{'no 3' if s.omitted_hard == 0 else pct(s.omitted_hard, 0) + ' of them'}: its weights never learned one.")


def _check_alpha_zero(prediction: str) -> Reveal:
    s = _final(4.0, 0.0, 100, None)
    same = s.acc_soft == s.acc_hard
    right = prediction == ("same" if same else "different")
    return Reveal(right, f"Both {pct(s.acc_soft)}: with α = 0 the soft term is gone, the loss is the labels' cross-entropy, "
                         "and the two students take exactly the same steps. T then changes nothing either.")


def _check_more_data(prediction: str) -> Reveal:
    small, large = _final(4.0, 0.9, 100, None), _final(4.0, 0.9, MAX_TRANSFER, None)
    g_small, g_large = 100 * (small.acc_soft - small.acc_hard), 100 * (large.acc_soft - large.acc_hard)
    verdict = "shrinks" if g_large < g_small - 0.5 else "grows" if g_large > g_small + 0.5 else "same"
    return Reveal(prediction == verdict,
                  f"From {g_small:+.1f} points with 100 images to {g_large:+.1f} with {count(MAX_TRANSFER)}: hard labels reach "
                  f"{pct(large.acc_hard)}, soft targets {pct(large.acc_soft)}. The more labelled images, the less there is "
                  "left for the teacher's extra information to add (Hinton et al. §6 used 3 % of their speech data).")


STEPS = (
    Step("entropy", "After “…tools such”, GPT-2 small is almost sure the next token is ␣as. At T = 4, how close to uniform "
                    "over its 50,257 tokens is it (entropy as a share of the maximum)?", {"T": 4, "context": "g4"},
         Options((("10", "a little flatter: about 10 %"), ("50", "half-way: about 50 %"), ("97", "almost uniform: over 90 %"))),
         _check_entropy),
    Step("small-transfer", "100 transfer images, T = 4, α = 0.9: how many percentage points of held-out accuracy do soft "
                           "targets gain over hard labels?", {"T": 4, "alpha": 0.9, "transfer": 100, "omit": "none"},
         Guess("gain in points", -10, 30, 1, 0, " points"), _check_small_transfer),
    Step("omitted", "Now no 3 at all in the transfer set. What share of the held-out 3s does the soft student recognise?",
         {"T": 4, "alpha": 0.9, "transfer": 100, "omit": "3"}, Guess("held-out 3s recognised", 0, 100, 5, 50, " %"),
         _check_omitted),
    Step("alpha-zero", "Set α = 0 (T = 4). How does the soft-target student end up against the hard-label one?",
         {"T": 4, "alpha": 0, "transfer": 100, "omit": "none"},
         Options((("same", "exactly the same"), ("different", "different: T still softens something"))), _check_alpha_zero),
    Step("more-data", f"Give both students {count(MAX_TRANSFER)} transfer images instead of 100. The soft − hard gap…",
         {"T": 4, "alpha": 0.9, "transfer": MAX_TRANSFER, "omit": "none"},
         Options((("grows", "grows"), ("same", "stays about the same"), ("shrinks", "shrinks"))), _check_more_data),
)
