"""The command line: ``crossentropy eval`` (also ``python -m crossentropy eval``).

See docs/cli.md. ``import crossentropy`` never imports this package; this package imports
pyarrow, matplotlib and dask.distributed only when an input or option needs them.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from ._errors import printable
from ._lists import class_names, read_list

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit code.

    A user error prints one line on stderr and returns 2 (``--debug`` adds the traceback); a
    reader of stdout that went away (``| head``) returns 141 quietly; a bug returns 1.
    """
    from ._parser import build_parser

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors (argparse's exit code 2)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    from ._errors import CLIError

    debug = bool(getattr(args, "debug", False))
    try:
        return _eval(args)
    except _StdoutGone:
        return EXIT_BROKEN_PIPE
    except CLIError as err:
        return _fail(debug, str(err), 2)
    except OSError as err:
        where = f"{err.filename}: " if getattr(err, "filename", None) else ""
        return _fail(debug, f"{where}{err.strerror or err}.", 2)
    except MemoryError:
        return _fail(debug, "out of memory; try a smaller --chunk-rows.", 2)
    except KeyboardInterrupt:
        print("crossentropy: interrupted.", file=sys.stderr)
        return 130
    except Exception as err:
        message = f"internal error: {type(err).__name__}: {err}"
        if not debug:
            message += " (rerun with --debug for the traceback, and please report it)"
        return _fail(debug, message, 1, prefix="crossentropy: ")


#: The exit code when the reader of stdout went away (``| head``): 128 + SIGPIPE, what a shell
#: reports for a tool that SIGPIPE ended.
EXIT_BROKEN_PIPE = 141


class _StdoutGone(Exception):
    """Stdout is a pipe whose reader has gone: stop quietly (exit 141)."""


def _fail(debug: bool, message: str, code: int, prefix: str = "crossentropy: error: ") -> int:
    if sys.stderr is None:  # stderr closed: nothing can be said
        return code
    if debug:
        traceback.print_exc(file=sys.stderr)
    line = printable(" ".join(message.split("\n")))
    with suppress(OSError):  # stderr closed or a broken pipe: the exit code still tells
        print(f"{prefix}{line}", file=sys.stderr)
    return code


def _write_stdout(text: str) -> None:
    """Write ``text`` to stdout and flush; a reader that went away ends the run quietly."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        raise _StdoutGone from None
    except OSError as err:
        from ._errors import CLIError

        raise CLIError(f"cannot write the results to stdout ({err.strerror or err}).") from None


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's last flush at exit does not fail
    again and print a traceback (the recipe of the signal module's documentation)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout without a file descriptor (tests)
        pass


def _check_args(args: Any) -> str | None:
    """The checks of the options shared by eval and compare; the --report kind."""
    from ._errors import CLIError

    if sys.stdout is None:  # started with stdout closed (`>&-`)
        raise CLIError(
            "stdout is closed, so the results cannot be written; redirect it to a file or "
            "to /dev/null."
        )
    if args.top_k < 1:
        raise CLIError(f"--top-k must be at least 1; got {args.top_k}.")
    if args.worst < 0:
        raise CLIError(f"--worst must be 0 or more; got {args.worst}.")
    if args.chunk_rows < 0:
        raise CLIError(f"--chunk-rows must be positive; got {args.chunk_rows}.")
    if not 0.0 <= args.label_smoothing <= 1.0:
        raise CLIError(f"--label-smoothing must be in [0, 1]; got {args.label_smoothing!r}.")
    if not 0 <= args.bootstrap <= 100_000:
        raise CLIError(f"--bootstrap must be in [0, 100000]; got {args.bootstrap}.")
    if not 0 <= args.seed < 2**64:
        raise CLIError(f"--seed must be in [0, 2**64); got {args.seed}.")
    if not 0.0 < args.confidence < 1.0:
        raise CLIError(f"--confidence must be in (0, 1); got {args.confidence!r}.")
    report_kind = None
    if args.report:
        from ._report import check_report_path

        report_kind = check_report_path(args.report)
    if not (math.isfinite(args.dask_timeout) and args.dask_timeout > 0):
        raise CLIError(f"--dask-timeout must be a positive number; got {args.dask_timeout!r}.")
    if args.ignore_index is not None and not -(2**63) <= args.ignore_index < 2**63:
        raise CLIError(f"--ignore-index must fit in 64 bits; got {args.ignore_index}.")
    if args.dask:
        from ._dask import check_address

        check_address(args.dask)
        try:
            import distributed  # noqa: F401
        except ImportError:
            from ._errors import missing_extra

            raise missing_extra("distributed", "--dask") from None
    return report_kind


def _options(args: Any, plan: Any) -> tuple[Any, str]:
    """The evaluation's options (the detected loss and its checks) and why that loss."""
    from ._errors import CLIError
    from ._evaluate import Options
    from ._plan import detect_loss

    from_logits = bool(args.from_logits or plan.example)
    focal = args.loss == "focal"
    forced = None if args.loss in ("auto", "focal") else args.loss
    kind, width, why = detect_loss(plan, forced, from_logits, chunk_rows=args.chunk_rows)
    if args.ignore_index is not None and kind != "sparse":
        raise CLIError(
            f"--ignore-index applies to integer class ids (the sparse loss); the loss here is "
            f"{kind} ({why})."
        )
    class_weight = None
    if args.class_weight is not None:
        if kind not in ("categorical", "sparse"):
            raise CLIError(
                f"--class-weight applies to the categorical and sparse losses; the loss here is "
                f"{kind}."
            )
        class_weight = _class_weight(args.class_weight, width)
    if not focal and (args.gamma is not None or args.alpha is not None):
        raise CLIError("--gamma and --alpha apply to --loss focal.")
    gamma = 2.0 if args.gamma is None else float(args.gamma)
    alpha = None
    if focal:
        if not (math.isfinite(gamma) and gamma >= 0):
            raise CLIError(f"--gamma must be a finite number >= 0; got {args.gamma!r}.")
        if class_weight is not None or args.ignore_index is not None:
            raise CLIError(
                "--loss focal takes no --class-weight or --ignore-index (the library's focal "
                "losses have no such arguments); use --alpha to weight the classes."
            )
        if args.alpha is not None:
            allowed = (1,) if kind in ("binary", "multilabel") else (1, width)
            alpha = _numbers(args.alpha, "--alpha", allowed, width)
    pos_weight = None
    if args.pos_weight is not None:
        if kind not in ("binary", "multilabel"):
            raise CLIError(
                f"--pos-weight applies to the binary and multilabel losses; the loss here is "
                f"{kind}."
            )
        if focal:
            raise CLIError(
                "--pos-weight cannot be combined with --loss focal: the library's "
                "binary_focal_crossentropy has no pos_weight (use --alpha)."
            )
        pos_weight = _numbers(args.pos_weight, "--pos-weight", (1, width), width)
    opts = Options(
        loss=kind,
        n_classes=width,
        from_logits=from_logits,
        label_smoothing=float(args.label_smoothing),
        ignore_index=args.ignore_index,
        class_weight=class_weight,
        top_k=args.top_k,
        worst_k=args.worst,
        chunk_rows=args.chunk_rows,
        pos_weight=pos_weight,
        focal=focal,
        gamma=gamma,
        alpha=alpha,
        bootstrap=args.bootstrap,
        seed=args.seed,
        confidence=args.confidence,
    )
    if args.class_names is not None:
        plan.class_names = class_names(args.class_names)
    if plan.class_names is not None and len(plan.class_names) != opts.classes_out:
        raise CLIError(
            f"--class-names: {len(plan.class_names)} names, but there are {opts.classes_out} "
            "classes."
        )
    return opts, why


def _eval(args: Any) -> int:
    from ._errors import CLIError
    from ._evaluate import evaluate_unit
    from ._output import build_result, to_json
    from ._plan import make_plan

    if args.command == "compare":
        return _run_compare(args)
    report_kind = _check_args(args)
    plan = make_plan(args)
    opts, why = _options(args, plan)

    with _progress(args, plan.total_rows) as advance:
        if args.dask:
            from ._dask import evaluate_on_dask

            accs: Iterable[Any] = evaluate_on_dask(
                args.dask, plan.units, opts, progress=advance, timeout=args.dask_timeout
            )
        else:  # one shard at a time
            accs = (evaluate_unit(u, opts, progress=advance) for u in plan.units)
        acc = merge_all(accs, opts)
    if acc.n_rows == 0:
        raise CLIError(f"{plan.preds}: no rows to evaluate.")
    result = build_result(acc, opts, plan, why)
    _finish(args, result, report_kind, to_json, _print_summary)
    return 0


def _run_compare(args: argparse.Namespace) -> int:
    from ._compare import PairAccumulator, build_comparison, compare_units, print_comparison
    from ._errors import CLIError
    from ._output import build_result, to_json
    from ._plan import detect_loss, make_plan

    args.example = False
    report_kind = _check_args(args)
    plan_a = make_plan(args)
    args_b = argparse.Namespace(**vars(args))
    args_b.predictions = args.predictions_b
    plan_b = make_plan(args_b)
    if len(plan_a.units) != len(plan_b.units):
        raise CLIError(
            f"{args.predictions_b}: {len(plan_b.units)} file(s), but A ({args.predictions}) is "
            f"{len(plan_a.units)}; shards are paired in sorted order, so the counts must match."
        )
    opts, why = _options(args, plan_a)
    _, width_b, _ = detect_loss(plan_b, opts.loss, opts.from_logits, chunk_rows=args.chunk_rows)
    if width_b != opts.n_classes:
        raise CLIError(
            f"{args.predictions_b}: {width_b} prediction columns, but A ({args.predictions}) has "
            f"{opts.n_classes}; A and B must predict the same classes."
        )
    plan_b.class_names = plan_a.class_names
    total = None if plan_a.total_rows is None else 2 * plan_a.total_rows
    with _progress(args, total) as advance:
        if args.dask:
            from ._dask import compare_on_dask

            parts = compare_on_dask(
                args.dask,
                plan_a.units,
                plan_b.units,
                opts,
                progress=advance,
                timeout=args.dask_timeout,
            )
        else:
            parts = [
                compare_units(ua, ub, opts, progress=advance)
                for ua, ub in zip(plan_a.units, plan_b.units, strict=True)
            ]
    acc_a = merge_all([p[0] for p in parts], opts)
    acc_b = merge_all([p[1] for p in parts], opts)
    pair = PairAccumulator(opts.worst_k)
    for p in parts:
        pair.merge(p[2])
    if acc_a.n_rows == 0:
        raise CLIError(f"{plan_a.preds}: no rows to evaluate.")
    res_a = build_result(acc_a, opts, plan_a, why)
    res_b = build_result(acc_b, opts, plan_b, why)
    result = build_comparison(res_a, res_b, acc_a, acc_b, pair, opts)
    from ._report import render_comparison

    _finish(
        args,
        result,
        report_kind,
        to_json,
        lambda r: _print_summary(r, print_comparison),
        render_comparison,
    )
    return 0


def _finish(
    args: Any,
    result: dict[str, Any],
    report_kind: str | None,
    to_json: Any,
    summary: Any,
    render: Any = None,
) -> None:
    """Write the report (if asked), then the JSON or the summary; a report that cannot be
    written is an error after the numbers are out."""
    from ._errors import CLIError

    report_error = None
    if args.report:
        from ._report import render_report, write_atomic

        assert report_kind is not None
        try:
            write_atomic(args.report, (render or render_report)(result, report_kind))
        except CLIError as err:  # the numbers are still worth printing
            report_error = err
    if args.json:
        _write_stdout(to_json(result) + "\n")
    else:
        summary(result)
        if args.report and report_error is None:
            _write_stdout(f"report written to {printable(args.report)}\n")
    if report_error is not None:
        raise report_error


def merge_all(accs: Iterable[Any], opts: Any) -> Any:
    """The shards' accumulators merged in shard order (they must come from one version); an
    iterator is consumed one shard at a time, so a local run holds one shard's sums at once."""
    from ._errors import CLIError
    from ._evaluate import new_accumulator

    acc = new_accumulator(opts)
    acc.version = ""
    for a in accs:
        if not acc.version:
            acc.version = a.version
        if a.version != acc.version:
            raise CLIError(
                f"the shards were evaluated by different crossentropy versions ({acc.version}, "
                f"{a.version}); install one version on the client and every worker."
            )
        acc.merge(a)
    return acc


def _print_summary(result: dict[str, Any], printer: Any = None) -> None:
    from rich.console import Console

    from ._output import print_summary

    printer = printer or print_summary

    class _Console(Console):
        def on_broken_pipe(self) -> None:  # rich's default: exit with code 1
            self.quiet = True
            raise BrokenPipeError

    # markup off: file and class names are shown as they are, brackets included (their
    # control characters escaped by print_summary)
    try:
        printer(result, _Console(file=sys.stdout, highlight=False, markup=False))
    except BrokenPipeError:
        _silence_stdout()
        raise _StdoutGone from None
    _write_stdout("")


def _class_weight(value: str, n_classes: int) -> tuple[float, ...]:
    import math

    from ._errors import CLIError

    items = read_list(value, "--class-weight")
    try:
        weights = tuple(float(x) for x in items)
    except ValueError:
        raise CLIError(f"--class-weight: expected numbers; got {value!r}.") from None
    if len(weights) != n_classes:
        raise CLIError(
            f"--class-weight: {len(weights)} weights, but the predictions have {n_classes} classes."
        )
    for i, w in enumerate(weights):
        if not (math.isfinite(w) and w >= 0):
            raise CLIError(f"--class-weight: weight {i} is {w!r}; weights must be finite and >= 0.")
    return weights


def _numbers(value: str, flag: str, counts: tuple[int, ...], width: int) -> tuple[float, ...]:
    """Finite numbers >= 0 (comma-separated or a file), as many as one of ``counts``."""
    from ._errors import CLIError

    items = read_list(value, flag)
    try:
        out = tuple(float(x) for x in items)
    except ValueError:
        raise CLIError(f"{flag}: expected numbers; got {value!r}.") from None
    if len(out) not in counts:
        want = " or ".join(str(c) for c in sorted(set(counts)))
        raise CLIError(f"{flag}: {len(out)} values, but {want} are expected ({width} columns).")
    for i, v in enumerate(out):
        if not (math.isfinite(v) and v >= 0):
            raise CLIError(f"{flag}: value {i} is {v!r}; values must be finite and >= 0.")
    return out


@contextmanager
def _progress(args: Any, total: int | None) -> Iterator[Callable[[int], None] | None]:
    """A rich progress bar on stderr when it is a terminal (or --progress), else nothing."""
    want = args.progress if args.progress is not None else sys.stderr.isatty()
    if not want:
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(file=sys.stderr, force_terminal=bool(args.progress) or None)
    with Progress(
        TextColumn("evaluating"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("rows", total=total)

        def advance(rows: int) -> None:
            bar.advance(task, rows)

        yield advance
