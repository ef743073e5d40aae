"""Records written by a pool of threads, in input order where order matters, and STATE held
back until everything before it is done.

Each record's write is a task with ordering keys (its source key, the contact it may touch; see
sinks.py). A task starts once every earlier task sharing a key with it has finished, so two
records for one contact are applied in input order while unrelated records overlap.

Every task gets a sequence number in input order. A STATE is passed on when every task before it
has finished (written, or dead-lettered): a watermark, not a drain, so a tap emitting STATE
after every record still gets concurrent writes. A task that fails (the run cannot go on) never
finishes, so no STATE after it is ever passed on; tasks not yet started are then skipped, and
the failure is raised on the reading thread once the running ones have ended.

With one worker each task runs on the reading thread as it is submitted: exactly the target's
sequential behaviour.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

# Tasks submitted and not finished, per worker, before the reader waits: enough to keep every
# worker busy behind a chain of same-key records, small enough that a failure strands little.
READ_AHEAD_PER_WORKER = 4


@dataclass(eq=False)
class _Task:
    seq: int
    keys: frozenset[Hashable]
    work: Callable[[], None]
    waiting: int = 0  # earlier tasks sharing a key that have not finished
    followers: list[_Task] = field(default_factory=list)


class WriteQueue:
    def __init__(self, workers: int, *, thread_name: str = "write") -> None:
        self.workers = max(1, workers)
        self._read_ahead = self.workers * READ_AHEAD_PER_WORKER
        self._pool = (
            ThreadPoolExecutor(self.workers, thread_name_prefix=thread_name)
            if self.workers > 1
            else None
        )
        self._changed = threading.Condition()
        self._seq = itertools.count()
        self._submitted = 0
        self._unfinished: set[int] = set()
        self._last: dict[Hashable, _Task] = {}  # the latest unfinished task per key
        self._states: deque[tuple[int, Callable[[], None]]] = deque()
        self._running = 0
        self._failure: BaseException | None = None
        self._stopped = False

    def submit(self, keys: Iterable[Hashable], work: Callable[[], None]) -> None:
        """Queue `work` after the unfinished tasks sharing one of `keys`; blocks while the
        read-ahead is full. Raises the failure of an earlier task, if any."""
        with self._changed:
            while len(self._unfinished) >= self._read_ahead and self._failure is None:
                self._changed.wait()
            self._raise_failure()
            task = _Task(next(self._seq), frozenset(keys), work)
            self._submitted += 1
            self._unfinished.add(task.seq)
            for before in {self._last[key] for key in task.keys if key in self._last}:
                before.followers.append(task)
                task.waiting += 1
            for key in task.keys:
                self._last[key] = task
        if not task.waiting:
            self._start(task)
        with self._changed:
            self._raise_failure()  # at once when the task ran inline

    def after_pending(self, emit: Callable[[], None]) -> None:
        """Call `emit` (pass a STATE on) once every task submitted so far has finished: now if
        they have, else from the thread finishing the last of them. Calls keep their order."""
        with self._changed:
            self._raise_failure()
            if self._unfinished:
                self._states.append((self._submitted, emit))
            else:
                emit()

    def drain(self) -> None:
        """Wait for every task to finish; raise the failure of any."""
        with self._changed:
            while self._unfinished and self._failure is None:
                self._changed.wait()
            self._raise_failure()

    def stop(self) -> None:
        """Start no further task. Takes no lock, so a signal handler may call it."""
        self._stopped = True

    def settle(self, timeout: float) -> None:
        """After stop(): let the tasks running on worker threads end, for up to `timeout` s.

        Polls instead of taking the lock, so a signal handler may call it. With one writer
        the task runs on the calling thread, interrupted by that handler: nothing to wait for.
        """
        deadline = time.monotonic() + timeout
        while self._pool is not None and self._running and time.monotonic() < deadline:
            time.sleep(0.01)

    def close(self) -> None:
        """End the worker threads once their running tasks have ended."""
        self.stop()
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def _start(self, task: _Task) -> None:
        if self._pool is None:
            self._run(task)
        else:
            self._pool.submit(self._run, task)

    def _run(self, task: _Task) -> None:
        with self._changed:
            if self._stopped or self._failure is not None:
                return  # left unfinished: nothing after it is passed on
            self._running += 1
        try:
            task.work()
            for follower in self._finish(task):
                self._start(follower)
        except BaseException as exc:  # raised on the reading thread instead
            with self._changed:
                self._failure = self._failure or exc
        finally:
            # only now: the reading thread may shut the pool down once nothing runs
            with self._changed:
                self._running -= 1
                self._changed.notify_all()

    def _finish(self, task: _Task) -> list[_Task]:
        """Mark `task` done, pass on the STATEs it held back; return the followers now free."""
        with self._changed:
            self._unfinished.discard(task.seq)
            for key in task.keys:
                if self._last.get(key) is task:
                    del self._last[key]
            ready = []
            for follower in task.followers:
                follower.waiting -= 1
                if not follower.waiting:
                    ready.append(follower)
            oldest = min(self._unfinished, default=self._submitted)
            while self._states and self._states[0][0] <= oldest:
                self._states.popleft()[1]()
            self._changed.notify_all()
            return ready

    def _raise_failure(self) -> None:
        """With the lock held: once the running tasks have ended, raise the first failure."""
        if self._failure is None:
            return
        while self._running:
            self._changed.wait()
        raise self._failure
