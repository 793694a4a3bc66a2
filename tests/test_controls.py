"""Untrusted params are clamped or ignored with a notice, never an exception."""

import math

import pytest

from labs_py import runtime
from labs_py.controls import Choice, Multi, Slider, Toggle, clean, neighbour, non_default
from labs_py.lab import LABS

CONTROLS = (
    Slider("bits", "Bits", 2, 16, 1, 4, integer=True),
    Slider("T", "Temperature", 0.5, 10, 0.1, 2.0),
    Choice("method", "Method", (("a", "A"), ("b", "B")), "a"),
    Toggle("dq", "DQ", 0),
)

BAD = ["nan", "NaN", "inf", "-Infinity", "1e999", "", " ", "x" * 10_000, "<img src=x onerror=alert(1)>",
       None, [], {}, math.nan, math.inf, "0x10", "--1", "1,5", "½", 10**400, -(10**400)]


@pytest.mark.parametrize("raw", BAD)
def test_bad_values_fall_back_to_defaults_with_notice(raw):
    params, notices = clean(CONTROLS, {"bits": raw, "T": raw, "method": raw, "dq": raw})
    assert params == {"bits": 4, "T": 2.0, "method": "a", "dq": 0}
    assert len(notices) == 4


def test_booleans_are_not_numbers_but_are_toggles():
    params, notices = clean(CONTROLS, {"bits": True, "dq": True})
    assert params["bits"] == 4 and params["dq"] == 1 and len(notices) == 1


def test_out_of_range_values_are_clamped_and_reported():
    params, notices = clean(CONTROLS, {"bits": "99", "T": "-3"})
    assert params["bits"] == 16 and params["T"] == 0.5
    assert any("outside" in n for n in notices) and len(notices) == 2


def test_unknown_keys_and_non_dict_input_are_ignored():
    params, notices = clean(CONTROLS, {"evil": "1", 3: 4})
    assert params["bits"] == 4 and len(notices) == 2
    params, notices = clean(CONTROLS, "bits=3")
    assert params["bits"] == 4 and notices


def test_valid_values_pass_silently_and_snap_to_step():
    params, notices = clean(CONTROLS, {"bits": "8", "T": "3.14", "method": "b", "dq": "1"})
    assert params == {"bits": 8, "T": 3.1, "method": "b", "dq": 1} and notices == []
    assert non_default(CONTROLS, params) == {"bits": 8, "T": 3.1, "method": "b", "dq": 1}


def test_multi_keeps_declaration_order_and_refuses_unknown_options():
    m = Multi("targets", "Targets", (("q", "q"), ("k", "k"), ("v", "v")), "q,v")
    assert m.parse("q,v") == ("q,v", None)
    value, notice = m.parse("v,q")  # reordered: used in declaration order, and said so (the fault gate asks for it)
    assert value == "q,v" and "read as q,v" in notice
    assert m.parse(" k , q ")[0] == "q,k"
    value, notice = m.parse("q,zz")
    assert value == "q" and "zz" in notice
    assert m.parse("")[0] == "q,v" and "nothing chosen" in m.parse("")[1]
    assert m.parse(7)[0] == "q,v" and m.parse(["q"])[0] == "q,v"


@pytest.mark.parametrize("control", [c for lab in LABS for c in runtime.lab_module(lab).CONTROLS] + [
    Multi("m", "M", (("a", "A"), ("b", "B")), "a,b"), Slider("s", "S", 0, 1, 0.25, 1.0)], ids=lambda c: c.name)
def test_the_neighbour_is_a_valid_value_one_notch_from_the_default(control):
    value = neighbour(control)
    assert control.parse(value) == (value, None) and value != control.default
    if isinstance(control, Slider):
        assert abs(value - control.default) == pytest.approx(control.step)
    elif isinstance(control, Multi):
        assert len(set(value.split(",")) ^ set(control.default.split(","))) == 1
