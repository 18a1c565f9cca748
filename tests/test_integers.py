"""The shared argument tests: integers (Python or NumPy) at least a minimum, real numbers; never a bool."""
import numpy as np
import pytest
import torch

from molattr.integers import is_integer_at_least, is_real_number


@pytest.mark.parametrize("value, minimum, expected", [
    (1, 1, True), (0, 1, False), (np.int64(5), 5, True), (np.int32(4), 5, False), (0, 0, True),
    (True, 0, False), (np.bool_(True), 0, False), (1.0, 1, False), ("3", 1, False), (None, 1, False),
    (torch.tensor(2), 2, True), (torch.tensor(2), 3, False), (torch.tensor(True), 0, False), (torch.tensor(2.0), 1, False),
])
def test_is_integer_at_least(value, minimum, expected):
    assert is_integer_at_least(value, minimum) is expected


@pytest.mark.parametrize("value, expected", [
    (0.1, True), (1, True), (np.float32(0.5), True), (np.int64(2), True), (float("inf"), True), (float("nan"), True),
    (True, False), (np.bool_(False), False), ("0.1", False), (None, False), (torch.tensor(0.5), False),
])
def test_is_real_number(value, expected):
    assert is_real_number(value) is expected
