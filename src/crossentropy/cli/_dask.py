"""``--dask ADDRESS``: evaluate the shards on a dask.distributed cluster, one task per shard.

Each task is :func:`~crossentropy.cli._evaluate.evaluate_unit`, the very function a local run
calls, and returns the shard's :class:`~crossentropy.cli._accumulate.Accumulator`; the client
merges them in shard order, so a cluster gives the local run's numbers bit for bit. A worker that
dies mid-task is replaced by Dask, which reruns the task elsewhere; the result does not change.

The workers read the files themselves: the paths must be valid on every worker (a shared file
system), and the workers need ``crossentropy`` installed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from ._accumulate import Accumulator
from ._errors import CLIError, missing_extra
from ._evaluate import Options, Unit, evaluate_unit

__all__ = ["evaluate_on_dask"]


def evaluate_on_dask(
    address: str,
    units: list[Unit],
    opts: Options,
    progress: Callable[[int], None] | None = None,
    timeout: float = 30.0,
) -> list[Accumulator]:
    """One accumulator per unit, computed on the cluster at ``address``, in unit order."""
    try:
        from distributed import Client, as_completed
        from distributed.scheduler import KilledWorker
    except ImportError:
        raise missing_extra("distributed", "--dask") from None
    try:
        client = Client(address, timeout=timeout, set_as_default=False)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError) as err:
        raise CLIError(
            f"--dask {address}: cannot connect to a Dask scheduler ({_one_line(err)})."
        ) from None
    results: list[Accumulator | None] = [None] * len(units)
    token = uuid.uuid4().hex[:12]
    with client:
        futures = [
            client.submit(
                evaluate_unit, unit, opts, key=f"crossentropy-eval-{token}-{unit.index}", pure=False
            )
            for unit in units
        ]
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            for fut in as_completed(futures, loop=client.loop):  # type: ignore[no-untyped-call]
                i = index[fut.key]
                try:
                    acc = fut.result()
                except KilledWorker as err:
                    raise CLIError(
                        f"--dask {address}: the workers evaluating {units[i].name} kept dying "
                        f"({_one_line(err)}); check their memory limits and logs."
                    ) from None
                results[i] = acc
                if progress is not None:
                    progress(acc.n_rows)
        finally:
            pending = [f for f in futures if not f.done()]  # type: ignore[no-untyped-call]
            if pending:
                client.cancel(pending)  # type: ignore[no-untyped-call]
    out = [r for r in results if r is not None]
    if len(out) != len(units):  # pragma: no cover - as_completed yields every future
        raise CLIError(f"--dask {address}: some shards returned no result.")
    return out


def _one_line(err: Any) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__
