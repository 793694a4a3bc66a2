"""The RLHF Lab's view: the pair with its buttons first, four headline numbers, empty states, presets and steps."""

from __future__ import annotations

import json
import re

import pytest

from labs_py import preferences as pref
from labs_py import rlhf, runtime
from labs_py import rlhf_state as st
from labs_py.controls import clean
from labs_py.lab import Guess, Options

PARAMS, _ = clean(rlhf.CONTROLS, {})


def start(stored=None, params=PARAMS):
    return rlhf.render(params, None, "init", {"stored": stored})


def act(view, action, payload=None, params=PARAMS):
    return rlhf.render(params, view.state, action, payload)


def values(view) -> dict[str, float | None]:
    return {k: m.value for k, m in view.metrics.items()}


def live(lab_params: dict, actions: list[str]) -> dict:
    """The reply the browser gets after init and `actions`, through the runtime's JSON entry point."""
    instance = f"t-{len(actions)}-{json.dumps(lab_params, sort_keys=True)}"
    reply = None
    for action in ["init", *actions]:
        reply = json.loads(runtime.handle(json.dumps({"lab": "rlhf", "instance": instance, "params": lab_params,
                                                      "action": action, "payload": {"stored": None}})))
    return reply


def test_at_most_four_headline_numbers_and_the_required_metrics():
    view = act(start(), "simulate")
    headline = [k for k, m in view.metrics.items() if m.headline]
    assert headline == ["labels", "heldout_acc", "proxy_gain", "true_gain"]
    assert {"labels", "heldout_acc", "proxy_gain", "true_gain"} <= set(view.metrics)
    assert "95 % interval" in view.metrics["heldout_acc"].hint


def test_without_labels_tied_rewards_show_a_dash_with_the_reason():
    """All rewards tie at w = 0: accuracy 50 %, agreement 100 % or cos 0 would be artefacts (issue 12)."""
    m = start().metrics
    for name in ("heldout_acc", "proxy_gain", "true_gain", "cosine", "dpo_heldout_acc", "rank_agreement", "loss"):
        assert m[name].value is None and m[name].text == "—" and m[name].hint, name
    assert m["labels"].value == 0 and m["p_a"].value == 0.5


def test_pick_buttons_sit_under_the_answers_and_wait_for_the_runtime():
    snap = runtime.view("rlhf")[2].chart
    assert snap.index('class="rlhf-cands"') < snap.index('data-action="a"') < snap.index('data-action="b"')
    for action, key in (("a", "a"), ("b", "b"), ("skip", "s")):
        assert re.search(rf'data-action="{action}" data-key="{key}" aria-keyshortcuts="{key}" disabled>', snap)
    assert 'data-action="a" data-key="a" aria-keyshortcuts="a">' in start().chart


def test_snapshot_equals_the_first_live_view():
    """No stored labels: the build's snapshot is what init renders, except that the pick buttons become usable."""
    snap = runtime.snapshot("rlhf")
    reply = live({}, [])
    for slot, html in reply["slots"].items():
        assert re.sub(r" disabled(?=>)", "", html) in re.sub(r" disabled(?=>)", "", snap), slot
    assert reply["store"] is None


def test_longer_preset_overoptimises_and_careful_does_not():
    """Fixed seed (the first batch): proxy_gain > 0 > true_gain for "prefers longer", both rise for "careful"."""
    longer = live({"annotator": "longer"}, ["simulate"])["slots"]["headline"]
    got = dict(re.findall(r'data-metric="(\w+)" data-value="([^"]*)"', longer))
    assert float(got["proxy_gain"]) > 0 > float(got["true_gain"])
    careful = dict(re.findall(r'data-metric="(\w+)" data-value="([^"]*)"', live({}, ["simulate"])["slots"]["headline"]))
    assert float(careful["proxy_gain"]) > 0 and float(careful["true_gain"]) > 0


def test_gains_follow_the_chosen_n():
    small = values(act(start(params={**PARAMS, "bon": "1"}), "simulate", params={**PARAMS, "bon": "1"}))
    assert small["proxy_gain"] == 0 and small["true_gain"] == 0


def test_earlier_version_labels_are_explained_with_export_and_reset():
    old = json.dumps({"lab": "rlhf", "version": 1, "labels": [{"a": "egg.1", "b": "egg.2", "pick": "A", "by": "you"}] * 3})
    view = start(old)
    assert view.store is None and "3 labels from the lab's earlier version" in view.chart
    assert 'data-action="export"' in view.chart and 'data-action="reset_store" data-confirm=' in view.chart
    assert act(view, "a").store is None


