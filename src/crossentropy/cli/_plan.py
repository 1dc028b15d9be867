"""From the command line's arguments to a plan: the shards, their files and columns, the loss.

Addressing inputs
-----------------
``PATH`` or ``PATH:SELECTOR``, where ``PATH`` may be a glob (``shards/*.parquet``) and
``SELECTOR`` is an .npz key or comma-separated column names or patterns (``preds.csv:p_*``).
``--labels`` and ``--sample-weight`` also accept a bare key or column name of the predictions
file (``--labels target``).
"""

from __future__ import annotations

import contextlib
import glob
import os
import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._errors import CLIError
from ._evaluate import KINDS, Unit, peek
from ._lists import class_names
from ._sources import (
    KEYED,
    FileSpec,
    csv_index_column,
    file_format,
    is_unnamed,
    list_fields,
    match_columns,
    npy_shape,
)

__all__ = ["PRED_KEYS", "Plan", "detect_loss", "example_path", "make_plan", "split_spec"]

#: Names looked for, in this order, when no key or column is given.
PRED_KEYS = ("y_pred", "preds", "predictions", "logits", "probs", "probabilities", "scores")
LABEL_KEYS = ("y_true", "labels", "label", "targets", "target", "y")
WEIGHT_KEYS = ("sample_weight", "sample_weights", "weight", "weights", "w")
CLASS_NAME_KEY = "class_names"


def example_path() -> str:
    """The bundled example: 2000 samples of a 10-class classifier (logits, labels, names)."""
    from importlib import resources

    return str(resources.files("crossentropy.data").joinpath("example.npz"))


@dataclass
class Plan:
    units: list[Unit]
    preds: str  # what the user named, for display
    labels: str
    weight: str | None
    fmt: str
    total_rows: int | None
    class_names: list[str] | None = None
    example: bool = False
    notes: list[str] = field(default_factory=list)


#: What the first bytes of stdin say about its format.
_MAGIC = (
    (b"\x93NUMPY", ".npy"),
    (b"PK\x03\x04", ".npz"),
    (b"PK\x05\x06", ".npz"),
    (b"PAR1", ".parquet"),
    (b"ARROW1", ".arrow"),
    (b"\xff\xff\xff\xff", ".arrow"),  # an Arrow IPC stream
)


def spool_stdin() -> str:
    """Copy stdin to a temporary file (in 1 MiB blocks: bounded memory; the readers read a file
    more than once) named after its format, sniffed from its first bytes: .npy, .npz,
    .parquet, Arrow IPC, gzip (CSV or JSON Lines inside), JSON Lines or JSON (``{`` or ``[``),
    else CSV. The file is removed at exit."""
    import atexit
    import gzip
    import shutil
    import tempfile

    src = sys.stdin.buffer if sys.stdin is not None else None
    if src is None:
        raise CLIError("-: stdin is closed; pass a file.")
    fd, tmp = tempfile.mkstemp(prefix="crossentropy-stdin-")
    atexit.register(_remove, tmp)
    with os.fdopen(fd, "wb") as out:
        shutil.copyfileobj(src, out, 2**20)
    with open(tmp, "rb") as f:
        head = f.read(64)
    ext = next((e for magic, e in _MAGIC if head.startswith(magic)), None)
    if ext is None:
        gz = head.startswith(b"\x1f\x8b")
        text = head
        if gz:
            try:
                with gzip.open(tmp, "rb") as g:
                    text = g.read(64)
            except (OSError, EOFError):
                text = b""
        first = text.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
        ext = ".jsonl" if first == b"{" else ".json" if first == b"[" else ".csv"
        if gz:
            ext += ".gz"
    path = tmp + ext
    os.replace(tmp, path)
    atexit.register(_remove, path)
    return path


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _has_glob(s: str) -> bool:
    return any(ch in s for ch in "*?[")


def split_spec(value: str) -> tuple[str, str | None]:
    """``PATH[:SELECTOR]`` -> (path or glob, selector).

    >>> split_spec("preds.csv:p0,p1")
    ('preds.csv', 'p0,p1')
    >>> split_spec("preds.npy")
    ('preds.npy', None)
    """
    if os.path.exists(value) or (_has_glob(value) and glob.glob(value)):
        return value, None
    head, sep, tail = value.rpartition(":")
    if sep and head and tail and not tail.startswith(("/", "\\")):
        return head, tail
    return value, None


