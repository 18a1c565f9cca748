"""The one test for count-like arguments (steps, samples, indices, distances)."""
from __future__ import annotations

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
