"""Background workers: run engine calls off the GUI thread, report progress, honour cancel.

In the style of superqt's `thread_worker`: a `QRunnable` in the global thread pool
with a separate `QObject` carrying the signals (QRunnable is not a QObject). A job
is either a generator function, whose yielded values are emitted as progress and
between whose yields a cancel request is honoured, or a plain function that
receives the worker's `JobControl` and hands its `progress`/`cancelled` callables
to a `gaitanon_core` call (which raises `Cancelled` itself).

Connect the signals to methods of objects living in the GUI thread (a lambda slot
would run in the worker thread). `LatestOnly` hands a fast stream of values (the
frames a render finishes) to the GUI thread without queueing them all.
"""

from __future__ import annotations

import inspect
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from gaitanon_core.errors import Cancelled

log = logging.getLogger(__name__)

# The window's jobs (models loading, preview proxy, people search, render or export) run side by side: on a
# two-core machine Qt's default pool of two threads would queue the render behind the search.
MIN_POOL_THREADS = 4


class WorkerSignals(QObject):
    started = Signal()
    progress = Signal(object)   # whatever the job reports (a pipeline Progress, a batch row, ...)
    returned = Signal(object)   # the job's return value
    errored = Signal(object)    # the exception (shown as a plain-sentence dialog, never a traceback)
    aborted = Signal()          # cancelled on request; the job removed what it was writing
    finished = Signal()         # always last


class JobControl:
    """What a running job sees of its worker: report progress, ask whether to stop."""

    def __init__(self, signals: WorkerSignals) -> None:
        self._signals = signals
        self._cancel = threading.Event()

    def progress(self, value: Any) -> None:
        self._signals.progress.emit(value)

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def request_cancel(self) -> None:
        self._cancel.set()


class Worker(QRunnable):
    """Runs `job(control, *args, **kwargs)` in the global thread pool."""

    # Started workers are kept alive here until they finish (Python would otherwise
    # collect a worker whose only reference was a local variable of a slot).
    _running: set[Worker] = set()

    def __init__(self, job: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.signals = WorkerSignals()
        self.control = JobControl(self.signals)
        self._job = job
        self._args = args
        self._kwargs = kwargs
        self._done = threading.Event()

    def start(self) -> None:
        Worker._running.add(self)
        self.signals.finished.connect(self._forget)
        pool = QThreadPool.globalInstance()
        pool.setMaxThreadCount(max(pool.maxThreadCount(), MIN_POOL_THREADS))
        pool.start(self)

    def cancel(self) -> None:
        self.control.request_cancel()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the job has finished (for closing the window)."""
        return self._done.wait(timeout_s)

    def run(self) -> None:  # called by Qt in a pool thread
        self.signals.started.emit()
        try:
            result = self._execute()
        except Cancelled:
            self.signals.aborted.emit()
        except Exception as error:  # handed to the GUI thread, which shows one plain sentence
            log.error("background job %s failed: %s: %s", self._job.__name__, type(error).__name__, error)
            self.signals.errored.emit(error)
        else:
            self.signals.returned.emit(result)
        finally:
            self._done.set()
            self.signals.finished.emit()

    def _execute(self) -> Any:
        if inspect.isgeneratorfunction(self._job):
            return self._drive(self._job(self.control, *self._args, **self._kwargs))
        return self._job(self.control, *self._args, **self._kwargs)

    def _drive(self, generator: Any) -> Any:
        """Emit each yielded value; stop at the next yield once cancel was asked for."""
        while True:
            if self.control.cancelled():
                generator.close()  # runs the job's `finally` blocks, which clean up
                raise Cancelled("cancelled")
            try:
                value = next(generator)
            except StopIteration as stop:
                return stop.value
            self.signals.progress.emit(value)

    def _forget(self) -> None:
        Worker._running.discard(self)


class LatestOnly(QObject):
    """The newest of a stream of values offered by a worker thread, for the GUI thread to take.

    A render finishes frames faster than a window can draw them, and a queued
    signal per frame would pile up full-size pictures: `offer` keeps only the
    newest value and emits `ready` at most every `interval_s`, and only once the
    GUI thread has taken the value announced before, so at most one event waits.
    """

    ready = Signal()

    def __init__(self, interval_s: float) -> None:
        super().__init__()
        self._interval_s = interval_s
        self._lock = threading.Lock()
        self._value: Any = None
        self._announced = False
        self._last_announced = -math.inf

    def offer(self, value: Any) -> None:
        """Any thread: replace the waiting value; announce it when the last one was taken and it is time."""
        now = time.monotonic()
        with self._lock:
            self._value = value
            if self._announced or now - self._last_announced < self._interval_s:
                return
            self._announced, self._last_announced = True, now
        self.ready.emit()

    def take(self) -> Any:
        """GUI thread: the newest value (None if there is none) and room for the next announcement."""
        with self._lock:
            value, self._value, self._announced = self._value, None, False
        return value


def cancel_all_and_wait(timeout_s: float = 30.0) -> None:
    """Ask every running job to stop and wait for them (the window is closing)."""
    for worker in list(Worker._running):
        worker.cancel()
    QThreadPool.globalInstance().waitForDone(int(timeout_s * 1000))
