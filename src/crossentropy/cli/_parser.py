"""The argument parser of ``crossentropy`` (its help text is checked against docs/cli.md)."""

from __future__ import annotations

import argparse
from typing import Any

import crossentropy as ce

from ._evaluate import KINDS

__all__ = ["build_parser"]

EVAL_DESCRIPTION = """\
Evaluate saved predictions against labels: the cross-entropy (mean, sum,
perplexity), accuracy and top-k accuracy, expected calibration error, per-class
loss and the worst samples. The loss is detected from the shapes (one column:
binary; class ids: sparse; one-hot or soft rows: categorical; several true
labels per row: multilabel) unless --loss names it. Files of any size are
streamed in chunks; the numbers equal the library's in-memory result.
"""

EVAL_EPILOG = """\
addressing inputs:
  PATH or PATH:SELECTOR. PATH may be a glob of shards (quote it); SELECTOR is
  an .npz key, or column names or patterns separated by commas (preds.csv:p_*).
  --labels and --sample-weight also take a bare key or column name of the
  predictions file.

examples:
  crossentropy eval --example
  crossentropy eval logits.npy --labels labels.npy --from-logits
  crossentropy eval preds.csv --labels label --json
  crossentropy eval "shards/*.parquet" --labels label --from-logits \\
      --dask tcp://127.0.0.1:8786

exit status: 0 success; 2 bad input or usage (one line on stderr); 141 stdout
closed by its reader (| head); 1 a bug.
See docs/cli.md for the definitions of every number.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crossentropy",
        description="Cross-entropy losses from the command line.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run 'crossentropy eval --help' for the evaluation's options.",
    )
    parser.add_argument("--version", action="version", version=f"crossentropy {ce.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    ev = sub.add_parser(
        "eval",
        help="evaluate a predictions file against its labels",
        description=EVAL_DESCRIPTION,
        epilog=EVAL_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ev.add_argument(
        "predictions",
        nargs="?",
        metavar="PREDICTIONS",
        help="predictions file (.npy, .npz, .csv, .tsv, .csv.gz, .parquet, .jsonl, .json, "
        ".arrow/.feather), a glob of shards, or - for stdin",
    )
    ev.add_argument(
        "--example",
        action="store_true",
        help="evaluate the bundled example (logits of a 10-class classifier; implies "
        "--from-logits)",
    )
    inp = ev.add_argument_group("inputs")
    inp.add_argument(
        "--labels",
        metavar="FILE|COLUMN",
        help="labels: class ids, one-hot or soft rows, or a 0/1 indicator matrix; a file "
        "(or glob), or a key/column of the predictions file (default: y_true, labels, label, "
        "targets, target or y there)",
    )
    inp.add_argument(
        "--sample-weight",
        metavar="FILE|COLUMN",
        help="one non-negative weight per row; a file or a key/column of the predictions file",
    )
    inp.add_argument(
        "--from-logits",
        action="store_true",
        help="the predictions are logits (softmax/sigmoid applied by the loss), not probabilities",
    )
    inp.add_argument(
        "--class-names",
        metavar="NAMES|FILE",
        help="class names, comma-separated or a file with one per line",
    )
    loss = ev.add_argument_group("loss")
    loss.add_argument(
        "--loss",
        choices=("auto", *KINDS, "focal"),
        default="auto",
        help="which cross-entropy (default: auto, detected from the shapes and first rows); "
        "focal: the focal loss of the detected kind (binary_focal_crossentropy or "
        "categorical_focal_crossentropy)",
    )
    loss.add_argument(
        "--gamma",
        type=float,
        default=None,
        metavar="G",
        help="focusing parameter of --loss focal, >= 0 (default: 2)",
    )
    loss.add_argument(
        "--alpha",
        metavar="A|A0,A1,...",
        help="balancing weight of --loss focal: one value (binary, multilabel), or one or one "
        "per class (categorical, sparse)",
    )
    loss.add_argument(
        "--pos-weight",
        metavar="W|W0,W1,...|FILE",
        help="weight of the positive term (binary: one value; multilabel: one, or one per label)",
    )
    loss.add_argument(
        "--ignore-index",
        type=int,
        metavar="ID",
        help="rows with this class id are skipped (not counted in n); sparse labels only",
    )
    loss.add_argument(
        "--label-smoothing",
        type=float,
        default=0.0,
        metavar="S",
        help="mix the labels with the uniform distribution (toward 0.5 for binary), S in [0, 1]",
    )
    loss.add_argument(
        "--class-weight",
        metavar="W0,W1,...|FILE",
        help="one weight per class (categorical and sparse): comma-separated or a .npy/.json/text "
        "file",
    )
    out = ev.add_argument_group("output")
    out.add_argument(
        "--json",
        action="store_true",
        help="print the results as strict JSON (keys: loss, sum, n, accuracy, ..., signature; "
        "an infinite number is null, its pointer listed in nonfinite)",
    )
    out.add_argument(
        "--report",
        metavar="FILE.html|FILE.png",
        help="write a reliability diagram, loss histogram and per-class loss bars (matplotlib)",
    )
    out.add_argument(
        "--top-k", type=int, default=5, metavar="K", help="top-k accuracy's k (default: 5)"
    )
    out.add_argument(
        "--worst",
        type=int,
        default=5,
        metavar="N",
        help="how many of the worst samples to list (default: 5)",
    )
    out.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: only when stderr is a terminal)",
    )
    _add_interval_options(out)
    run = ev.add_argument_group("execution")
    run.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="evaluate the shards on a dask.distributed scheduler, e.g. tcp://127.0.0.1:8786",
    )
    run.add_argument(
        "--dask-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long to wait for the Dask scheduler to answer (default: 30)",
    )
    run.add_argument(
        "--chunk-rows",
        type=int,
        default=0,
        metavar="N",
        help="rows per chunk (default: about 4 MiB of predictions)",
    )
    run.add_argument("--debug", action="store_true", help="show the traceback of an error")
    _add_compare(sub, ev)
    return parser


def _add_interval_options(group: Any) -> None:
    group.add_argument(
        "--bootstrap",
        type=int,
        default=1000,
        metavar="B",
        help="bootstrap replicates of the confidence intervals (default: 1000; 0 for none)",
    )
    group.add_argument(
        "--seed", type=int, default=0, metavar="S", help="seed of the bootstrap (default: 0)"
    )
    group.add_argument(
        "--confidence",
        type=float,
        default=0.95,
        metavar="LEVEL",
        help="level of the confidence intervals (default: 0.95)",
    )


COMPARE_DESCRIPTION = """\
Compare two models' predictions on the same labels (model A minus model B):
the mean per-sample loss difference with a paired bootstrap confidence interval
and p-value, the accuracy difference with McNemar's test, per-class
differences and the rows where the two disagree most. A and B are streamed
side by side in chunks; the loss is detected as for eval.
"""

COMPARE_EPILOG = """\
examples:
  crossentropy compare a.npy b.npy --labels labels.npy --from-logits
  crossentropy compare a.csv b.csv --labels label --json
  crossentropy compare "a/*.parquet" "b/*.parquet" --labels label --from-logits \\
      --dask tcp://127.0.0.1:8786

exit status: 0 success; 2 bad input or usage (one line on stderr); 141 stdout
closed by its reader (| head); 1 a bug.
See docs/cli.md for the definitions of every number.
"""


def _add_compare(sub: Any, ev: argparse.ArgumentParser) -> None:
    cp = sub.add_parser(
        "compare",
        help="compare two models' predictions on the same labels (paired bootstrap, McNemar)",
        description=COMPARE_DESCRIPTION,
        epilog=COMPARE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cp.add_argument("predictions", metavar="A", help="model A's predictions (a file or a glob)")
    cp.add_argument(
        "predictions_b", metavar="B", help="model B's predictions (same rows, same classes)"
    )
    # The options of eval, in the same groups (one definition of each).
    skip = {"predictions", "example", "help", "worst"}
    for group in ev._action_groups:
        if group.title in ("positional arguments", "options"):
            continue
        target = cp.add_argument_group(group.title)
        for action in group._group_actions:
            if action.dest not in skip:
                target._add_action(action)
    cp.add_argument(
        "--worst",
        type=int,
        default=5,
        metavar="N",
        help="how many of the rows where A and B differ most to list (default: 5)",
    )
