"""Statistics shared across packages (steering reports, training looks): small, dependency-free helpers.

The probe metrics' bootstrap intervals stay with the metrics (probes/metrics/bootstrap.py): only they use them.
"""

from __future__ import annotations

import math


def wilson_interval(rate: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval (95% for z=1.96) of a rate observed on n trials: sound near 0 and 1, unlike
    rate ± z·stderr. With no trials it is (0, 1)."""
    if n <= 0:
        return (0.0, 1.0)
    centre = (rate + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))
