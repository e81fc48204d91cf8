"""Beta draws by inversion (sim/engine/beta_inversion.py, ``city.resident_draws = "inversion"``):
the tabulated quantile against scipy's, the sample against the distribution, one uniform per
draw, and the common-random-numbers coupling it gives the residents' initial trust."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

from sim.engine.beta_inversion import beta_by_inversion, invert_uniforms, quantile_tables
from sim.engine.residents import _beta_parameters
from sim.model import CityModel

# (a, b) of the model's means 0.6, 0.3, 0.02 and 0.001 at concentration 8, and two others
SHAPES = [(4.8, 3.2), (2.4, 5.6), (0.16, 7.84), (0.008, 7.992), (7.992, 0.008), (0.5, 0.5)]


@pytest.mark.parametrize("a,b", SHAPES)
def test_quantile_error_is_below_1e5_of_the_cdf(a: float, b: float) -> None:
    """|F(Q̃(u)) − u| < 1e-5 for 200,000 uniforms wherever the exact quantile is one float32 can
    tell from 0 and 1 (in [1e-30, 1 − 1e-9]); beyond, the draw is as close to 0 or 1 as that."""
    u = np.random.default_rng(1).random(200_000)
    x = beta_by_inversion(np.random.default_rng(1), a, b, np.empty(200_000))
    exact = special.betaincinv(a, b, u)
    visible = (exact > 1e-30) & (exact < 1 - 1e-9)
    assert np.all((x >= 0) & (x <= 1)) and visible.mean() > 0.1
    assert np.max(np.abs(stats.beta(a, b).cdf(x) - u)[visible]) < 1e-5
    assert np.all(x[exact <= 1e-30] < 1e-29) and np.all(x[exact >= 1 - 1e-9] > 1 - 1e-8)


@pytest.mark.parametrize("a,b", SHAPES[:3])
def test_sample_passes_kolmogorov_smirnov(a: float, b: float) -> None:
    """100,000 float32 draws: the KS distance to Beta(a, b) is below its 1 % critical value
    (1.628 / √n); fixed seed."""
    n = 100_000
    x = beta_by_inversion(np.random.default_rng(7), a, b, np.empty(n, np.float32))
    d = stats.kstest(x.astype(np.float64), stats.beta(a, b).cdf).statistic
    assert d < 1.628 / np.sqrt(n)
    # the mean within 4 standard errors
    mean, var = a / (a + b), a * b / ((a + b) ** 2 * (a + b + 1))
    assert abs(float(x.mean()) - mean) < 4 * np.sqrt(var / n)


def test_one_uniform_per_draw_and_the_generator_advanced() -> None:
    """Each draw is Q̃ of the next ``Generator.random()``: the generator ends where a generator
    that drew ``n`` doubles ends, and draw k depends on uniform k alone."""
    n = 10_000
    rng, twin = np.random.default_rng(3), np.random.default_rng(3)
    x = beta_by_inversion(rng, 2.0, 3.0, np.empty(n))
    u = twin.random(n)
    assert rng.random() == twin.random()
    order = np.argsort(u, kind="stable")
    assert np.all(np.diff(x[order]) >= 0)  # monotone in its own uniform
    # in the middle table: x is the linear interpolation of the table at u
    logit_q, middle = quantile_tables(2.0, 3.0)
    grid = np.linspace(1 / 1024, 1 - 1 / 1024, middle.size)
    mid = (u >= 1 / 1024) & (u <= 1 - 1 / 1024)
    np.testing.assert_allclose(x[mid], np.interp(u[mid], grid, middle), rtol=1e-12, atol=1e-15)


@settings(max_examples=25, deadline=None)
@given(low=st.floats(0.0, 1.0), high=st.floats(0.0, 1.0), seed=st.integers(0, 2**32 - 1))
def test_higher_mean_raises_every_draw(low: float, high: float, seed: int) -> None:
    """Common random numbers: with the same stream, a higher mean gives every draw a value at least
    as high (inversion is monotone in the parameter through the shared uniform)."""
    low, high = sorted((low, high))
    x_low = invert_uniforms(np.random.default_rng(seed), quantile_tables(*_beta_parameters(low)), np.empty(2_000))
    x_high = invert_uniforms(np.random.default_rng(seed), quantile_tables(*_beta_parameters(high)), np.empty(2_000))
    assert np.all(x_high >= x_low - 1e-12)
    assert np.all((x_low >= 0) & (x_high <= 1))


def test_tables_reject_non_positive_shapes() -> None:
    with pytest.raises(ValueError, match="positive"):
        quantile_tables(0.0, 1.0)


def _initial_residents(draws: str, trust_initial: float) -> tuple[np.ndarray, np.ndarray]:
    m = CityModel("town", rng=5, overrides={"city.resident_draws": draws, "world.trust_initial": trust_initial})
    r = m.state.residents
    return r.trust.copy(), r.propensity.copy()


def test_inversion_in_the_model_couples_trust_and_keeps_propensity() -> None:
    """With ``city.resident_draws = "inversion"``, raising ``world.trust_initial`` raises every
    resident's initial trust and leaves every propensity as it was; by numpy's gamma ratios the
    propensities are reshuffled (a changed trust mean changes how many uniforms its draws took)."""
    t_low, p_low = _initial_residents("inversion", 0.5)
    t_high, p_high = _initial_residents("inversion", 0.6)
    assert np.all(t_high >= t_low) and np.mean(t_high > t_low) > 0.99
    np.testing.assert_array_equal(p_low, p_high)
    n = t_low.size  # the sample means within 4 standard errors of Beta's (concentration 8)
    assert abs(float(t_high.mean()) - 0.6) < 4 * np.sqrt(0.6 * 0.4 / 9 / n)
    _, g_low = _initial_residents("gamma_ratio", 0.5)
    _, g_high = _initial_residents("gamma_ratio", 0.6)
    assert not np.array_equal(g_low, g_high)
