"""The Distillation Lab's view: its numbers are distill_run's, Play stops when the schedule ends and says so,
the guided steps reveal what the lab computes, the page's prose quotes the lab's own numbers, and the data's
sha256 and provenance are on the page."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import derive_teacher
import export_digits
import numpy as np
import pytest
import train_digit_teacher

export_digits.ensure()
train_digit_teacher.ensure()
derive_teacher.ensure()

from labs_py import digit_teacher, digits, distill_run, kd_student, runtime  # noqa: E402
from labs_py import distillation as lab  # noqa: E402
from labs_py.controls import defaults  # noqa: E402
from labs_py.fmt import pct  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PAGE = (ROOT / "docs" / "labs" / "distillation.md").read_text()
DEFAULTS = defaults(lab.CONTROLS)
FRAMES = distill_run.SCHEDULE // distill_run.STEPS_PER_FRAME


def final(**changes) -> distill_run.Scores:
    return distill_run.complete(lab.run_key({**DEFAULTS, **changes})).history[-1]


def handle(instance: str, params: dict, action: str | None) -> dict:
    return json.loads(runtime.handle(json.dumps({"lab": "distillation", "instance": instance, "params": params, "action": action})))


def test_declares_the_issue_controls_actions_and_at_least_four_steps():
    assert {c.name for c in lab.CONTROLS} >= {"T", "alpha", "transfer", "omit"} and lab.KEY == ("T", "alpha")
    assert [a[0] for a in lab.ACTIONS] == ["play", "train"] and len(lab.STEPS) >= 4
    assert DEFAULTS["T"] == 4.0 and DEFAULTS["alpha"] == 0.9 and DEFAULTS["transfer"] == 100 and DEFAULTS["omit"] == "none"


def test_metrics_are_the_runs_scores():
    m, s = runtime.metrics("distillation", {}), final()
    assert m["acc_hard"].value == s.acc_hard and m["acc_soft"].value == s.acc_soft
    assert m["acc_teacher"].value == distill_run.teacher_accuracy()
    assert m["acc_hard"].text == pct(s.acc_hard) and "596" in m["acc_hard"].hint
    assert m["acc_omitted_hard"].value is None and m["acc_omitted_soft"].text == "—" and "no digit" in m["acc_omitted_soft"].hint
    assert sum(x.headline for x in m.values()) == 3
    m3, s3 = runtime.metrics("distillation", {"omit": "3"}), final(omit="3")
    assert m3["acc_omitted_soft"].value == s3.omitted_soft and m3["acc_omitted_hard"].value == s3.omitted_hard
    assert f"of {distill_run.held_out_count(3)})" in m3["acc_omitted_soft"].text
    assert sum(x.headline for x in m3.values()) == 4 and not m3["acc_teacher"].headline


def test_no_number_is_shown_as_zero_when_it_is_not():
    for params in ({}, {"T": 0.5}, {"T": 10, "context": "g5"}, {"omit": "3", "transfer": 20}, {"context": "w15"}):
        for name, m in runtime.metrics("distillation", params).items():
            if m.value not in (None, 0) and abs(m.value) > 0:
                assert not re.fullmatch(r"[+−-]?0(\.0+)?( %| nats| points)?", m.text), (params, name, m.text)


def test_play_runs_the_schedule_then_stops_and_says_so():
    params = dict(DEFAULTS)
    first = handle("play", params, "step")
    assert first["stop"] is False and "Step 2 of" in first["slots"]["chart"]
    for _ in range(FRAMES - 2):
        reply = handle("play", params, "step")
        assert reply["stop"] is False
    last = handle("play", params, "step")
    assert last["stop"] is True and 'data-run-status="schedule"' in last["slots"]["chart"]
    assert "Schedule ended" in last["slots"]["chart"]
    assert re.search(r'data-metric="acc_soft" data-value="([^"]+)"', last["slots"]["headline"]).group(1) == repr(final().acc_soft)
    again = handle("play", params, "step")  # Play again: a new run from step 0
    assert again["stop"] is False and "Step 2 of" in again["slots"]["chart"]


def test_train_finishes_a_run_and_other_settings_keep_it():
    params = dict(DEFAULTS)
    handle("keep", params, "step")
    moved = handle("keep", {**params, "context": "g0"}, None)  # the GPT-2 context is not part of the run
    assert "Step 2 of" in moved["slots"]["chart"]
    done = handle("keep", {**params, "context": "g0"}, "train")
    assert 'data-run-status="schedule"' in done["slots"]["chart"] and done["stop"] is False
    fresh = handle("keep", {**params, "alpha": 0.5}, None)  # a new setting: trained at once, for the picture
    assert f'data-value="{final(alpha=0.5).acc_soft!r}"' in fresh["slots"]["headline"]


@pytest.mark.parametrize("step", lab.STEPS, ids=lambda s: s.id)
def test_every_step_reveals_the_computed_answer(step):
    assert lab.run_key({**DEFAULTS, **step.setup})  # the setup is a valid lab state
    answers = {"entropy": ("97", "10"), "small-transfer": (None, "-10"), "omitted": (None, "0"),
               "alpha-zero": ("same", "different"), "more-data": ("shrinks", "grows")}[step.id]
    if step.id == "small-transfer":
        s = final()
        answers = (f"{round(100 * (s.acc_soft - s.acc_hard))}", "-10")
    if step.id == "omitted":
        answers = (f"{round(100 * final(omit='3').omitted_soft)}", "0")
    right, wrong = (runtime.check("distillation", step.id, a) for a in answers)
    assert right["right"] is True and wrong["right"] is False, (right, wrong)
    assert re.search(r"\d", right["text"]) and right["text"] == wrong["text"]


def test_page_prose_states_the_labs_constants_and_fills_its_numbers_from_the_lab():
    d = distill_run.data()
    text = " ".join(PAGE.split())
    for quoted in (f"{d.train.size:,} training images", f"{d.test.size} held-out digits", "9,610 parameters",
                   "650 parameters", f"take {distill_run.SCHEDULE} full-batch Adam steps", "the first 100 images",
                   digits.SHA256):
        assert quoted in text, quoted
    assert sum(p.size for p in digit_teacher.load().P.values()) == 9610
    assert kd_student.D_IN * kd_student.CLASSES + kd_student.CLASSES == 650
    assert not re.search(r"\d+\.\d %", re.sub(r"## What the paper found.*?## Data", "", PAGE, flags=re.S)), \
        "a percentage typed by hand: write {{lab distillation.<metric> ...}}"


def test_page_quotes_the_seed_sweep():
    seeds = [distill_run.SEED + k for k in range(10)]
    gains = [100 * (s.acc_soft - s.acc_hard) for s in (distill_run.complete((4.0, 0.9, 100, None, k)).history[-1] for k in seeds)]
    omitted = [distill_run.complete((4.0, 0.9, 100, 3, k)).history[-1] for k in seeds]
    text = " ".join(PAGE.split())
    assert (f"between {min(gains):+.1f} and {max(gains):+.1f} points of held-out accuracy over hard labels, "
            f"{np.mean(gains):+.1f} on average") in text
    lo, hi = min(s.omitted_soft for s in omitted), max(s.omitted_soft for s in omitted)
    assert f"between {pct(lo, 0)} and {pct(hi, 0)} of the held-out 3s, the hard ones at most " \
           f"{pct(max(s.omitted_hard for s in omitted), 0)}" in text


def test_data_sha256_and_provenance_are_on_the_page():
    html = runtime.snapshot("distillation", {})
    prov = digits.provenance()
    for text in (digits.SHA256, digit_teacher.load().sha256, prov["path"], f"scikit-learn {prov['version']}", "CC BY 4.0",
                 "UCI Machine Learning Repository", "1,201 training and 596 held-out", "dmlc/gluon-nlp"):
        assert text in html, text


def test_old_links_keep_working():
    params, notices, view = runtime.view("distillation", {"student": "lowrank", "context": "g0"})
    assert params["context"] == "g0" and any("student" in n for n in notices)
    assert "natural" in view.html and view.metrics["acc_soft"].value == final().acc_soft
    for query in ({"T": "4", "alpha": "1"}, {"T": "0.5", "alpha": "1"}, {"T": "4", "alpha": "0"}):
        _, notices, view = runtime.view("distillation", query)
        assert notices == [] and view.metrics["acc_soft"].value is not None


def test_imports_without_the_build_derived_data(tmp_path):
    shutil.copytree(ROOT / "labs_py", tmp_path / "labs_py", ignore=shutil.ignore_patterns("_data", "__pycache__"))
    code = "import labs_py.distillation as d; print(len(d.CONTROLS), len(d.STEPS))"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(len(lab.CONTROLS)), str(len(lab.STEPS))]


def test_warm_up_trains_a_whole_run_per_key_control_in_short_pieces():
    pieces = 0
    runs_before = distill_run.complete.cache_info().currsize
    for _ in lab.warm():
        pieces += 1
    per_run = -(-distill_run.SCHEDULE // lab.WARM_STEPS) + 1  # the steps, then the view
    assert pieces == len(lab.KEY) * per_run  # the defaults' runs do not converge before the schedule ends
    assert distill_run.complete.cache_info().currsize == runs_before  # no run kept: the warm-up is not a cache
