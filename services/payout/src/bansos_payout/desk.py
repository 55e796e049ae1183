"""The counter desk: collections reported at the same moment are recorded together.

Every commit to an event store takes the table lock that orders notification ids and
waits for its write-ahead log flush, so one transaction per collection caps a service at
a few hundred collections a second. The desk queues the reports of concurrent requests
and records up to ``max_batch`` of them in one transaction (group commit); each request
still gets its own answer, and a refusal of one changes nothing for the others.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future

from bansos_payout.domain.payout import Payout, PayoutRefusedError
from bansos_payout.service import Collection, PayoutNotFoundError, PayoutService

__all__ = ["CounterDesk"]

Answer = tuple[Payout, bool] | PayoutRefusedError | PayoutNotFoundError | BaseException


class CounterDesk:
    """Group commit of counter collections, for the HTTP API's worker threads."""

    def __init__(self, service: PayoutService, max_batch: int = 256) -> None:
        self.service = service
        self.max_batch = max_batch
        self._queue: queue.Queue[tuple[Collection, Future[Answer]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def collect(self, report: Collection, timeout: float = 60) -> tuple[Payout, bool]:
        """Record one collection (with whatever else is waiting); its own answer."""
        self._start()
        future: Future[Answer] = Future()
        self._queue.put((report, future))
        answer = future.result(timeout)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def close(self) -> None:
        """Stop the desk after the reports already queued."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=30)

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="counter-desk", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)  # stop after this batch
                    break
                batch.append(item)
            try:
                answers: list[Answer] = list(self.service.collect_many([r for r, _ in batch]))
            except Exception as error:  # the transaction failed: every request hears it
                answers = [error] * len(batch)
            for (_, future), answer in zip(batch, answers, strict=True):
                future.set_result(answer)
