"""Independent CPU passes side by side: one pass per thread, each pass on one core.

torch splits each operation of a pass over its intra-op threads, which pays little on the
pass sizes that suit CPU caches (about 1.3x from two cores). Running whole passes in separate
threads, each with one intra-op thread, keeps every core busy with its own pass (torch releases
the GIL inside its operations): about 2x from two cores (``docs/benchmarks.md``).
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from itertools import islice
from typing import TypeVar

import torch

T = TypeVar("T")
R = TypeVar("R")

#: Items submitted per thread: a thread that finishes its item starts a queued one at once instead
#: of idling until the oldest item, the one consumed next, is done (7-11% faster on two cores).
QUEUED_PER_THREAD = 2


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run torch operations of this process on ``count`` intra-op threads, then restore the setting."""
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def map_in_threads(function: Callable[[T], R], items: Iterable[T], threads: int) -> Iterator[R]:
    """``map(function, items)`` in order, ``threads`` items computed at once.

    At most ``QUEUED_PER_THREAD * threads`` items are submitted ahead of the one being consumed:
    ``threads`` passes hold their working memory at a time, and the finished ones wait with their
    results (a pass's inputs and gradients). An exception in ``function`` is raised here, at its
    item; the items not yet started are dropped.
    """
    if threads < 1:
        raise ValueError(f"threads must be >= 1 (got {threads})")
    remaining = iter(items)
    with torch_threads(1):
        # each worker sets its own OpenMP thread count: a new thread does not inherit the caller's
        pool = ThreadPoolExecutor(threads, initializer=torch.set_num_threads, initargs=(1,))
        pending: deque[Future[R]] = deque(
            pool.submit(function, item) for item in islice(remaining, QUEUED_PER_THREAD * threads)
        )
        try:
            while pending:
                result = pending.popleft().result()
                pending.extend(pool.submit(function, item) for item in islice(remaining, 1))
                yield result
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