def test_corrupt_store_is_explained_and_unknown_ids_are_escaped():
    text = json.dumps({"lab": "rlhf", "version": 2, "labels": [{"a": "<b>x</b>", "b": "egg.r000", "pick": "A", "by": "you"}]})
    view = start(text)
    assert "could not be read" in view.chart and "<b>x</b>" not in view.chart and "&lt;b&gt;x&lt;/b&gt;" in view.chart


def test_a_pick_before_the_stored_labels_arrive_writes_nothing():
    view = rlhf.render(PARAMS, None, "a", None)
    assert view.store is None and view.state.labels == [] and "not reached the lab yet" in view.chart
    assert "reload the page" not in view.chart


def test_beta_preset_from_the_url():
    reply = live({"beta": "0.5"}, [])
    assert reply["params"]["beta"] == 0.5 and reply["query"] == {"beta": 0.5}
    assert "β = 0.5" in reply["slots"]["body"]


def test_actions_declare_confirmation_and_reader_data():
    names = {a[0] for a in rlhf.ACTIONS}
    assert {"simulate", "train", "reset", "export", "import"} == names
    assert next(a for a in rlhf.ACTIONS if a[0] == "reset")[3]


def test_grpo_table_marks_which_answers_gain():
    view = act(start(), "simulate")
    assert "GRPO" in view.html and ("▲" in view.html and "▼" in view.html)
    assert "changes nothing" in start().html  # no labels: every advantage is 0


@pytest.mark.parametrize("step", rlhf.STEPS, ids=lambda s: s.id)
def test_every_step_checks_with_the_labs_numbers(step):
    assert len(rlhf.STEPS) >= 4
    assert set(step.setup) <= {c.name for c in rlhf.CONTROLS}
    assert isinstance(step.predict, (Options, Guess))
    results = [runtime.check("rlhf", step.id, v) for v, _ in step.predict.choices]
    assert sum(r["right"] for r in results) == 1, results
    assert re.search(r"\d", results[0]["text"])


def test_the_right_answers_are_the_lessons():
    right = {s.id: next(v for v, _ in s.predict.choices if runtime.check("rlhf", s.id, v)["right"]) for s in rlhf.STEPS}
    assert right["longer"] == "falls" and right["grpo"] == "above" and right["beta"] == "larger"
    assert right["labels"] in ("10", "25", "40")


def test_features_are_visible_on_demand():
    html = start().chart
    assert "<details" in html and all(f'<th scope="row">{f}</th>' in html for f in pref.FEATURES)
    assert len(pref.TRAINING_ORDER) == st.N_TRAIN_PAIRS


def test_numbers_on_the_lab_page_come_from_the_lab():
    """Every figure docs/labs/rlhf.md quotes, recomputed with the lab's code."""
    from pathlib import Path

    import numpy as np

    from labs_py import rlhf_measure as ms

    text = Path(__file__).parent.parent.joinpath("docs/labs/rlhf.md").read_text()
    one, fifty = ms.learning_curve("careful", (1, 50), 20)
    longer_w, careful_w = ms.fit("longer", 50).w, ms.fit("careful", 50).w
    longer, careful = ms.bon_curve(longer_w), ms.bon_curve(careful_w)
    peak = int(np.argmax(longer.true))
    quoted = [f"{one:.0%}".replace("%", " %") + " after one label", f"{fifty:.0%}".replace("%", " %") + " after fifty",
              f"rises by {longer.proxy[-1]:.2f} SD", f"until n = {ms.BON_NS[peak]} ({longer.true[peak]:+.2f} SD)",
              f"falls to −{-longer.true[-1]:.2f} SD", f"ends at {ms.heldout(longer_w)[0]:.0%}".replace("%", " %"),
              f"held-out accuracy {ms.heldout(careful_w)[0]:.0%}".replace("%", " %"),
              f"(+{careful.proxy[-1]:.2f} SD learned, +{careful.true[-1]:.2f} SD true at n = 256)",
              f"({len(pref.RESPONSES)} in all)", f"{len(pref.HELD_OUT[2])} of their pairs"]
    for phrase in quoted:
        assert phrase in text, phrase
