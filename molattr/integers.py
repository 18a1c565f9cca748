"""The one test for count-like arguments (steps, samples, indices, distances)."""
from __future__ import annotations

import numpy as np


def is_integer_at_least(value: object, minimum: int) -> bool:
    """True for a Python or NumPy integer ``>= minimum``; ``True``/``False`` are not integers here."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)) and bool(value >= minimum)
