"""The runtime: snapshot and live replies agree; bad requests give notices; reader text is escaped."""

import json

from labs_py import runtime


def test_snapshot_and_live_reply_render_the_same_view():
    snap = runtime.snapshot("quantization", {"bits": "3"})
    reply = json.loads(runtime.handle(json.dumps({"lab": "quantization", "params": {"bits": "3"}})))
    assert reply["html"] in snap
    assert reply["query"] == {"bits": 3}
    assert 'data-lab="quantization"' in snap and 'data-state="static"' in snap


def test_injected_html_in_params_is_escaped():
    evil = "<img src=x onerror=alert(1)>"
    snap = runtime.snapshot("quantization", {"method": evil, evil: "1"})
    assert "<img src=x" not in snap and "&lt;img src=x" in snap


def test_unknown_lab_is_a_clear_error():
    try:
        runtime.snapshot("nope")
    except KeyError as exc:
        assert "unknown lab" in str(exc)
    else:
        raise AssertionError("unknown lab accepted")
