"""The RLHF Lab's state: training is real gradient descent, and labels are never lost (store, import, versions)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.special import expit

from labs_py import bradley_terry as bt
from labs_py import preferences as pref
from labs_py import rlhf_state as st

PARAMS = {"lr": "1", "steps": 20, "beta": 0.1, "annotator": "careful", "noise": 0.5, "n": 50}
A1, A2 = pref.PROMPTS[0].responses[0].id, pref.PROMPTS[0].responses[1].id
HELD = next(p for p in pref.PROMPTS if p.held_out).responses


def store(labels: list[dict], version: int = st.STORE_VERSION) -> str:
    return json.dumps({"lab": "rlhf", "version": version, "labels": labels})


def label(a=A1, b=A2, pick="A", by="you") -> dict:
    return {"a": a, "b": b, "pick": pick, "by": by}


def test_a_pick_runs_real_gradient_descent_on_the_label():
    s, _ = st.from_stored(None, None, PARAMS)
    ia, ib = st.current_pair(0)
    s, saved, _ = st.act(s, PARAMS, "a", None)
    d = pref.PHI[ia] - pref.PHI[ib]
    w = np.zeros(len(pref.FEATURES))
    for _ in range(PARAMS["steps"]):  # the update written out: ∇ = −σ(−w·d) d + λ w for one label A ≻ B
        w = w - 1.0 * (-expit(-(w @ d)) * d + bt.LAMBDA * w)
    assert np.allclose(s.w, w, atol=1e-12)
    assert saved == {"lab": "rlhf", "version": 2, "labels": [label(pref.RESPONSES[ia].id, pref.RESPONSES[ib].id)]}


def test_dpo_takes_bradley_terry_steps_in_reward_space():
    """The DPO step η/β² on θ moves βθ exactly like BT gradient descent without L2 moves w."""
    params = {**PARAMS, "beta": 0.25, "steps": 37}
    s = st.Session()
    for k in "abbab":
        s, _, _ = st.act(s, params, k, None)
    ia, ib, y = st.label_arrays(s.labels)
    D = pref.PHI[ia] - pref.PHI[ib]
    w = np.zeros(len(pref.FEATURES))
    for n in range(1, 6):
        w, _ = bt.gradient_descent(w, D[:n], y[:n], 1.0, 37, lam=0.0)
    assert np.allclose(0.25 * s.theta, w, atol=1e-10)


def test_skip_moves_on_without_a_label_and_the_second_pass_swaps_sides():
    s, saved, _ = st.act(st.Session(), PARAMS, "skip", None)
    assert saved is None and s.labels == [] and s.cursor == 1
    a, b = st.current_pair(3)
    assert st.current_pair(3 + st.N_TRAIN_PAIRS) == (b, a)


def test_simulated_batches_are_reproducible_and_tagged():
    params = {**PARAMS, "annotator": "longer", "n": 30, "noise": 0.0}
    one = st.act(st.Session(), params, "simulate", None)[1]
    two = st.act(st.Session(), params, "simulate", None)[1]
    assert one == two and len(one["labels"]) == 30 and {x["by"] for x in one["labels"]} == {"longer"}


def test_the_store_round_trips_and_reload_refits_from_zero():
    s = st.Session()
    for k in ("a", "b", "simulate"):
        s, saved, _ = st.act(s, {**PARAMS, "n": 10}, k, None)
    labels, why = st.parse_store(json.dumps(saved))
    assert why == "" and labels == s.labels
    restored, note = st.from_stored(json.dumps(saved), None, PARAMS)
    ia, ib, y = st.label_arrays(labels)
    w, _ = bt.gradient_descent(np.zeros(len(pref.FEATURES)), pref.PHI[ia] - pref.PHI[ib], y, 1.0, st.RESTORE_STEPS)
    assert restored.labels == labels and restored.cursor == 2 and np.allclose(restored.w, w, atol=1e-12)
    assert "Restored 12 labels" in note


def test_init_with_the_same_labels_keeps_the_live_session():
    s, saved, _ = st.act(st.Session(), PARAMS, "a", None)
    s, _, _ = st.act(s, PARAMS, "train", None)
    again, _ = st.from_stored(json.dumps(saved), s, PARAMS)
    assert again is s


BAD_STORES = {
    "not json": "{not json",
    "null": "null",
    "foreign": json.dumps({"lab": "lora", "version": 2, "labels": []}),
    "no lab": json.dumps({"version": 2, "labels": []}),
    "version 3": store([], 3),
    "version true": json.dumps({"lab": "rlhf", "version": True, "labels": []}),
    "version 2.0": '{"lab": "rlhf", "version": 2.0, "labels": []}',
    "extra key": json.dumps({"lab": "rlhf", "version": 2, "labels": [], "x": 1}),
    "labels not a list": json.dumps({"lab": "rlhf", "version": 2, "labels": {}}),
    "unknown id": store([label(a="egg.9")]),
    "two prompts": store([label(b=pref.PROMPTS[1].responses[0].id)]),
    "same response": store([label(b=A1)]),
    "held out": store([label(HELD[0].id, HELD[1].id)]),
    "pick C": store([label(pick="C")]),
    "by whom": store([label(by="me")]),
    "extra label key": store([{**label(), "t": 0}]),
    "too many": store([label()] * (st.MAX_LABELS + 1)),
    "too long": "[" + " " * st.MAX_STORE_CHARS + "]",
    "empty": "",
    "deep": "[" * 100_000 + "]" * 100_000,
    "version 1": store([{"a": "egg.1", "b": "egg.2", "pick": "A", "by": "you"}], 1),
}


@pytest.mark.parametrize("name", sorted(BAD_STORES))
def test_parse_store_refuses_anything_unexpected(name):
    labels, why = st.parse_store(BAD_STORES[name])
    assert labels is None and why


@pytest.mark.parametrize("name", ["not json", "version 3", "unknown id", "held out", "version 1"])
def test_unreadable_or_earlier_stores_are_kept_until_the_reader_resets(name):
    s, _ = st.from_stored(BAD_STORES[name], None, PARAMS)
    assert s.problem == (st.OLD if name == "version 1" else st.CORRUPT)
    for action in ("a", "b", "skip", "simulate", "train"):
        s, saved, note = st.act(s, PARAMS, action, None)
        assert saved is None and s.labels == [] and "Nothing was changed" in note
    s, saved, _ = st.act(s, PARAMS, "import", {"text": json.dumps(st.to_store([])), "name": "ok.json"})
    assert saved is None
    s, saved, _ = st.act(s, PARAMS, "reset_store", None)
    assert saved == {"lab": "rlhf", "version": 2, "labels": []} and not s.problem
    assert st.act(s, PARAMS, "a", None)[1] is not None


def test_earlier_version_labels_are_counted_not_read():
    assert st.earlier_version(store([label()] * 7, 1)) == 7
    assert st.earlier_version(store([label()], 2)) is None and st.earlier_version("{") is None
    s, _ = st.from_stored(store([label()] * 7, 1), None, PARAMS)
    assert s.problem == st.OLD and s.detail == "7"


def test_import_replaces_the_labels_and_a_bad_one_leaves_them_alone():
    source = st.act(st.Session(), {**PARAMS, "n": 20}, "simulate", None)[1]
    s, _, _ = st.act(st.Session(), PARAMS, "a", None)
    before = list(s.labels)
    for text in (BAD_STORES["not json"], BAD_STORES["foreign"], BAD_STORES["version 1"], None):
        s, saved, note = st.act(s, PARAMS, "import", {"text": text, "name": "x.json"})
        assert saved is None and s.labels == before and "Your 1 labels are unchanged" in note
    assert "earlier version" in st.act(s, PARAMS, "import", {"text": BAD_STORES["version 1"], "name": "x"})[2]
    s, saved, note = st.act(s, PARAMS, "import", {"text": json.dumps(source), "name": "rlhf-lab.json"})
    assert saved == source and len(s.labels) == 20 and "Imported 20 labels" in note


def test_the_label_cap_is_enforced():
    labels = [(pref.INDEX[A1], pref.INDEX[A2], 1.0, "you")] * st.MAX_LABELS
    s, _ = st.from_stored(json.dumps(st.to_store(labels)), None, PARAMS)
    s, saved, note = st.act(s, PARAMS, "a", None)
    assert saved is None and len(s.labels) == st.MAX_LABELS and "at most 2,000 labels" in note
    assert st.act(s, PARAMS, "simulate", None)[1] is None


def test_reset_clears_labels_and_models():
    s, _, _ = st.act(st.Session(), PARAMS, "a", None)
    s, saved, _ = st.act(s, PARAMS, "reset", None)
    assert saved == {"lab": "rlhf", "version": 2, "labels": []} and s.labels == [] and not s.w.any()
