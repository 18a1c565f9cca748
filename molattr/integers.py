"""The one test for count-like arguments (steps, samples, indices, distances), and for real-valued ones."""
from __future__ import annotations

import numbers
import operator

import numpy as np


def is_integer_at_least(value: object, minimum: int) -> bool:
    """True for an integer ``>= minimum``: a Python or NumPy integer, or a one-element integer
    tensor (``logits.argmax()``); booleans (Python, NumPy or torch) are not integers here."""
    if isinstance(value, (bool, np.bool_)) or str(getattr(value, "dtype", "")) == "torch.bool":
        return False
    try:
        return operator.index(value) >= minimum
    except TypeError:
        return False


def is_real_number(value: object) -> bool:
    """True for a real number (Python, NumPy), NaN and infinities included; not for a bool or a string."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)  # NumPy numbers are Real, np.bool_ is not