def _expand(pattern: str, what: str) -> list[str]:
    if _has_glob(pattern):
        paths = sorted(p for p in glob.glob(pattern) if os.path.isfile(p))
        if not paths:
            raise CLIError(f"{pattern}: no file matches this pattern ({what}).")
        return paths
    if not os.path.exists(pattern):
        raise CLIError(f"{pattern}: no such file ({what}).")
    if os.path.isdir(pattern):
        raise CLIError(f"{pattern}: is a directory; pass files or a glob such as {pattern}/*.npy")
    return [pattern]


@dataclass
class _Source:
    """Where one role comes from: files (one per shard, or the predictions' own files)."""

    paths: list[str]
    selector: str | None
    same_file: bool  # a key/column of the predictions file
    display: str


def _in_preds(value: str, first_preds: str, fmt: str) -> bool:
    """Whether ``value`` names a key or columns of the predictions file."""
    if fmt == "npy":
        return False
    fields = list_fields(first_preds, fmt)
    if fmt in KEYED:
        return value in fields
    try:
        match_columns(first_preds, fields, value)
    except CLIError:
        return False
    return True


def _resolve_role(
    value: str | None,
    role: str,
    preds: _Source,
    fmt: str,
    flag: str,
) -> _Source | None:
    if value is None:
        return None
    first = preds.paths[0]
    if _in_preds(value, first, fmt):
        return _Source(preds.paths, value, True, f"{value!r} in {preds.display}")
    pattern, selector = split_spec(value)
    if not _has_glob(pattern) and not os.path.exists(pattern) and fmt != "npy":
        fields = list_fields(first, fmt)
        shown = ", ".join(fields[:20])
        raise CLIError(
            f"{flag} {value}: no such file, and {first} has no such "
            f"{'key' if fmt in KEYED else 'column'} (it has: {shown})."
        )
    paths = _expand(pattern, flag)
    if len(paths) != len(preds.paths):
        raise CLIError(
            f"{flag} {value}: {len(paths)} file(s), but the predictions are {len(preds.paths)} "
            "file(s); shards are paired in sorted order, so the counts must match."
        )
    return _Source(paths, selector, False, value)


def _default_key(first: str, fmt: str, keys: tuple[str, ...], what: str, flag: str) -> str:
    fields = list_fields(first, fmt)
    for k in keys:
        if k in fields:
            return k
    shown = ", ".join(fields[:20])
    raise CLIError(
        f"{first}: found no {what} {'key' if fmt in KEYED else 'column'} (looked for "
        f"{', '.join(keys)}; the file has: {shown}); name it with {flag}."
    )


def make_plan(args: Any) -> Plan:
    """Resolve the predictions, labels and weights into shards (one per predictions file)."""
    example = bool(getattr(args, "example", False))
    if example:
        if args.predictions is not None:
            raise CLIError("--example evaluates the bundled data; do not also pass a file.")
        path = example_path()
        preds_value = f"{path}:logits"
        labels_value = args.labels or "labels"
    else:
        if args.predictions is None:
            raise CLIError("no predictions file: pass one (e.g. preds.npy), or --example.")
        preds_value = args.predictions
        labels_value = args.labels
    pattern, pred_sel = split_spec(preds_value)
    stdin = pattern == "-"
    if stdin:
        pattern = spool_stdin()
    preds_paths = _expand(pattern, "predictions")
    fmt = file_format(preds_paths[0])
    for p in preds_paths[1:]:
        if file_format(p) != fmt:
            raise CLIError(f"{p}: all prediction files must have one format; the first is {fmt}.")
    display = f"{os.path.basename(pattern)} (bundled example)" if example else preds_value
    if stdin:
        display = f"- (stdin, read as {fmt})"
    preds = _Source(preds_paths, pred_sel, True, display)

    if labels_value is None:
        if fmt == "npy":
            raise CLIError(
                f"{preds_paths[0]}: no labels; pass --labels FILE (e.g. labels.npy) with one row "
                "per prediction row."
            )
        labels_value = _default_key(preds_paths[0], fmt, LABEL_KEYS, "label", "--labels")
    labels = _resolve_role(labels_value, "labels", preds, fmt, "--labels")
    assert labels is not None
    weight = _resolve_role(args.sample_weight, "weight", preds, fmt, "--sample-weight")

    given_names = None
    if getattr(args, "class_names", None) is not None:
        given_names = tuple(class_names(args.class_names))
    units = []
    for i, ppath in enumerate(preds_paths):
        roles: dict[str, list[tuple[str, Any]]] = {ppath: []}  # the predictions file first
        taken: list[str] = []
        for role, src in (("labels", labels), ("weight", weight)):
            if src is None:
                continue
            path = ppath if src.same_file else src.paths[i]
            sel = _selector(path, src.selector, role)
            roles.setdefault(path, []).append((role, sel))
            if path == ppath and isinstance(sel, tuple):
                taken.extend(sel)
        psel = _pred_selector(ppath, fmt, pred_sel, taken)
        roles.setdefault(ppath, []).insert(0, ("preds", psel))
        # String labels ("dog") map through --class-names, or else the prediction columns'
        # names (a table whose columns are cat, dog, bird)
        names = given_names
        names_from = "--class-names"
        if names is None and isinstance(psel, tuple) and len(psel) >= 2:
            names, names_from = tuple(psel), "the prediction columns"
        files = tuple(
            FileSpec(
                path,
                file_format(path),
                tuple(rs),
                names if any(r == "labels" for r, _ in rs) else None,
                names_from,
            )
            for path, rs in roles.items()
        )
        units.append(Unit(i, ppath, files))

    plan = Plan(
        units=units,
        preds=display,
        labels="'labels' in the example" if example else labels.display,
        weight=None if weight is None else weight.display,
        fmt=fmt,
        total_rows=_total_rows(preds_paths, fmt, units),
        example=example,
    )
    if example or (fmt == "npz" and CLASS_NAME_KEY in list_fields(preds_paths[0], fmt)):
        plan.class_names = _npz_class_names(preds_paths[0])
    return plan


