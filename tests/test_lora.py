"""The LoRA Lab's view: metrics are the run's numbers, Play stops at the schedule's end, the guided steps
reveal what the training code computes, missing data is explained, URL params are clamped."""

from __future__ import annotations

import json
import re

import pytest

from labs_py import lora, lora_base, runtime
from labs_py import lora_train as lt
from labs_py.controls import defaults
from labs_py.fmt import share

DEFAULTS = defaults(lora.CONTROLS)


def params(**changes) -> dict:
    return {**DEFAULTS, **changes}


@pytest.fixture(scope="module")
def trained():
    """The default lab after the Train action."""
    return lora.render(params(), None, "train", None)


def test_fresh_view_is_the_base_model():
    v = lora.render(params(), None, None, None)
    m = v.metrics
    assert m["acc_full"].value == m["acc_lora"].value == m["acc_head"].value
    assert m["keep_full"].value == m["keep_lora"].value == m["keep_head"].value > 0.95
    assert m["energy_at_r"].value is None and m["energy_at_r"].text == "—"
    assert [k for k, x in m.items() if x.headline] == ["acc_lora", "acc_full", "keep_lora", "keep_full"]
    assert (m["trainable_full"].value, m["trainable_lora"].value, m["trainable_head"].value) == (8970, 2698, 650)
    assert not v.stop and "ΔW is 0" in v.html


def test_train_runs_the_whole_schedule_and_stops(trained):
    run = trained.state
    assert run.t == lt.T and trained.stop and "data-lab-done" in trained.html
    for k in lt.KINDS:
        assert trained.metrics[f"acc_{k}"].value == run.acc[k][-1].value
        assert trained.metrics[f"keep_{k}"].value == run.keep[k][-1].value
        assert trained.metrics[f"acc_{k}"].text == share(run.acc[k][-1].value)
    after = lora.render(params(), run, "step", None)  # Play's next step at the end: no training, stop again
    assert after.stop and after.state.t == lt.T and after.metrics["step"].value == lt.T


def test_step_advances_one_step_and_reset_starts_over():
    v = lora.render(params(), None, "step", None)
    assert v.state.t == lora.STEPS_PER_FRAME and not v.stop
    v2 = lora.render(params(), v.state, "step", None)
    assert v2.state is v.state and v2.state.t == 2 * lora.STEPS_PER_FRAME
    assert lora.render(params(), v2.state, "reset", None).state.t == 0
    assert lora.render(params(r=4), v2.state, None, None).state.t == 0  # a new setting is a new run


def test_energy_at_r_is_the_share_of_the_full_update(trained):
    import numpy as np

    dW = trained.state.methods["full"].delta("W2")
    s = np.linalg.svd(dW, compute_uv=False)
    e = trained.metrics["energy_at_r"]
    assert e.value == pytest.approx(np.sum(s[:8] ** 2) / np.sum(s**2), rel=1e-10)
    assert e.text == share(e.value, 1)
    assert lora.render(params(r=64), None, "train", None).metrics["energy_at_r"].text == "100 %"


def test_guided_steps_reveal_the_trained_numbers():
    for step in lora.STEPS:
        assert set(step.setup) <= set(DEFAULTS) and step.action == "train"
    acc = {k: lt.final(k, lora.DEFAULT)[0].value for k in ("full", "lora")}
    r1 = lt.final("lora", lora._cfg(r=1))[0].value
    out = runtime.check("lora", "rank", "r1<r8<full")
    assert all(share(x) in out["text"] for x in (r1, acc["lora"], acc["full"]))
    keep = {k: lt.final(k, lora.DEFAULT)[1].value for k in lt.KINDS}
    out = runtime.check("lora", "forgets", min(keep, key=keep.get))
    assert out["right"] and share(keep["full"]) in out["text"]
    n = lora.n90()
    assert runtime.check("lora", "energy", str(n))["right"] and f"{n} of the 64" in runtime.check("lora", "energy", "1")["text"]
    for sid in ("alpha", "rslora"):
        assert "error" not in runtime.check("lora", sid, lora.STEPS[[s.id for s in lora.STEPS].index(sid)].predict.choices[0][0])


def test_runtime_round_trip_and_url_clamping():
    reply = json.loads(runtime.handle(json.dumps({"lab": "lora", "instance": "t", "params": {"r": "999", "layers": "W2,x"},
                                                  "action": "step"})))
    assert reply["params"]["r"] == 64 and reply["params"]["layers"] == "W2"
    assert "outside" in reply["notices"] and reply["stop"] is False
    assert re.search(r'data-metric="acc_lora" data-value="[0-9.]+"', reply["slots"]["headline"])
    assert reply["query"] == {"r": 64, "layers": "W2"}


def test_missing_data_is_explained(monkeypatch):
    def absent():
        raise lora_base.BaseMissingError("base model not found: run `python scripts/pretrain_lora_base.py`")

    monkeypatch.setattr(lora_base, "load", absent)
    v = lora.render(params(), None, "train", None)
    assert "pretrain_lora_base.py" in v.html and v.metrics["acc_lora"].text == "—"


def test_lab_page_quotes_the_numbers_the_lab_computes():
    """Every number in docs/labs/lora.md's prose is recomputed here (the page must not drift from the code)."""
    from pathlib import Path

    page = " ".join((Path(__file__).resolve().parent.parent / "docs" / "labs" / "lora.md").read_text().split())
    final = {k: lt.final(k, lora.DEFAULT) for k in lt.KINDS}
    a16 = lt.final("lora", lora._cfg(alpha=16.0))
    v = lora.render(params(), None, "train", None)
    quoted = [
        f"full fine-tuning reaches {share(final['full'][0].value)}, LoRA {share(final['lora'][0].value)} and head only "
        f"{share(final['head'][0].value)}",
        f"full fine-tuning is still right on {share(final['full'][1].value)}, LoRA on {share(final['lora'][1].value)} "
        f"and head only on {share(final['head'][1].value)}",
        f"LoRA still reaches {share(lt.final('lora', lora._cfg(r=1))[0].value)} on 5–9",
        f"LoRA reaches {share(a16[0].value)} on 5–9 but keeps only {share(a16[1].value)} on 0–4",
        f"{lora.n90()} of the 64 singular values", f"needs {lora.n90_random()})",
        f"top 8 hold {v.metrics['energy_at_r'].text}",
        f"all {v.metrics['trainable_full'].text} numbers", f"r = 8 that is {v.metrics['trainable_lora'].text} numbers",
        f"the last layer's {v.metrics['trainable_head'].text}",
        "1,797 8 × 8 images",
    ]
    for text in quoted:
        assert text in page, text
    keep = {k: final[k][1].value for k in lt.KINDS}
    assert keep["full"] < keep["lora"] < keep["head"]  # "the same order" as Biderman et al.
    assert final["full"][0].value > final["lora"][0].value > final["head"][0].value
