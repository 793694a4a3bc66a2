"""The lab contract: every registered lab declares what the framework lays out, within its limits."""

import pytest

from labs_py import runtime
from labs_py.lab import LABS, Guess, Options, nearest


def test_nearest_is_closest_on_a_log_scale():
    choices = {"a": 1.0, "b": 2.0, "c": 4.0}
    assert nearest(choices, 1.4) == "a" and nearest(choices, 1.42) == "b" and nearest(choices, 100) == "c"


@pytest.mark.parametrize("name", LABS)
def test_a_lab_declares_its_question_key_controls_and_steps(name):
    mod = runtime.lab_module(name)
    assert mod.QUESTION.endswith("?")
    names = [c.name for c in mod.CONTROLS]
    assert 1 <= len(mod.KEY) <= 2 and set(mod.KEY) <= set(names)
    assert len({s.id for s in mod.STEPS}) == len(mod.STEPS)
    for step in mod.STEPS:
        assert set(step.setup) <= set(names)
        if isinstance(step.predict, Options):
            assert 2 <= len(step.predict.choices) <= 4
        else:
            assert isinstance(step.predict, Guess) and step.predict.lo < step.predict.default <= step.predict.hi


@pytest.mark.parametrize("name", LABS)
def test_a_lab_has_at_most_four_headline_metrics(name):
    assert sum(m.headline for m in runtime.metrics(name).values()) <= 4
