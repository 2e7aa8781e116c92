"""`pipeline.threads.in_order`: the route colours a few frames ahead on threads and writes them in order."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from gaitanon_core.pipeline.threads import in_order


def test_results_come_in_the_items_order_with_few_in_flight() -> None:
    lock, running, most = threading.Lock(), [0], [0]

    def work(item: int) -> int:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.002 * (item % 3))  # later items may finish first
        with lock:
            running[0] -= 1
        return item * item

    taken = []

    def items():
        for item in range(20):
            taken.append(item)
            yield item

    with ThreadPoolExecutor(2) as pool:
        for item, result in in_order(pool, work, items(), ahead=2):
            assert result == item * item
            assert taken[-1] <= item + 2, "no more than `ahead` items taken beyond the one handed out"
    assert taken == list(range(20)) and most[0] <= 2


def test_a_failure_is_raised_in_its_turn() -> None:
    def work(item: int) -> int:
        if item == 3:
            raise ValueError("item 3")
        return item

    seen = []
    with ThreadPoolExecutor(2) as pool, pytest.raises(ValueError, match="item 3"):
        for item, _ in in_order(pool, work, range(10), ahead=2):
            seen.append(item)
    assert seen == [0, 1, 2]
