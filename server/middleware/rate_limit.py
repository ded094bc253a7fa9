"""A sliding-window rate limit per client, in memory."""
from __future__ import annotations

import threading
import time
from collections import OrderedDict


class SlidingWindowLimiter:
    """Sliding-window counter per client (the previous minute weighted by how much of it still
    overlaps the window, plus this minute). O(1) memory per client and at most `max_clients`
    clients (least recently seen are forgotten first)."""

    def __init__(self, limit: int, window: float = 60.0, max_clients: int = 10_000) -> None:
        self.limit = limit
        self.window = window
        self.max_clients = max_clients
        self._clients: OrderedDict[str, list] = OrderedDict()  # client -> [window index, current, previous]
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._clients)

    def hit(self, client: str, now: float | None = None) -> float | None:
        """Count one request; None when allowed, else seconds until one would be allowed."""
        if self.limit <= 0:
            return None
        now = time.monotonic() if now is None else now
        idx = int(now // self.window)
        elapsed = now - idx * self.window
        with self._lock:
            entry = self._clients.get(client)
            if entry is None:
                entry = [idx, 0, 0]
                self._clients[client] = entry
                while len(self._clients) > self.max_clients:
                    self._clients.popitem(last=False)
            else:
                self._clients.move_to_end(client)
            if entry[0] != idx:
                entry[2] = entry[1] if entry[0] == idx - 1 else 0
                entry[1] = 0
                entry[0] = idx
            _, current, previous = entry
            estimate = previous * (self.window - elapsed) / self.window + current
            if estimate + 1 <= self.limit:
                entry[1] += 1
                return None
            # seconds until the estimate leaves room for one more request
            if current + 1 > self.limit:
                wait = (self.window - elapsed) + self.window * (1 - (self.limit - 1) / max(current, 1))
            else:
                wait = (self.window - elapsed) - self.window * (self.limit - 1 - current) / max(previous, 1)
            return max(1.0, wait)
