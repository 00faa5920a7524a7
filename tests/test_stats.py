"""incision.stats against textbook values."""

from __future__ import annotations

import pytest

from incision.stats import wilson_interval


def test_wilson_interval_matches_the_textbook_values():
    low, high = wilson_interval(0.0, 100)  # 0/100: (0, 3.70%)
    assert low == 0.0 and high == pytest.approx(0.0370, abs=1e-4)
    low, high = wilson_interval(0.5, 10)  # 5/10: (23.7%, 76.3%)
    assert (low, high) == (pytest.approx(0.2366, abs=1e-4), pytest.approx(0.7634, abs=1e-4))


def test_wilson_interval_without_trials_is_everything():
    assert wilson_interval(0.0, 0) == (0.0, 1.0)
