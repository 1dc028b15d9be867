"""``--dask ADDRESS``: evaluate the shards on a dask.distributed cluster, one task per shard.

Each task is :func:`~crossentropy.cli._evaluate.evaluate_unit`, the very function a local run
calls, and returns the shard's :class:`~crossentropy.cli._accumulate.Accumulator`; the client
merges them in shard order, so a cluster gives the local run's numbers bit for bit. A worker that
dies mid-task is replaced by Dask, which reruns the task elsewhere; the result does not change.

The workers read the files themselves: the paths, sent as absolute paths, must be valid on every
worker (a shared file system), and the workers need ``crossentropy`` installed. A file that a
worker cannot read is an error that says so ("on the worker ...").
"""

from __future__ import annotations

import dataclasses
import os
import socket
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from ._accumulate import Accumulator
from ._errors import CLIError, missing_extra
from ._evaluate import Options, Unit, evaluate_unit

__all__ = ["compare_on_dask", "evaluate_on_dask"]


def evaluate_on_dask(
    address: str,
    units: list[Unit],
    opts: Options,
    progress: Callable[[int], None] | None = None,
    timeout: float = 30.0,
) -> list[Accumulator]:
    """One accumulator per unit, computed on the cluster at ``address``, in unit order."""
    tasks = [(_on_worker(evaluate_unit), (_absolute(u), opts), u.name) for u in units]
    out = _run(address, "eval", tasks, timeout, progress, lambda acc: acc.n_rows)
    return out


def compare_on_dask(
    address: str,
    units_a: list[Unit],
    units_b: list[Unit],
    opts: Options,
    progress: Callable[[int], None] | None = None,
    timeout: float = 30.0,
) -> list[Any]:
    """``compare_units`` of each pair of shards on the cluster at ``address``, in shard order."""
    from ._compare import compare_units

    tasks = [
        (_on_worker(compare_units), (_absolute(ua), _absolute(ub), opts), ua.name)
        for ua, ub in zip(units_a, units_b, strict=True)
    ]
    return _run(address, "compare", tasks, timeout, progress, lambda r: 2 * r[0].n_rows)


def _absolute(unit: Unit) -> Unit:
    """``unit`` with absolute paths: a worker started in another folder resolves a relative
    path against its own working directory. The names shown to the user stay as given."""
    files = tuple(dataclasses.replace(spec, path=os.path.abspath(spec.path)) for spec in unit.files)
    return dataclasses.replace(unit, files=files)


class _on_worker:  # a class, not a closure: picklable by reference
    """Call ``fn`` on a worker; a file the worker cannot read is an error saying so."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn

    def __call__(self, *args: Any) -> Any:
        try:
            return self.fn(*args)
        except CLIError as err:
            if _is_unreadable(err):
                raise CLIError(f"on the worker {_worker_name()}: {err}") from None
            raise
        except OSError as err:
            where = f"{err.filename}: " if getattr(err, "filename", None) else ""
            raise CLIError(
                f"on the worker {_worker_name()}: {where}{err.strerror or err}."
            ) from None


def _is_unreadable(err: CLIError) -> bool:
    text = str(err)
    return "no such file" in text.lower() or "permission denied" in text.lower()


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return socket.gethostname()


def _run(
    address: str,
    what: str,
    tasks: Sequence[tuple[Callable[..., Any], tuple[Any, ...], str]],
    timeout: float,
    progress: Callable[[int], None] | None,
    rows_of: Callable[[Any], int],
) -> list[Any]:
    """Submit each ``(fn, args, name)`` and return the results in task order."""
    try:
        from distributed import Client, as_completed
        from distributed.scheduler import KilledWorker
    except ImportError:
        raise missing_extra("distributed", "--dask") from None
    check_address(address)
    _probe(address, timeout)
    try:
        client = Client(address, timeout=timeout, set_as_default=False)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError) as err:
        raise CLIError(
            f"--dask {address}: cannot connect to a Dask scheduler ({_one_line(err)})."
        ) from None
    results: list[Any] = [None] * len(tasks)
    done = [False] * len(tasks)
    token = uuid.uuid4().hex[:12]
    with client:
        futures = [
            client.submit(fn, *args, key=f"crossentropy-{what}-{token}-{i}", pure=False)
            for i, (fn, args, _) in enumerate(tasks)
        ]
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            for fut in as_completed(futures, loop=client.loop):  # type: ignore[no-untyped-call]
                i = index[fut.key]
                try:
                    res = fut.result()
                except KilledWorker as err:
                    raise CLIError(
                        f"--dask {address}: the workers evaluating {tasks[i][2]} kept dying "
                        f"({_one_line(err)}); check their memory limits and logs."
                    ) from None
                results[i] = res
                done[i] = True
                if progress is not None:
                    progress(rows_of(res))
        finally:
            pending = [f for f in futures if not f.done()]  # type: ignore[no-untyped-call]
            if pending:
                client.cancel(pending)  # type: ignore[no-untyped-call]
    if not all(done):  # pragma: no cover - as_completed yields every future
        raise CLIError(f"--dask {address}: some shards returned no result.")
    return results


#: The schemes of dask.distributed's communication backends.
SCHEMES = ("tcp", "tls", "ws", "wss", "ucx", "inproc")


def check_address(address: str) -> None:
    """Refuse what is not a scheduler address before any connection is tried: dask.distributed
    leaves a half-made Client behind on a bad address, whose ``__del__`` then blocks the exit for
    60 s and prints a traceback.

    >>> check_address("tcp://127.0.0.1:8786")
    >>> check_address("127.0.0.1:8786")  # tcp:// is the default
    """
    scheme, sep, loc = address.rpartition("://")
    scheme = scheme.lower() if sep else "tcp"
    if scheme in ("http", "https"):
        raise CLIError(
            f"--dask {address}: that is a web address (the dashboard's); the scheduler's "
            "address is tcp://HOST:PORT (port 8786 by default)."
        )
    if scheme not in SCHEMES:
        raise CLIError(
            f"--dask {address}: unknown scheme {scheme!r}; expected a scheduler address such "
            f"as tcp://HOST:PORT (schemes: {', '.join(SCHEMES)})."
        )
    if scheme in ("ucx", "inproc"):
        return
    host, colon, port = loc.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    ok = (
        bool(colon)
        and bool(host)
        and port.isdigit()
        and 0 < int(port) < 65536
        and not any(ch.isspace() or ch in "/?#@" for ch in host)
    )
    if not ok:
        raise CLIError(
            f"--dask {address}: not a scheduler address; expected {scheme}://HOST:PORT, e.g. "
            "tcp://127.0.0.1:8786."
        )


def _probe(address: str, timeout: float) -> None:
    """Connect and exchange dask.distributed's handshake within ``timeout`` seconds.

    dask.distributed bounds the connection, not the handshake after it: a port that accepts and
    then stays silent would hang the Client for ever.
    """
    import asyncio

    from distributed.comm.core import connect

    async def handshake() -> None:
        comm = await asyncio.wait_for(connect(address, timeout=timeout), timeout)  # type: ignore[no-untyped-call]
        await comm.close()

    try:
        asyncio.run(handshake())
    except (asyncio.TimeoutError, TimeoutError):
        raise CLIError(
            f"--dask {address}: cannot connect to a Dask scheduler (no answer within "
            f"{timeout:g} s; see --dask-timeout)."
        ) from None
    except (OSError, ValueError, TypeError) as err:
        raise CLIError(
            f"--dask {address}: cannot connect to a Dask scheduler ({_one_line(err)})."
        ) from None


def _one_line(err: Any) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__
