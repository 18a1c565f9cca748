"""The shared count test: integers (Python or NumPy) at least a minimum, never a bool."""
import numpy as np
import pytest
import torch

from molattr.integers import is_integer_at_least


@pytest.mark.parametrize("value, minimum, expected", [
    (1, 1, True), (0, 1, False), (np.int64(5), 5, True), (np.int32(4), 5, False), (0, 0, True),
    (True, 0, False), (np.bool_(True), 0, False), (1.0, 1, False), ("3", 1, False), (None, 1, False),
    (torch.tensor(2), 2, True), (torch.tensor(2), 3, False), (torch.tensor(True), 0, False), (torch.tensor(2.0), 1, False),
])
def test_is_integer_at_least(value, minimum, expected):
    assert is_integer_at_least(value, minimum) is expected