#: The largest ``class_names`` member read (uncompressed): it is read whole.
MAX_CLASS_NAMES_BYTES = 2**26


def _one(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def _npz_class_names(path: str) -> list[str]:
    import io
    import zipfile

    what = f"{path}: key {CLASS_NAME_KEY!r}"
    try:
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo(f"{CLASS_NAME_KEY}.npy")
            if info.file_size > MAX_CLASS_NAMES_BYTES:
                raise CLIError(
                    f"{what} holds {info.file_size} bytes; class names of more than "
                    f"{MAX_CLASS_NAMES_BYTES} bytes are not read (pass --class-names FILE)."
                )
            data = zf.read(info)  # whole, so that zipfile checks its CRC-32
        names = np.lib.format.read_array(io.BytesIO(data), allow_pickle=False)
    except CLIError:
        raise
    except Exception as err:  # only zipfile and NumPy's reader run here: a damaged member
        raise CLIError(f"{what} must be a readable array of strings ({_one(err)}).") from None
    if names.dtype.kind not in "USiuf":
        raise CLIError(f"{what} must be a readable array of strings; got dtype {names.dtype}.")
    return [str(s) for s in names.reshape(-1).tolist()]


def _selector(path: str, selector: str | None, role: str) -> Any:
    """The concrete selector of ``role`` in ``path``: a key, a tuple of columns, or None."""
    fmt = file_format(path)
    if fmt == "npy":
        if selector:
            raise CLIError(f"{path}: a .npy file holds one array; drop ':{selector}'.")
        return None
    fields = list_fields(path, fmt)
    if fmt in KEYED:
        if selector is None:
            keys = {"preds": PRED_KEYS, "labels": LABEL_KEYS}.get(role, WEIGHT_KEYS)
            flag = {"preds": "PREDICTIONS:KEY", "labels": "--labels"}.get(role, "--sample-weight")
            return _default_key(path, fmt, keys, role, flag)
        if selector not in fields:
            raise CLIError(f"{path}: no array {selector!r}; the keys are: {', '.join(fields)}.")
        return selector
    if selector is None:  # a separate labels or weights table: all of its columns
        return tuple(fields)
    return match_columns(path, fields, selector)


def _pred_selector(path: str, fmt: str, selector: str | None, taken: list[str]) -> Any:
    if selector is not None or fmt == "npy":
        return _selector(path, selector, "preds")
    fields = list_fields(path, fmt)
    if fmt in KEYED:
        return _default_key(path, fmt, PRED_KEYS, "predictions", "PREDICTIONS:KEY")
    rest = tuple(c for c in fields if c not in taken)
    if not rest:
        raise CLIError(f"{path}: no columns left for the predictions after the labels.")
    if fmt == "csv":
        _refuse_index_column(path, fields, rest)
    return rest


def _refuse_index_column(path: str, fields: list[str], rest: tuple[str, ...]) -> None:
    """A column pandas' ``DataFrame.to_csv()`` wrote for its index is not a prediction column:
    an unnamed column, or in a file without a header a first column holding 0, 1, 2, ..."""
    unnamed = [i for i, c in enumerate(fields) if is_unnamed(c) and c in rest]
    header_less = fields == [str(i) for i in range(len(fields))]
    if not unnamed and header_less and fields[0] in rest and csv_index_column(path):
        unnamed = [0]
        what = "the first column holds the row numbers 0, 1, 2, ..."
    elif unnamed:
        what = (
            "the first column has no name"
            if unnamed[0] == 0
            else f"column {unnamed[0]} (counting from 0) has no name"
        )
    else:
        return
    keep = ",".join(c for i, c in enumerate(fields) if c in rest and i not in unnamed)
    raise CLIError(
        f"{path}: {what}, like the index that pandas' DataFrame.to_csv() writes; it is not "
        f"taken as predictions. Save the file with to_csv(index=False), or name the prediction "
        f"columns: {path}:{keep or '...'}"
    )


def _total_rows(paths: list[str], fmt: str, units: list[Unit]) -> int | None:
    """Rows in all prediction files, from their headers (None for text)."""
    if fmt == "npy":
        return sum(npy_shape(p)[0] for p in paths)
    if fmt == "parquet":
        from ._sources import _pyarrow_parquet

        pq = _pyarrow_parquet(paths[0])
        return sum(int(pq.ParquetFile(p).metadata.num_rows) for p in paths)
    if fmt == "npz":
        from ._sources import open_reader

        total = 0
        for u in units:
            spec = u.files[0]
            reader = open_reader(FileSpec(spec.path, spec.fmt, spec.roles[:1]))
            try:
                total += reader.n_rows or 0
            finally:
                reader.close()
        return total
    return None


# --------------------------------------------------------------------------------------------
# Detecting the loss from the first rows


def detect_loss(
    plan: Plan, forced: str | None, from_logits: bool, peek_rows: int = 4096, chunk_rows: int = 0
) -> tuple[str, int, str]:
    """(kind, number of prediction columns, why) from the shapes and the first rows: at most
    ``peek_rows``, ``chunk_rows`` (when given) and about a chunk's bytes of them."""
    head = peek(plan.units[0], min(peek_rows, chunk_rows or peek_rows))
    p, lab = head["preds"], head["labels"]
    where_p, where_l = head["preds:where"], head["labels:where"]
    width = 1 if p.ndim == 1 else int(p.shape[1])
    cols = 1 if lab.ndim == 1 else int(lab.shape[1])
    if forced is not None:
        if forced not in KINDS:  # pragma: no cover - argparse restricts the choices
            raise CLIError(f"--loss must be one of {', '.join(KINDS)}; got {forced!r}.")
        if forced == "binary" and width != 1:
            raise CLIError(
                f"{where_p}: --loss binary needs one prediction per row; got {width} columns "
                "(use --loss multilabel for several independent labels)."
            )
        if forced in ("sparse", "categorical") and width < 2:
            raise CLIError(
                f"{where_p}: --loss {forced} needs one prediction column per class (at least 2); "
                f"got {width} (use --loss binary)."
            )
        return forced, width, "chosen with --loss"
    if width == 1:
        return "binary", 1, "one prediction per row"
    if cols == 1:
        flat = lab.reshape(-1)
        if flat.dtype.kind in "iub":
            return "sparse", width, "integer class ids"
        if flat.dtype.kind == "f":
            finite = flat[np.isfinite(flat)]
            if np.all(finite == np.floor(finite)):
                return "sparse", width, "integer class ids"
            i = int(np.argmax(finite != np.floor(finite)))
            raise CLIError(
                f"{where_l}: one label per row that is not an integer class id "
                f"({float(finite[i])!r}), "
                f"while the predictions have {width} columns; pass class ids, or one label column "
                "per prediction column."
            )
        raise CLIError(f"{where_l}: labels must be numbers; got dtype {lab.dtype}.")
    if cols != width:
        raise CLIError(
            f"{where_l}: {cols} label columns, but the predictions have {width} "
            f"({where_p}); pass one label column per class, or one class id per row."
        )
    # Loose tolerances (1e-3): these only choose the loss; the evaluation then checks every row
    # at the dtype's tolerance and names the first that does not fit.
    y = lab.astype(np.float64)
    with np.errstate(invalid="ignore"):
        sums_one = bool(np.all(np.abs(y.sum(axis=1) - 1.0) <= 1e-3)) if len(y) else True
    if sums_one:
        pf = p.astype(np.float64)
        if (
            not from_logits
            and len(pf)
            and bool(np.all((pf >= 0) & (pf <= 1)))
            and not bool(np.all(np.abs(pf.sum(axis=1) - 1.0) <= 1e-3))
        ):
            return (
                "multilabel",
                width,
                "each label row sums to 1, but the predicted probabilities do not",
            )
        onehot = bool(np.all((y == 0) | (y == 1)))
        return "categorical", width, "one-hot labels" if onehot else "soft labels summing to 1"
    return "multilabel", width, "label rows that do not sum to 1 (several true labels)"
