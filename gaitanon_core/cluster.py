"""A batch on a Ray cluster: one Ray task per clip, each running `batch.run_clip`, the engine's own clip function.

Ray is an optional extra (`pip install 'gaitanon[cluster]'`), imported only here
and only when `--cluster` asks for it. Every worker must reach the input and the
output folders at the same paths (a shared folder) and have gaitanon with the
same models installed: each task checks the worker's model files against the
sha256s the batch started with before it touches a clip.

Privacy of the cluster itself (docs/THREAT_MODEL.md): Ray's usage statistics
are off; a local cluster listens on 127.0.0.1 only, without a dashboard, and
keeps its session folder (logs, sockets, spilled objects) in a private
temporary folder removed at the end. Tasks take paths and send back the clip's
report, so no frame and no latent passes through Ray's object store; workers
print nothing per frame.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import tempfile
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

from .batch import ClipOutcome, ClipRunner, Todo, check_models, run_clip
from .errors import GaitanonError, UsageError
from .pipeline import AnonymizeOptions

__all__ = ["LOCAL", "check_address", "connected", "ray_runner"]

LOCAL = "local"
INSTALL_HINT = "--cluster needs Ray: pip install 'gaitanon[cluster]' (in a checkout: pip install -e '.[cluster]')"
TASK_CPUS = 1  # one clip keeps about one core busy (user+sys / wall 0.7-0.9 on ../shared/data/clips, 2 cores)
TASK_RETRIES = 1  # a worker lost with its node is retried once; a clip that crashes its worker is not retried for ever
CANCEL_GRACE_S = 30.0  # how long cancelled clips get to remove their temporary files before they are killed
# Ray puts Unix sockets 80-odd characters deep in its session folder and a socket path has at most 107 bytes:
# a longer temporary folder than this falls back to /tmp (the session folder is private, mode 0700, either way).
SOCKET_BASE_MAX = 24
_ADDRESS = re.compile(r"ray://[^\s/:]+:\d{1,5}")
# Read by Ray when it is imported or starts: no usage statistics; a local node's address is the loopback one
# (Ray otherwise advertises the machine's network address); token authentication kept, without its banner.
_PRIVATE_ENV = {"RAY_USAGE_STATS_ENABLED": "0"}
_LOCAL_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "token"}


def check_address(address: str) -> str:
    if address == LOCAL or _ADDRESS.fullmatch(address):
        return address
    raise UsageError(f"--cluster takes 'local' or ray://HOST:PORT, not '{address}'")


def _import_ray(address: str) -> ModuleType:
    os.environ.update(_PRIVATE_ENV)
    if address == LOCAL:
        for name, value in _LOCAL_ENV.items():
            os.environ.setdefault(name, value)
    try:
        import ray  # noqa: PLC0415 - the optional extra, only when a cluster is asked for
    except ImportError:
        raise UsageError(INSTALL_HINT) from None
    return ray


@contextmanager
def connected(address: str) -> Iterator[ModuleType]:
    """Ray, started as a private local cluster or joined at ray://HOST:PORT; shut down (and cleaned) on leaving.

    A local cluster gets the cores this process may use (so `taskset -c 0,1` gives `ray.init(num_cpus=2)`).
    """
    ray = _import_ray(check_address(address))
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}  # ray.init replaces them
    session = _session_folder() if address == LOCAL else None
    quiet = {"log_to_driver": False, "logging_level": logging.ERROR}  # no per-frame lines from the workers
    try:
        try:
            if session is not None:
                ray.init(num_cpus=_usable_cores(), include_dashboard=False,
                         _node_ip_address="127.0.0.1", _temp_dir=str(session), **quiet)
            else:
                ray.init(address, runtime_env={"env_vars": dict(_PRIVATE_ENV)}, **quiet)
        except (OSError, TimeoutError, RuntimeError) as error:  # ConnectionError is an OSError
            raise GaitanonError(f"cannot start or reach the Ray cluster '{address}': {_first_line(error)}") from None
        finally:
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
        yield ray
    finally:
        ray.shutdown()
        if session is not None:
            shutil.rmtree(session, ignore_errors=True)


def _session_folder() -> Path:
    """A private folder for the local cluster's logs and sockets, short enough for Ray's Unix socket paths."""
    base = tempfile.gettempdir()
    return Path(tempfile.mkdtemp(prefix="gaitanon-ray-", dir=base if len(base) <= SOCKET_BASE_MAX else "/tmp"))


def _usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def clip_task(source: Path, target: Path, options: AnonymizeOptions, models: dict[str, str]) -> ClipOutcome:
    """What a Ray worker runs for one clip: its models checked against the batch's, then `run_clip`."""
    try:
        check_models(options.models_dir, models)
    except GaitanonError as error:
        return ClipOutcome(None, None, 0.0, error=error)
    return run_clip(source, target, options)


def ray_runner(ray: ModuleType, options: AnonymizeOptions, models: dict[str, str]) -> ClipRunner:
    """All clips submitted at once; outcomes yielded as they finish; closing it early cancels the rest."""
    task = ray.remote(num_cpus=TASK_CPUS, max_retries=TASK_RETRIES)(clip_task)

    def run(todo: list[Todo]) -> Generator[tuple[int, ClipOutcome | None], None, None]:
        rows = {task.remote(source, target, options, models): row for row, source, target in todo}
        pending = list(rows)
        try:
            while pending:
                ready, pending = ray.wait(pending, num_returns=1)
                yield rows[ready[0]], _outcome(ray, ready[0])
        finally:
            if pending:  # Ctrl-C, a cancel, or an error of the caller's
                _cancel(ray, pending)

    return run


def _outcome(ray: ModuleType, ref) -> ClipOutcome:
    try:
        return ray.get(ref)
    except ray.exceptions.RayError as error:  # the worker died (out of memory, a crash, its node lost)
        return ClipOutcome(None, None, 0.0, error=GaitanonError(f"the Ray worker failed: {_first_line(error)}"))


def _cancel(ray: ModuleType, pending: list) -> None:
    """A running clip gets KeyboardInterrupt, so its writer removes the temporary file; queued ones never start."""
    for ref in pending:
        ray.cancel(ref)
    _, stuck = ray.wait(pending, num_returns=len(pending), timeout=CANCEL_GRACE_S)
    for ref in stuck:
        ray.cancel(ref, force=True)
