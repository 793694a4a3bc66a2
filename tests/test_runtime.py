"""The runtime: snapshot and live replies agree; bad requests give notices; step checks validate input."""

import json

import pytest

from labs_py import runtime


def test_snapshot_and_live_reply_render_the_same_view():
    snap = runtime.snapshot("quantization", {"bits": "3"})
    reply = json.loads(runtime.handle(json.dumps({"lab": "quantization", "params": {"bits": "3"}})))
    assert set(reply["slots"]) == {"chart", "headline", "numbers", "body"}
    for html in reply["slots"].values():
        assert html in snap
    assert reply["query"] == {"bits": 3}
    assert reply["disabled"] == {} and reply["stop"] is False
    assert 'data-lab="quantization"' in snap and 'data-state="static"' in snap


def test_disabled_controls_travel_in_the_reply_and_the_snapshot():
    reply = json.loads(runtime.handle(json.dumps({"lab": "quantization", "params": {"method": "nf4"}})))
    assert "bits" in reply["disabled"]
    snap = runtime.snapshot("quantization", {"method": "nf4"})
    bits = snap.split('data-control="bits"')[1].split(">")[0]
    assert bits.endswith(" disabled") and 'aria-describedby="quantization-bits-help quantization-bits-off"' in bits


def test_injected_html_in_params_is_escaped():
    evil = "<img src=x onerror=alert(1)>"
    snap = runtime.snapshot("quantization", {"method": evil, evil: "1"})
    assert "<img src=x" not in snap and "&lt;img src=x" in snap


def test_unknown_lab_is_a_clear_error():
    with pytest.raises(KeyError, match="unknown lab"):
        runtime.snapshot("nope")


@pytest.mark.parametrize("prediction", [None, "", "7", "NaN", "1e400", True, ["60"], {"x": 1}, "<script>", "60 "])
def test_a_check_refuses_what_is_not_a_prediction(prediction):
    out = json.loads(runtime.handle(json.dumps({"lab": "quantization", "check": "zeros", "prediction": prediction})))
    assert out["step"] == "zeros" and "prediction" in out["error"]


@pytest.mark.parametrize("prediction", ["nan", "inf", "99", "-1", "abc", 3.9])
def test_a_numeric_guess_must_be_a_finite_number_in_range(prediction):
    out = runtime.check("quantization", "nf4-bits", prediction)
    assert "error" in out, out


def test_unknown_step_is_a_message_not_an_exception():
    out = json.loads(runtime.handle(json.dumps({"lab": "quantization", "check": "<b>" * 40, "prediction": "1"})))
    assert out == {"step": None, "error": "This lab has no such step."}  # an unknown id is not echoed back


def test_a_check_reports_right_and_the_computed_text():
    out = runtime.check("quantization", "nf4-bits", "4.125")
    assert out["right"] is True and "4.127" in out["text"]


@pytest.mark.parametrize("name", runtime.LABS)
def test_warm_up_computes_in_pieces_and_leaves_every_page_state_alone(name):
    page = json.dumps({"lab": name, "instance": "/labs/x/#0", "params": {}})
    runtime.handle(page)  # a page's instance, past its first render
    before, states = runtime.handle(page), dict(runtime._STATE)
    assert sum(1 for _ in runtime.warm(name)) >= 1
    assert states == runtime._STATE
    assert runtime.handle(page) == before
