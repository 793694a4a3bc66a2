"""The Planner Lab's view and steps: metrics via runtime.metrics equal the modules' numbers; steps' checks
compute their answers; the stage page's preset carries the exercise's settings; page constants match code."""

import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from labs_py import planner, runtime
from labs_py.controls import clean, defaults
from labs_py.planner_compute import run_time
from labs_py.planner_memory import GIB, LOSS_BYTES, NF4_DQ_BITS, bill, from_params

ROOT = Path(__file__).resolve().parent.parent
ISSUE_METRICS = ("params_total", "params_trainable", "mem_weights_gib", "mem_grads_gib", "mem_optim_gib",
                 "mem_activations_gib", "mem_logits_gib", "mem_total_gib", "fits", "tokens_per_s", "gpu_hours",
                 "cost_usd")


def setup_of(raw: dict):
    return from_params(clean(planner.CONTROLS, raw)[0])


def test_controls_are_the_issues_url_params():
    assert [c.name for c in planner.CONTROLS] == ["model", "method", "gpu", "task", "precision", "optim", "batch",
                                                  "seq", "ckpt", "attn", "loss", "r", "alpha", "targets", "tokens",
                                                  "epochs", "mfu", "price"]


@pytest.mark.parametrize("raw", [{}, {"method": "full", "batch": 1, "seq": 512, "gpu": "a100-80"},
                                 {"model": "gemma-2-9b", "method": "qlora", "gpu": "l4", "ckpt": 1, "seq": 1024}])
def test_view_metrics_equal_the_modules_numbers(raw):
    m = runtime.metrics("planner", raw)
    assert set(ISSUE_METRICS) <= set(m)
    assert sum(v.headline for v in m.values()) <= 4
    s = setup_of(raw)
    b = bill(s)
    assert m["mem_total_gib"].value == pytest.approx(b.total / GIB)
    assert m["mem_logits_gib"].value == pytest.approx(b.get("logits") / GIB)
    assert m["fits"].value == float(b.fits)
    if b.fits:
        assert m["gpu_hours"].value == pytest.approx(run_time(s).gpu_hours)
    else:
        assert m["gpu_hours"].value is None and m["gpu_hours"].text == "—"


def test_default_does_not_fit_and_names_a_computed_fix():
    _, _, view = runtime.view("planner", {})
    assert view.metrics["fits"].value == 0
    assert "Cheapest change that fits: turn on gradient checkpointing" in view.html
    assert 'class="lab-chart"' in view.chart and "RTX 4090" in view.chart


def test_adapter_controls_are_off_for_full_fine_tuning():
    _, _, view = runtime.view("planner", {"method": "full"})
    assert {"r", "alpha", "targets"} <= set(view.disabled) and "precision" not in view.disabled
    assert "precision" in runtime.view("planner", {})[2].disabled


def test_cost_is_undefined_without_a_price():
    m = runtime.metrics("planner", {"gpu": "t4", "model": "llama-3.2-3b", "method": "qlora", "batch": 1, "seq": 512})
    assert m["fits"].value == 1 and m["cost_usd"].value is None and "price" in m["cost_usd"].hint
    m = runtime.metrics("planner", {"gpu": "t4", "model": "llama-3.2-3b", "method": "qlora", "batch": 1, "seq": 512,
                                    "price": 0.35})
    assert m["cost_usd"].value == pytest.approx(m["gpu_hours"].value * 0.35)


def preset(link_text: str) -> dict:
    url = re.search(r"\(labs/planner\.md\?([^)]+)\)", link_text).group(1)
    return dict(parse_qsl(urlsplit("?" + url).query))


def test_stage_page_links_carry_the_exercise_settings():
    text = (ROOT / "docs" / "index.md").read_text()
    links = re.findall(r"\(labs/planner\.md\?[^)]+\)", text)
    assert len(links) == 2 and links[0] == links[1]
    raw = preset(links[0])
    _, notices = clean(planner.CONTROLS, raw)
    assert notices == []
    m = runtime.metrics("planner", raw)
    assert m["params_trainable"].value == 16_777_216  # the exercise table's LoRA parameter count
    assert m["fits"].value == 1 and m["mem_total_gib"].value < 24


def test_page_constants_are_the_codes():
    text = " ".join((ROOT / "docs" / "labs" / "planner.md").read_text().split())
    assert f"{NF4_DQ_BITS} bits per weight" in text
    assert f"about {LOSS_BYTES['upcast']:g} bytes" in text


@pytest.mark.parametrize("step", planner.STEPS, ids=[s.id for s in planner.STEPS])
def test_every_step_has_exactly_one_right_answer(step):
    assert set(step.setup) <= set(defaults(planner.CONTROLS))
    if hasattr(step.predict, "choices"):
        rights = [runtime.check("planner", step.id, v)["right"] for v, _ in step.predict.choices]
        assert rights.count(True) == 1
    else:
        texts = [runtime.check("planner", step.id, f"{x:g}") for x in (step.predict.lo, step.predict.hi)]
        assert all("text" in t for t in texts)


def test_step_answers_are_computed():
    assert runtime.check("planner", "full-24", "3")["right"]  # 8 B/param of 8B params ≈ 60 GiB on 23.64 GiB
    assert runtime.check("planner", "qlora-65b", "yes")["right"]
    assert runtime.check("planner", "flops", "1.5")["right"]
    assert runtime.check("planner", "logits", "50")["right"]
    s = setup_of(planner.CKPT_4096)
    saved = (bill(s).get("activations") - bill(s.but(ckpt=True)).get("activations")) / GIB
    assert runtime.check("planner", "ckpt", f"{round(saved)}")["right"]
    assert not runtime.check("planner", "ckpt", "2")["right"]
