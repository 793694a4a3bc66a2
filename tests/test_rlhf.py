"""The RLHF Lab's view: picks train both models, stored labels round-trip, bad input is refused and escaped."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from scipy.special import expit

from labs_py import bradley_terry as bt
from labs_py import preferences as pref
from labs_py import rlhf, runtime
from labs_py.controls import clean

PARAMS, _ = clean(rlhf.CONTROLS, {})


def metrics(html: str) -> dict[str, float]:
    return {k: float(v) for k, v in re.findall(r'data-metric="(\w+)" data-value="([^"]+)"', html)}


def start(stored=None, params=PARAMS):
    view = rlhf.render(params, None, "init", {"stored": stored})
    return view


def act(view, action, payload=None, params=PARAMS):
    return rlhf.render(params, view.state, action, payload)


def labels_of(store) -> list[tuple[str, str, str, str]]:
    return [(x["a"], x["b"], x["pick"], x["by"]) for x in store["labels"]]


# ---- picking and training ----------------------------------------------------------------------

def test_a_pick_runs_real_gradient_descent_on_the_label():
    view = start()
    ia, ib = rlhf.current_pair(0)
    assert metrics(view.html)["p_a"] == 0.5  # w = 0: no preference yet
    view = act(view, "a")
    d = pref.PHI[ia] - pref.PHI[ib]
    w = np.zeros(len(pref.FEATURES))
    for _ in range(PARAMS["steps"]):  # the update written out: ∇ = −σ(−w·d) d + λ w for one label A ≻ B
        w = w - float(PARAMS["lr"]) * (-expit(-(w @ d)) * d + bt.LAMBDA * w)
    assert np.allclose(view.state.w, w, atol=1e-12)
    m = metrics(view.html)
    assert m["labels"] == 1 and m["steps"] == PARAMS["steps"]
    assert m["loss"] == pytest.approx(np.logaddexp(0, -(w @ d)) + bt.LAMBDA / 2 * (w @ w), rel=1e-12)
    assert labels_of(view.store) == [(pref.RESPONSES[ia].id, pref.RESPONSES[ib].id, "A", "you")]


def test_prediction_before_the_pick_and_agreement_after_it():
    view = act(act(start(), "a"), "b")
    ia, ib = rlhf.current_pair(view.state.cursor)
    p = float(expit(view.state.w @ (pref.PHI[ia] - pref.PHI[ib])))
    assert metrics(view.html)["p_a"] == pytest.approx(p, rel=1e-12)
    after = act(view, "a" if p > 0.5 else "b")
    assert "it agreed" in after.html
    after = act(after, "b" if metrics(after.html)["p_a"] > 0.5 else "a")
    assert "it disagreed" in after.html


def test_dpo_takes_bradley_terry_steps_in_reward_space():
    """With π_ref uniform, the DPO step η/β² on θ moves βθ exactly like BT gradient descent without L2 moves w."""
    params = {**PARAMS, "beta": 0.25, "steps": 37}
    view = start(params=params)
    for k in "abbab":
        view = act(view, k, params=params)
    ia, ib, y = rlhf.label_arrays(view.state.labels)
    D = pref.PHI[ia] - pref.PHI[ib]
    w = np.zeros(len(pref.FEATURES))
    for n in range(1, 6):
        w, _ = bt.gradient_descent(w, D[:n], y[:n], float(params["lr"]), 37, lam=0.0)
    assert np.allclose(0.25 * view.state.theta, w, atol=1e-10)


def test_skip_moves_on_without_a_label_and_without_writing():
    view = act(start(), "skip")
    assert view.store is None and view.state.labels == [] and view.state.cursor == 1
    assert "skipped" in view.html
    assert rlhf.current_pair(1) != rlhf.current_pair(0)


def test_second_pass_swaps_the_sides():
    a, b = rlhf.current_pair(3)
    assert rlhf.current_pair(3 + rlhf.N_TRAIN_PAIRS) == (b, a)


def test_simulated_batches_are_reproducible_and_tagged():
    params = {**PARAMS, "annotator": "verbose", "n": 30, "noise": 0.0}
    one = act(start(params=params), "simulate", params=params)
    two = act(start(params=params), "simulate", params=params)
    assert labels_of(one.store) == labels_of(two.store)
    assert len(one.store["labels"]) == 30 and {x["by"] for x in one.store["labels"]} == {"verbose"}
    m = metrics(one.html)
    assert m["annotator_labels"] == 30
    assert m["noise_ceiling"] == pytest.approx(np.mean([
        1.0 if np.sign((pref.PHI[a] - pref.PHI[b]) @ pref.ANNOTATORS["verbose"]) == y else
        0.5 if (pref.PHI[a] - pref.PHI[b]) @ pref.ANNOTATORS["verbose"] == 0 else 0.0
        for a, b, y, _ in one.state.labels]))


def test_train_button_adds_steps_only_when_there_are_labels():
    view = act(start(), "train")
    assert view.state.steps == 0 and "nothing to train" in view.html
    view = act(act(view, "a"), "train")
    assert view.state.steps == PARAMS["steps"] + rlhf.TRAIN_STEPS
    assert view.store is None  # training changes the models, not the labels


def test_held_out_accuracy_uses_the_reference_labels():
    view = act(start(params={**PARAMS, "n": 200}), "simulate", params={**PARAMS, "n": 200})
    ia, ib, y = pref.HELD_OUT
    margin = (pref.PHI[ia] - pref.PHI[ib]) @ view.state.w
    assert metrics(view.html)["heldout_acc"] == pytest.approx(np.mean(np.sign(margin) == y))
    assert metrics(view.html)["heldout_acc"] > 0.85


# ---- storage, import, export -------------------------------------------------------------------

def test_store_round_trips_through_json():
    view = act(act(act(start(), "a"), "b"), "simulate", params={**PARAMS, "n": 10})
    labels, why = rlhf.parse_store(json.dumps(view.store))
    assert why == "" and labels == view.state.labels
    assert view.store == {"lab": "rlhf", "version": 1, "labels": view.store["labels"]}


def test_reload_restores_labels_and_refits_from_zero():
    view = act(act(act(start(), "a"), "b"), "a")
    restored = start(json.dumps(view.store))
    assert restored.state.labels == view.state.labels
    assert restored.state.cursor == 3 and restored.store is None
    ia, ib, y = rlhf.label_arrays(view.state.labels)
    w, _ = bt.gradient_descent(np.zeros(len(pref.FEATURES)), pref.PHI[ia] - pref.PHI[ib], y, float(PARAMS["lr"]),
                               rlhf.RESTORE_STEPS)
    assert np.allclose(restored.state.w, w, atol=1e-12)
    assert "Restored 3 labels" in restored.html


def test_init_with_the_same_labels_keeps_the_live_session():
    """Instant navigation back to the page sends init again: nothing is refit."""
    picked = act(start(), "a")
    view = act(picked, "train")
    again = rlhf.render(PARAMS, view.state, "init", {"stored": json.dumps(picked.store)})
    assert again.state is view.state and again.state.steps == view.state.steps


BAD_STORES = {
    "not json": "{not json",
    "null": "null",
    "foreign": json.dumps({"lab": "lora", "version": 1, "labels": []}),
    "no lab": json.dumps({"version": 1, "labels": []}),
    "version 2": json.dumps({"lab": "rlhf", "version": 2, "labels": []}),
    "version true": json.dumps({"lab": "rlhf", "version": True, "labels": []}),
    "version 1.0": '{"lab": "rlhf", "version": 1.0, "labels": []}',
    "extra key": json.dumps({"lab": "rlhf", "version": 1, "labels": [], "x": 1}),
    "labels not a list": json.dumps({"lab": "rlhf", "version": 1, "labels": {}}),
    "unknown id": json.dumps({"lab": "rlhf", "version": 1, "labels": [{"a": "egg.9", "b": "egg.1", "pick": "A", "by": "you"}]}),
    "two prompts": json.dumps({"lab": "rlhf", "version": 1, "labels": [{"a": "egg.1", "b": "moon.1", "pick": "A", "by": "you"}]}),
    "same response": json.dumps({"lab": "rlhf", "version": 1, "labels": [{"a": "egg.1", "b": "egg.1", "pick": "A", "by": "you"}]}),
    "held out": json.dumps({"lab": "rlhf", "version": 1, "labels": [{"a": "sum.1", "b": "sum.2", "pick": "A", "by": "you"}]}),
    "pick C": json.dumps({"lab": "rlhf", "version": 1, "labels": [{"a": "egg.1", "b": "egg.2", "pick": "C", "by": "you"}]}),
    "by whom": json.dumps({"lab": "rlhf", "version": 1, "labels": [{"a": "egg.1", "b": "egg.2", "pick": "A", "by": "me"}]}),
    "extra label key": json.dumps({"lab": "rlhf", "version": 1,
                                   "labels": [{"a": "egg.1", "b": "egg.2", "pick": "A", "by": "you", "t": 0}]}),
    "too many": json.dumps({"lab": "rlhf", "version": 1,
                            "labels": [{"a": "egg.1", "b": "egg.2", "pick": "A", "by": "you"}] * (rlhf.MAX_LABELS + 1)}),
    "too long": "[" + " " * rlhf.MAX_STORE_CHARS + "]",
    "empty": "",
    "deep": "[" * 100_000 + "]" * 100_000,
}


@pytest.mark.parametrize("name", sorted(BAD_STORES))
def test_parse_store_refuses_anything_unexpected(name):
    labels, why = rlhf.parse_store(BAD_STORES[name])
    assert labels is None and why


@pytest.mark.parametrize("name", ["not json", "version 2", "unknown id", "held out"])
def test_a_corrupt_stored_value_is_explained_and_never_overwritten(name):
    view = start(BAD_STORES[name])
    assert view.store is None
    assert "could not be read" in view.html
    assert 'data-action="reset_store"' in view.html and "data-confirm=" in view.html
    for action in ("a", "b", "skip", "simulate", "train"):
        view = act(view, action)
        assert view.store is None and view.state.labels == []
        assert "could not be read" in view.html
    view = act(view, "import", {"text": json.dumps(rlhf.to_store([])), "name": "ok.json"})
    assert view.store is None
    view = act(view, "reset_store")
    assert view.store == {"lab": "rlhf", "version": 1, "labels": []}
    assert "could not be read" not in view.html
    assert act(view, "a").store is not None


def test_a_restarted_worker_never_overwrites_the_stored_labels():
    """State lost (worker restart): a pick arrives without init. Writing would replace the reader's labels."""
    view = rlhf.render(PARAMS, None, "a", None)
    assert view.store is None and view.state.labels == []
    assert "reload the page" in view.html


