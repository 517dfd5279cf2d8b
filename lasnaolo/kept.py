"""Frames kept in this server process between questions: the newest few, per key.

The database reads and computations behind a page's first question are kept here when the next
question is likely to read them again (another year of the same scope, another outcome of the
same panel). Keys start with the engine's URL and the data version, so an import anywhere makes
every process read afresh. One lock per store: Streamlit answers sessions in threads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Generic, TypeVar

Value = TypeVar("Value")


class Kept(Generic[Value]):
    """At most `size` values, the least recently used dropped first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Value] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Value | None:
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key: Hashable, value: Value) -> Value:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def get_or_compute(self, key: Hashable, compute: Callable[[], Value]) -> Value:
        """The kept value, or `compute()` kept. Two threads may both compute on a miss: the lock
        is not held while computing, so one slow question never blocks another's."""
        found = self.get(key)
        return found if found is not None else self.put(key, compute())

    def items(self) -> Iterator[tuple[Hashable, Value]]:
        with self._lock:
            return iter(list(self._items.items()))

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
