"""Work on a few items at once, results in order: the colouring of the next frames runs while the route
writes this one (OpenCV and numpy let go of the interpreter lock while they work, so two threads use both
cores of a small machine)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future
from typing import TypeVar

__all__ = ["in_order"]

Item = TypeVar("Item")
Result = TypeVar("Result")


def in_order(pool: Executor, work: Callable[[Item], Result], items: Iterable[Item], ahead: int
             ) -> Iterator[tuple[Item, Result]]:
    """(item, work(item)) for each of `items`, in their order; `pool` works on up to `ahead` + 1 items while the
    caller handles the earliest. A failure in `work` is raised here, with that item's turn."""
    pending: deque[tuple[Item, Future[Result]]] = deque()
    for item in items:
        pending.append((item, pool.submit(work, item)))
        if len(pending) > ahead:
            done, future = pending.popleft()
            yield done, future.result()
    while pending:
        done, future = pending.popleft()
        yield done, future.result()
