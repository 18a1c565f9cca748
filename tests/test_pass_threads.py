"""Passes side by side: order, bounded look-ahead, no idle thread, real concurrency, errors, torch's thread setting."""
from __future__ import annotations

import threading

import pytest
import torch

from molattr.attribution.pass_threads import QUEUED_PER_THREAD, map_in_threads, torch_threads


def test_results_come_in_order_from_threads_running_at_once():
    barrier = threading.Barrier(2, timeout=10)  # broken unless two items run at the same time

    def work(item: int) -> tuple[int, int]:
        if item < 2:
            barrier.wait()
        return item * item, torch.get_num_threads()

    results = list(map_in_threads(work, range(7), threads=2))
    assert [value for value, _ in results] == [k * k for k in range(7)]
    assert {threads for _, threads in results} == {1}  # each pass on one intra-op thread


def test_a_bounded_number_of_items_run_ahead_of_the_consumer():
    started = []
    for k, _ in enumerate(map_in_threads(lambda item: started.append(item), range(20), threads=3)):
        assert len(started) <= k + 1 + QUEUED_PER_THREAD * 3


def test_a_thread_that_finishes_early_starts_a_queued_item():
    third_started = threading.Event()

    def work(item: int) -> bool:
        if item == 2:
            third_started.set()
        # the first item waits for the third: with only two items submitted, it would wait in vain
        return third_started.wait(timeout=5) if item == 0 else True

    assert list(map_in_threads(work, range(4), threads=2)) == [True] * 4


def test_an_error_is_raised_at_its_item_and_torch_threads_are_restored():
    def work(item: int) -> int:
        if item == 3:
            raise KeyError(f"item {item}")
        return item

    with torch_threads(2):
        seen = []
        with pytest.raises(KeyError, match="item 3"):
            for value in map_in_threads(work, range(10), threads=2):
                seen.append(value)
        assert seen == [0, 1, 2]
        assert torch.get_num_threads() == 2
        assert list(map_in_threads(work, range(3), threads=2)) == [0, 1, 2]
        assert torch.get_num_threads() == 2


def test_threads_must_be_positive():
    with pytest.raises(ValueError, match="threads must be >= 1"):
        list(map_in_threads(abs, [1], threads=0))
