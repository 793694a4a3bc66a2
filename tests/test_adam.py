"""Adam against a direct transcription of Kingma & Ba 2015, Algorithm 1, on several tensors and steps."""

import numpy as np

from labs_py.adam import Adam


def test_steps_match_the_algorithm_written_out():
    rng = np.random.default_rng(0)
    x = {"w": rng.standard_normal((3, 4)), "b": rng.standard_normal(4)}
    ref = {k: v.copy() for k, v in x.items()}
    kept = x["w"]  # updated in place: a caller's reference sees every step
    opt = Adam.like(x)
    m = {k: np.zeros_like(v) for k, v in x.items()}
    v2 = {k: np.zeros_like(v) for k, v in x.items()}
    for t in range(1, 6):
        g = {k: rng.standard_normal(v.shape) for k, v in x.items()}
        opt.update(x, g, 0.01)
        for k in ref:
            m[k] = 0.9 * m[k] + 0.1 * g[k]
            v2[k] = 0.999 * v2[k] + 0.001 * g[k] ** 2
            ref[k] = ref[k] - 0.01 * (m[k] / (1 - 0.9**t)) / (np.sqrt(v2[k] / (1 - 0.999**t)) + 1e-8)
    for k in ref:
        np.testing.assert_allclose(x[k], ref[k], rtol=1e-12, atol=1e-15)
    assert kept is x["w"] and opt.t == 5


def test_a_parameter_without_a_gradient_is_left_alone():
    x = {"a": np.ones(2), "frozen": np.ones(2)}
    Adam.like(x).update(x, {"a": np.ones(2)}, 0.1)
    assert np.all(x["frozen"] == 1) and np.all(x["a"] < 1)
