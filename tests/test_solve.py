"""The one bisection and the one golden-section search (tokenplan._solve), on functions solved by hand."""

from __future__ import annotations

import math

import pytest

from tokenplan._solve import bisect, golden_section


def test_bisect_cube_root():
    assert bisect(lambda x: x**3, 2.0, 0.0, 2.0) == pytest.approx(2.0 ** (1 / 3), abs=1e-12)


def test_bisect_step_function_finds_the_edge():
    assert bisect(lambda x: float(x >= 0.3), 1.0, 0.0, 1.0) == pytest.approx(0.3, abs=1e-12)


def test_golden_section_parabola_and_log_cost():
    assert golden_section(lambda x: (x - 1.25) ** 2, -3.0, 7.0) == pytest.approx(1.25, abs=1e-8)
    # 6 N D + 2 N T with D = k / N^2 (a toy loss constraint): optimum N = (6 k / (2 T))^(1/2)
    k, t = 1e20, 1e12
    x = golden_section(lambda ln: 6 * k / math.exp(ln) + 2 * math.exp(ln) * t, 0.0, 40.0)
    assert math.exp(x) == pytest.approx(math.sqrt(6 * k / (2 * t)), rel=1e-6)
