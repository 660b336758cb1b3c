"""Run picklable tasks on a Dask cluster, or in this process (see the package docstring)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from dvx.config import Config
from dvx.errors import ClusterError, ConfigError

T = TypeVar("T")
R = TypeVar("R")

SCHEDULER_ENV = "DVX_SCHEDULER"
_ADDRESS = re.compile(r"(?:(?:tcp|tls|inproc|ucx|ws|wss)://)?[A-Za-z0-9._\-\[\]:]{1,253}:[0-9]{1,5}")


def scheduler_address(option: str | None, cfg: Config | None) -> str | None:
    """The scheduler to use: ``option`` (``--scheduler``), else ``$DVX_SCHEDULER``, else
    ``[compute] scheduler``; None (run here) when none is set or the value is ``"local"``.
    ConfigError for a value that is not ``host:port`` (with an optional ``tcp://``)."""
    where = "--scheduler"
    value = option
    if value is None and os.environ.get(SCHEDULER_ENV):
        value, where = os.environ[SCHEDULER_ENV], f"environment variable {SCHEDULER_ENV}"
    if value is None and cfg is not None:
        got = cfg.get("compute", "scheduler")
        if got is not None:
            value, where = got, f"{cfg.where('compute', 'scheduler')}: [compute] scheduler"
    if value is None or value.strip() in ("", "local"):
        return None
    value = value.strip()
    if not _ADDRESS.fullmatch(value):
        raise ConfigError(f"{where}: {value!r:.80} is not a scheduler address such as tcp://127.0.0.1:8786",
                          "give the address the Dask scheduler listens on (it prints it at start), or \"local\"")
    return value if "://" in value else f"tcp://{value}"


def run_tasks(fn: Callable[[T], R], items: Sequence[T], keys: Sequence[str], scheduler: str | None, *,
              what: str = "dvx") -> list[R]:
    """``[fn(x) for x in items]``, on the cluster at ``scheduler`` (None: in this process, in order).

    ``keys`` name each task by its content (a data id and a partition number):
    Dask keeps one result per key, so a task re-run after a lost worker counts
    once. A task that fails raises its own error here (a DvxError keeps its
    message and hint); a scheduler that cannot be reached, or is lost mid-job, is a ClusterError."""
    if len(keys) != len(items) or len(set(keys)) != len(keys):
        raise ValueError("run_tasks: one distinct key per item")
    if scheduler is None:
        return [fn(x) for x in items]
    client = _client(scheduler)
    lost = False
    try:
        futures = client.map(fn, list(items), key=list(keys), pure=False)
        return list(client.gather(futures))
    except Exception as e:
        if not _scheduler_lost(client, e):
            raise  # a task's own error, as the worker raised it
        lost = True
        raise ClusterError(f"{what}: lost the Dask scheduler at {scheduler} mid-job",
                           f"start a Dask scheduler and workers at {scheduler} again (or give another "
                           "--scheduler), then run the command again") from e
    finally:
        _close(client, quiet=lost)


def _scheduler_lost(client: Any, error: Exception) -> bool:
    """Whether ``error`` (from ``client.gather``) means the connection to the scheduler is gone.

    distributed cancels every future of a client that loses its scheduler
    (``FutureCancelledError``, reason ``scheduler-connection-lost``) and then
    tries to reconnect; a closed comm or a client no longer running is the
    same loss. An ``OSError`` a task raised on a worker is not (the client is
    still running)."""
    from concurrent.futures import CancelledError

    from distributed.comm.core import CommClosedError

    return isinstance(error, (CancelledError, CommClosedError)) or client.status != "running"


def _close(client: Any, *, quiet: bool) -> None:
    """Close ``client``; after a lost scheduler, without distributed's logs of its cancelled reconnection
    (a traceback on stderr under the one line the CLI prints)."""
    import logging

    if not quiet:
        client.close()
        return
    # distributed's loggers have levels and handlers of their own ("distributed.client" among them)
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)
               if name == "distributed" or name.startswith("distributed.")]
    levels = [log.level for log in loggers]
    for log in loggers:
        log.setLevel(logging.CRITICAL + 1)
    try:
        client.close()
    except Exception:  # noqa: BLE001, S110 - the scheduler is gone: nothing is left to release
        pass
    finally:
        for log, level in zip(loggers, levels, strict=True):
            log.setLevel(level)


def _refused(scheduler: str) -> OSError | None:
    """The error of a TCP connection to ``scheduler`` refused outright (nothing listens there), else None.

    distributed retries a refused connection until its timeout; an address where
    nothing listens fails here at once instead."""
    import socket

    m = re.fullmatch(r"tcp://(\[[^\]]+\]|[^:]+):([0-9]+)", scheduler)
    if m is None:
        return None
    try:
        socket.create_connection((m.group(1).strip("[]"), int(m.group(2))), timeout=5).close()
    except ConnectionRefusedError as e:
        return e
    except OSError:
        return None  # a slow or filtered network: let distributed try, with its timeout
    return None


def _client(scheduler: str) -> Any:
    os.environ.setdefault("DASK_DISTRIBUTED__DIAGNOSTICS__NVML", "False")
    refused = _refused(scheduler)
    if refused is not None:
        raise ClusterError(f"cannot reach the Dask scheduler at {scheduler}: {refused.strerror or refused}",
                           "check that a Dask scheduler listens there, or fix --scheduler, DVX_SCHEDULER or [compute] scheduler")
    try:
        from distributed import Client
    except ImportError:
        raise ClusterError("the Dask scheduler option needs the `distributed` package",
                           "pip install 'dvx-data[dask]'") from None
    try:
        return Client(scheduler, timeout="10s", set_as_default=False)
    except (OSError, TimeoutError) as e:
        raise ClusterError(f"cannot reach the Dask scheduler at {scheduler}: {e}",
                           "check that a Dask scheduler listens there, or fix --scheduler, DVX_SCHEDULER or [compute] scheduler") from None