def test_import_replaces_the_labels_and_export_format_round_trips():
    source = act(act(start(), "b"), "simulate", params={**PARAMS, "n": 20})
    view = act(start(), "a")
    view = act(view, "import", {"text": json.dumps(source.store), "name": "rlhf-lab.json"})
    assert view.state.labels == source.state.labels
    assert view.store == source.store
    assert "Imported 21 labels" in view.html


def test_a_malformed_import_is_refused_and_leaves_the_labels_alone():
    view = act(act(start(), "a"), "b")
    before = list(view.state.labels)
    evil = '<img src=x onerror="alert(1)">.json'
    for text in (BAD_STORES["not json"], BAD_STORES["foreign"], BAD_STORES["unknown id"], None):
        view = act(view, "import", {"text": text, "name": evil})
        assert view.store is None and view.state.labels == before
        assert "Import failed" in view.html and "Your 2 labels are unchanged" in view.html
        assert "<img src=x" not in view.html and "&lt;img src=x" in view.html
    view = act(view, "import", "not a payload")
    assert view.store is None and view.state.labels == before


def test_unknown_ids_are_escaped_when_echoed():
    text = json.dumps({"lab": "rlhf", "version": 1, "labels": [{"a": "<b>x</b>", "b": "egg.1", "pick": "A", "by": "you"}]})
    view = start(text)
    assert "<b>x</b>" not in view.html and "&lt;b&gt;x&lt;/b&gt;" in view.html


def test_reset_clears_labels_and_models():
    view = act(act(start(), "a"), "reset")
    assert view.store == {"lab": "rlhf", "version": 1, "labels": []}
    assert view.state.labels == [] and not view.state.w.any() and view.state.steps == 0


def test_the_label_cap_is_enforced():
    labels = [(pref.INDEX["egg.1"], pref.INDEX["egg.2"], 1.0, "you")] * rlhf.MAX_LABELS
    view = start(json.dumps(rlhf.to_store(labels)))
    refused = act(view, "a")
    assert refused.store is None and len(refused.state.labels) == rlhf.MAX_LABELS
    assert "at most 2,000 labels" in refused.html
    assert act(view, "simulate").store is None


# ---- the page contract -------------------------------------------------------------------------

def test_snapshot_equals_the_first_live_view():
    """No stored labels: the build's snapshot is exactly what init renders, so going live changes nothing."""
    snap = runtime.snapshot("rlhf")
    reply = json.loads(runtime.handle(json.dumps({"lab": "rlhf", "instance": "snap", "action": "init",
                                                  "payload": {"stored": None}})))
    assert reply["html"] in snap and reply["store"] is None


def test_actions_carry_keys_and_confirmation():
    snap = runtime.snapshot("rlhf")
    assert re.search(r'data-action="a" data-key="a" aria-keyshortcuts="a"', snap)
    assert re.search(r'data-action="b" data-key="b"', snap) and re.search(r'data-action="skip" data-key="s"', snap)
    assert re.search(r'data-action="reset" data-confirm="[^"]+"', snap)
    assert 'data-action="export"' in snap and 'data-action="import"' in snap
    quant = runtime.snapshot("quantization")
    assert "data-key" not in quant and "data-confirm" not in quant


@pytest.mark.parametrize(("raw", "beta", "query"), [("0.1", 0.1, {}), ("0.5", 0.5, {"beta": 0.5}), ("7", 1.0, {"beta": 1.0})])
def test_beta_preset_from_the_url(raw, beta, query):
    reply = json.loads(runtime.handle(json.dumps({"lab": "rlhf", "instance": "url", "params": {"beta": raw},
                                                  "action": "init", "payload": {"stored": None}})))
    assert reply["params"]["beta"] == beta and reply["query"] == query
    assert f"β = {beta:g}" in reply["html"]


def test_features_are_visible_on_demand():
    html = start().html
    assert "<details" in html and all("<th scope=\"row\" title=" in html and f">{f}</th>" in html for f in pref.FEATURES)


def test_accuracy_on_the_readers_own_labels_is_shown_when_mixed():
    view = act(act(start(), "a"), "simulate", params={**PARAMS, "n": 10})
    mine = [lab for lab in view.state.labels if lab[3] == "you"]
    ia, ib, y = rlhf.label_arrays(mine)
    own = bt.accuracy(view.state.w, pref.PHI[ia] - pref.PHI[ib], y)
    assert f"on your own labels: {100 * own:.1f} %" in view.html
    assert "1 yours, 10 simulated" in view.html
