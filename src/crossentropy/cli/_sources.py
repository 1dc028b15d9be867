"""Readers that stream rows from .npy, .npz, .csv/.tsv and .parquet files in bounded memory.

Every reader serves the same sequential interface: ``read(n)`` returns the next ``n`` rows (fewer
at the end) of each *role* it was opened for ("preds", "labels", "weight"), as NumPy arrays of
shape ``(r,)`` or ``(r, k)`` in the stored dtype (text is parsed as float64).

- ``.npy`` files and the members of an uncompressed ``.npz`` (``np.savez``) are memory-mapped;
  the pages of rows already copied out are handed back to the kernel (``MADV_DONTNEED``), so the
  resident memory stays at one chunk whatever the file size.
- Members of a compressed ``.npz`` (``np.savez_compressed``) are decompressed as a stream.
- ``.csv``/``.tsv``: a header line (column names) is optional; cells are parsed by NumPy's C
  parser, and on failure the offending cell is located and named.
- ``.parquet`` (pyarrow, the ``parquet`` extra): record batches of the selected columns; a column
  of equal-length lists is a matrix.

Errors name the file, the row (0-based; for text also the 1-based line) and the column.
"""

from __future__ import annotations

import csv
import fnmatch
import mmap
import os
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any, BinaryIO

import numpy as np

from ._errors import CLIError, missing_extra

__all__ = [
    "FORMATS",
    "FileSpec",
    "Reader",
    "file_format",
    "list_fields",
    "match_columns",
    "open_reader",
]

FORMATS = {
    ".npy": "npy",
    ".npz": "npz",
    ".csv": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}

_PAGE = mmap.PAGESIZE


def file_format(path: str) -> str:
    """The format of ``path``, from its extension."""
    ext = os.path.splitext(path)[1].lower()
    try:
        return FORMATS[ext]
    except KeyError:
        known = ", ".join(sorted(FORMATS))
        raise CLIError(
            f"{path}: unsupported file type {ext or '(no extension)'!r}; expected one of {known}."
        ) from None


def _check_exists(path: str) -> None:
    if not os.path.exists(path):
        raise CLIError(f"{path}: no such file.")
    if os.path.isdir(path):
        raise CLIError(f"{path}: is a directory, not a file.")


@dataclass(frozen=True)
class FileSpec:
    """One file and what to read from it: ``roles`` pairs a role with a selector (an .npz key,
    or a tuple of column names for .csv/.parquet; None for a whole .npy)."""

    path: str
    fmt: str
    roles: tuple[tuple[str, Any], ...]


# --------------------------------------------------------------------------------------------
# Field listing (headers only), used to resolve column and key names before reading


def list_fields(path: str, fmt: str) -> list[str]:
    """The names a selector can refer to: .npz keys or table columns ([] for .npy)."""
    _check_exists(path)
    if fmt == "npz":
        try:
            with zipfile.ZipFile(path) as zf:
                return [n[:-4] for n in zf.namelist() if n.endswith(".npy")]
        except (zipfile.BadZipFile, OSError) as err:
            raise CLIError(f"{path}: not a readable .npz file ({err}).") from None
    if fmt == "csv":
        return _csv_header(path)[0]
    if fmt == "parquet":
        pq = _pyarrow_parquet(path)
        try:
            schema = pq.read_schema(path)
        except Exception as err:  # pyarrow raises its own error types
            raise CLIError(f"{path}: not a readable Parquet file ({_one_line(err)}).") from None
        return [n for n in schema.names if not n.startswith("__index_level_")]
    return []


def match_columns(path: str, available: list[str], selector: str) -> tuple[str, ...]:
    """Columns named by ``selector``: comma-separated names or shell patterns (``p_*``)."""
    out: list[str] = []
    for part in (s.strip() for s in selector.split(",")):
        if not part:
            continue
        hits = [c for c in available if fnmatch.fnmatchcase(c, part)] if _is_pattern(part) else []
        if not _is_pattern(part):
            hits = [part] if part in available else []
        if not hits:
            shown = ", ".join(available[:20]) + (", ..." if len(available) > 20 else "")
            raise CLIError(f"{path}: no column {part!r}; the columns are: {shown}.")
        out.extend(h for h in hits if h not in out)
    if not out:
        raise CLIError(f"{path}: the column selector {selector!r} names no column.")
    return tuple(out)


def _is_pattern(s: str) -> bool:
    return any(ch in s for ch in "*?[")


def _one_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


# --------------------------------------------------------------------------------------------
# Readers


class Reader:
    """Sequential reader of the rows of one file, for one or more roles."""

    path: str
    n_rows: int | None
    roles: tuple[str, ...]

    def read(self, n: int) -> dict[str, Any]:  # pragma: no cover - interface
        raise NotImplementedError

    def dtype(self, role: str) -> np.dtype[Any]:  # pragma: no cover - interface
        raise NotImplementedError

    def tolerance_dtype(self, role: str) -> np.dtype[Any]:
        """The dtype whose precision the values had (text: float32, see docs/cli.md)."""
        return self.dtype(role)

    def column_name(self, role: str, j: int | None) -> str:  # pragma: no cover - interface
        raise NotImplementedError

    def row_name(self, row: int) -> str:
        return f"row {row}"

    def where(self, role: str, row: int | None, col: int | None) -> str:
        """``path: row R, column C`` for error messages."""
        tail = [] if row is None else [self.row_name(row)]
        cname = self.column_name(role, col)
        if cname:
            tail.append(cname)
        return self.path + (": " + ", ".join(tail) if tail else "")

    def close(self) -> None:  # pragma: no cover - interface
        pass

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_numeric_dtype(path: str, what: str, dtype: np.dtype[Any]) -> None:
    if dtype.hasobject or dtype.fields is not None or dtype.kind not in "fiub":
        raise CLIError(
            f"{path}: {what} must hold numbers; got dtype {dtype} (save a plain numeric array)."
        )


def _read_npy_header(fp: BinaryIO, path: str) -> tuple[tuple[int, ...], bool, np.dtype[Any]]:
    fmt = np.lib.format
    try:
        version = fmt.read_magic(fp)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(fp)
        elif version == (2, 0):
            shape, fortran, dtype = fmt.read_array_header_2_0(fp)
        else:  # (3, 0): utf-8 field names; only NumPy's private reader knows it
            shape, fortran, dtype = getattr(fmt, "_read_array_header")(fp, version)  # noqa: B009
    except (ValueError, OSError, EOFError) as err:
        raise CLIError(f"{path}: not a readable .npy array ({_one_line(err)}).") from None
    return tuple(int(s) for s in shape), bool(fortran), np.dtype(dtype)


def _check_shape(path: str, what: str, shape: tuple[int, ...]) -> None:
    if len(shape) not in (1, 2):
        raise CLIError(
            f"{path}: {what} must be 1-d (one value per row) or 2-d (rows x columns); got shape "
            f"{shape}. Reshape it, e.g. to (-1, {shape[-1] if shape else 1})."
        )


class _MappedArray:
    """A memory-mapped array region of a file whose consumed pages are released."""

    def __init__(
        self,
        path: str,
        offset: int,
        shape: tuple[int, ...],
        fortran: bool,
        dtype: np.dtype[Any],
        what: str,
    ) -> None:
        _check_numeric_dtype(path, what, dtype)
        _check_shape(path, what, shape)
        self.path, self.shape, self.dtype, self.fortran = path, shape, dtype, fortran
        self.offset = offset
        self.pos = 0
        self._f = open(path, "rb")  # noqa: SIM115 - closed in close()
        self._mm: mmap.mmap | None = None
        nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        size = os.fstat(self._f.fileno()).st_size
        if offset + nbytes > size:
            self._f.close()
            raise CLIError(
                f"{path}: the file is truncated ({size} bytes; the header announces "
                f"{offset + nbytes})."
            )
        self.arr: Any
        if nbytes == 0:
            self.arr = np.zeros(shape, dtype=dtype)
        else:
            self._mm = mmap.mmap(self._f.fileno(), 0, access=mmap.ACCESS_READ)
            if hasattr(self._mm, "madvise") and hasattr(mmap, "MADV_SEQUENTIAL"):
                self._mm.madvise(mmap.MADV_SEQUENTIAL)
            self.arr = np.ndarray(
                shape, dtype=dtype, buffer=self._mm, offset=offset, order="F" if fortran else "C"
            )

    @property
    def n_rows(self) -> int:
        return self.shape[0]

    def read(self, n: int) -> Any:
        a, b = self.pos, min(self.pos + n, self.shape[0])
        out = np.array(self.arr[a:b], copy=True)
        self.pos = b
        self._release(a, b)
        return out

    def _release(self, a: int, b: int) -> None:
        """Drop the pages holding rows [a, b), already copied out, from this process's memory
        (they stay in the page cache; a page shared with the next rows is simply read again)."""
        mm = self._mm
        if mm is None or b <= a or not hasattr(mm, "madvise"):
            return
        advice = getattr(mmap, "MADV_DONTNEED", None)
        if advice is None:  # pragma: no cover - platforms without madvise(2)
            return
        item = self.dtype.itemsize
        if len(self.shape) == 1 or not self.fortran:
            row = item * (self.shape[1] if len(self.shape) > 1 else 1)
            ranges = [(self.offset + a * row, self.offset + b * row)]
        else:
            col = self.shape[0] * item
            ranges = [
                (self.offset + j * col + a * item, self.offset + j * col + b * item)
                for j in range(self.shape[1])
            ]
        for lo, hi in ranges:
            start = (lo // _PAGE) * _PAGE
            stop = min(-(-hi // _PAGE) * _PAGE, len(mm))
            if stop > start:
                mm.madvise(advice, start, stop - start)

    def close(self) -> None:
        self.arr = None
        if self._mm is not None:
            self._mm.close()
            self._mm = None
        self._f.close()


class _StreamedArray:
    """An array decompressed sequentially from a compressed .npz member."""

    def __init__(self, zf: zipfile.ZipFile, member: str, path: str, what: str) -> None:
        self._fp = zf.open(member)
        self.path = path
        shape, fortran, dtype = _read_npy_header(self._fp, f"{path}[{member}]")  # type: ignore[arg-type]
        _check_numeric_dtype(path, what, dtype)
        _check_shape(path, what, shape)
        if fortran and len(shape) > 1:
            self._fp.close()
            raise CLIError(
                f"{path}: {what} is a Fortran-ordered array in a compressed .npz, which cannot be "
                "streamed; save it with np.savez (uncompressed) or pass np.ascontiguousarray(...)."
            )
        self.shape, self.dtype = shape, dtype
        self.pos = 0
        self._row_items = int(np.prod(shape[1:], dtype=np.int64)) if len(shape) > 1 else 1

    @property
    def n_rows(self) -> int:
        return self.shape[0]

    def read(self, n: int) -> Any:
        r = min(n, self.shape[0] - self.pos)
        nbytes = r * self._row_items * self.dtype.itemsize
        buf = self._fp.read(nbytes)
        if len(buf) != nbytes:
            raise CLIError(f"{self.path}: the compressed array ends early (truncated file).")
        self.pos += r
        return np.frombuffer(buf, dtype=self.dtype).reshape((r, *self.shape[1:])).copy()

    def close(self) -> None:
        self._fp.close()


class NpyReader(Reader):
    """A whole .npy file, memory-mapped: one role."""

    def __init__(self, spec: FileSpec) -> None:
        _check_exists(spec.path)
        self.path = spec.path
        self.roles = tuple(r for r, _ in spec.roles)
        with open(spec.path, "rb") as f:
            shape, fortran, dtype = _read_npy_header(f, spec.path)
            offset = f.tell()
        self._arr = _MappedArray(spec.path, offset, shape, fortran, dtype, "the array")
        self.n_rows = self._arr.n_rows
        self.shape = shape

    def read(self, n: int) -> dict[str, Any]:
        data = self._arr.read(n)
        return {role: data for role in self.roles}

    def dtype(self, role: str) -> np.dtype[Any]:
        return self._arr.dtype

    def column_name(self, role: str, j: int | None) -> str:
        return "" if j is None else f"column {j}"

    def close(self) -> None:
        self._arr.close()


def _stored_member_offset(path: str, info: zipfile.ZipInfo) -> int:
    """Offset of a stored (uncompressed) zip member's data in the file."""
    with open(path, "rb") as f:
        f.seek(info.header_offset)
        head = f.read(30)
    if len(head) != 30 or head[:4] != b"PK\x03\x04":
        raise CLIError(f"{path}: corrupt .npz (bad local header for {info.filename}).")
    name_len, extra_len = struct.unpack("<HH", head[26:30])
    return int(info.header_offset) + 30 + int(name_len) + int(extra_len)


class NpzReader(Reader):
    """Members of an .npz: memory-mapped when stored, streamed when compressed."""

    def __init__(self, spec: FileSpec) -> None:
        _check_exists(spec.path)
        self.path = spec.path
        self.roles = tuple(r for r, _ in spec.roles)
        self.keys = dict(spec.roles)
        try:
            self._zf = zipfile.ZipFile(spec.path)
        except (zipfile.BadZipFile, OSError) as err:
            raise CLIError(f"{spec.path}: not a readable .npz file ({err}).") from None
        self._arrays: dict[str, _MappedArray | _StreamedArray] = {}
        try:
            for role, key in spec.roles:
                member = f"{key}.npy"
                try:
                    info = self._zf.getinfo(member)
                except KeyError:
                    keys = [n[:-4] for n in self._zf.namelist() if n.endswith(".npy")]
                    raise CLIError(
                        f"{spec.path}: no array {key!r}; the keys are: {', '.join(keys)}."
                    ) from None
                what = f"key {key!r}"
                if info.compress_type == zipfile.ZIP_STORED:
                    start = _stored_member_offset(spec.path, info)
                    with open(spec.path, "rb") as f:
                        f.seek(start)
                        shape, fortran, dtype = _read_npy_header(f, spec.path)
                        offset = f.tell()
                    self._arrays[role] = _MappedArray(
                        spec.path, offset, shape, fortran, dtype, what
                    )
                else:
                    self._arrays[role] = _StreamedArray(self._zf, member, spec.path, what)
        except BaseException:
            self.close()
            raise
        counts = {a.n_rows for a in self._arrays.values()}
        if len(counts) > 1:
            detail = ", ".join(f"{self.keys[r]!r}: {a.n_rows}" for r, a in self._arrays.items())
            self.close()
            raise CLIError(f"{spec.path}: the arrays have different numbers of rows ({detail}).")
        self.n_rows = counts.pop() if counts else 0

    def read(self, n: int) -> dict[str, Any]:
        return {role: a.read(n) for role, a in self._arrays.items()}

    def dtype(self, role: str) -> np.dtype[Any]:
        return self._arrays[role].dtype

    def column_name(self, role: str, j: int | None) -> str:
        key = f"key {self.keys[role]!r}"
        return key if j is None else f"{key}, column {j}"

    def close(self) -> None:
        for a in getattr(self, "_arrays", {}).values():
            a.close()
        self._zf.close()


def _csv_header(path: str) -> tuple[list[str], bool, str]:
    """Column names (``0, 1, ...`` without a header line), whether there is a header, and the
    delimiter (tab for .tsv, else comma)."""
    delim = "\t" if path.lower().endswith(".tsv") else ","
    try:
        with open(path, encoding="utf-8", newline="") as f:
            first = ""
            for line in f:
                if line.strip():
                    first = line
                    break
    except UnicodeDecodeError:
        raise CLIError(f"{path}: not a text file (could not decode it as UTF-8).") from None
    if not first:
        raise CLIError(f"{path}: the file is empty.")
    cells = next(csv.reader([first], delimiter=delim))
    try:
        [float(c) for c in cells]
    except ValueError:
        names = [c.strip() for c in cells]
        return names, True, delim
    return [str(i) for i in range(len(cells))], False, delim


class CsvReader(Reader):
    """Rows of a .csv/.tsv file, parsed chunk by chunk (float64)."""

    def __init__(self, spec: FileSpec) -> None:
        _check_exists(spec.path)
        self.path = spec.path
        self.roles = tuple(r for r, _ in spec.roles)
        self.names, header, self.delim = _csv_header(spec.path)
        index = {name: i for i, name in enumerate(self.names)}
        self.cols: dict[str, list[int]] = {}
        self.two_d: dict[str, bool] = {}
        for role, sel in spec.roles:
            self.cols[role] = [index[c] for c in sel]
            self.two_d[role] = len(sel) > 1
        self.usecols = sorted({c for cols in self.cols.values() for c in cols})
        self._pos_in_use = {c: i for i, c in enumerate(self.usecols)}
        self.n_rows = None
        self._f = open(spec.path, encoding="utf-8", newline="")  # noqa: SIM115
        self._line = 0
        self._row = 0
        self._chunk_row0 = 0
        self._chunk_lines: list[int] = []
        if header:
            for line in self._f:
                self._line += 1
                if line.strip():
                    break
        self.bytes_read = 0

    def _next_lines(self, n: int) -> tuple[list[str], list[int]]:
        lines: list[str] = []
        numbers: list[int] = []
        try:
            while len(lines) < n:
                batch = list(islice(self._f, n - len(lines)))
                if not batch:
                    break
                for line in batch:
                    self._line += 1
                    self.bytes_read += len(line)
                    if line.strip():
                        lines.append(line)
                        numbers.append(self._line)
        except UnicodeDecodeError:
            raise CLIError(
                f"{self.path}: line {self._line + 1}: not UTF-8 text; save the file as UTF-8."
            ) from None
        return lines, numbers

    def read(self, n: int) -> dict[str, Any]:
        lines, numbers = self._next_lines(n)
        self._chunk_row0 = self._row
        self._chunk_lines = numbers
        self._row += len(lines)
        if not lines:
            data = np.zeros((0, len(self.usecols)))
        else:
            try:
                data = np.loadtxt(
                    lines,
                    delimiter=self.delim,
                    usecols=self.usecols,
                    dtype=np.float64,
                    ndmin=2,
                    comments=None,
                    quotechar='"',
                )
            except ValueError as err:
                self._raise_bad_cell(lines, err)
        out = {}
        for role in self.roles:
            idx = [self._pos_in_use[c] for c in self.cols[role]]
            arr = data[:, idx]
            out[role] = arr if self.two_d[role] else arr[:, 0]
        return out

    def _raise_bad_cell(self, lines: list[str], err: ValueError) -> None:
        need = max(self.usecols) + 1 if self.usecols else 0
        for i, fields in enumerate(csv.reader(lines, delimiter=self.delim)):
            row = self._chunk_row0 + i
            if len(fields) < need:
                raise CLIError(
                    f"{self.path}: {self.row_name(row)}: expected at least {need} fields, "
                    f"found {len(fields)}."
                ) from None
            for c in self.usecols:
                cell = fields[c].strip()
                try:
                    float(cell)
                except ValueError:
                    what = "an empty cell" if not cell else f"{cell[:40]!r}"
                    raise CLIError(
                        f"{self.path}: {self.row_name(row)}, column {self.names[c]!r}: expected "
                        f"a number, got {what}."
                    ) from None
        raise CLIError(f"{self.path}: could not parse the rows ({err}).") from None

    def dtype(self, role: str) -> np.dtype[Any]:
        return np.dtype(np.float64)

    def tolerance_dtype(self, role: str) -> np.dtype[Any]:
        return np.dtype(np.float32)

    def column_name(self, role: str, j: int | None) -> str:
        cols = self.cols[role]
        c = cols[0] if j is None or not self.two_d[role] else cols[j]
        return f"column {self.names[c]!r}"

    def row_name(self, row: int) -> str:
        i = row - self._chunk_row0
        if 0 <= i < len(self._chunk_lines):
            return f"row {row} (line {self._chunk_lines[i]})"
        return f"row {row}"

    def close(self) -> None:
        self._f.close()


def _pyarrow_parquet(path: str) -> Any:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise missing_extra("pyarrow", f"reading {path}") from None
    return pq


class ParquetReader(Reader):
    """Record batches of the selected columns of a Parquet file."""

    def __init__(self, spec: FileSpec) -> None:
        _check_exists(spec.path)
        pq = _pyarrow_parquet(spec.path)
        import pyarrow as pa

        self._pa = pa
        self.path = spec.path
        self.roles = tuple(r for r, _ in spec.roles)
        self.cols = {role: tuple(sel) for role, sel in spec.roles}
        try:
            # Streamed column chunks (no pre-buffering of whole row groups): memory then grows
            # with the number of columns read (their pages), not with the rows of a row group.
            self._pf = pq.ParquetFile(spec.path, pre_buffer=False, buffer_size=2**16)
        except Exception as err:
            raise CLIError(
                f"{spec.path}: not a readable Parquet file ({_one_line(err)})."
            ) from None
        schema = self._pf.schema_arrow
        self.n_rows = int(self._pf.metadata.num_rows)
        self._types: dict[str, Any] = {}
        self._list: dict[str, bool] = {}
        for role, cols in self.cols.items():
            dtypes = []
            for c in cols:
                t = schema.field(c).type
                is_list = pa.types.is_list(t) or pa.types.is_fixed_size_list(t)
                if is_list and len(cols) > 1:
                    raise CLIError(
                        f"{spec.path}: column {c!r} holds lists; select it alone (one list column "
                        "is a matrix) or select scalar columns."
                    )
                self._list[role] = is_list
                vt = t.value_type if is_list else t
                if not (
                    pa.types.is_integer(vt) or pa.types.is_floating(vt) or pa.types.is_boolean(vt)
                ):
                    raise CLIError(
                        f"{spec.path}: column {c!r} must hold numbers; got type {t}. Choose the "
                        f"columns explicitly, e.g. {os.path.basename(spec.path)}:p0,p1."
                    )
                dtypes.append(np.dtype(vt.to_pandas_dtype()))
            self._types[role] = np.result_type(*dtypes)
        needed = list(dict.fromkeys(c for cols in self.cols.values() for c in cols))
        self._needed = needed
        self._batches: Iterator[Any] | None = None
        self._buffer: list[Any] = []
        self._buffered = 0
        self._row = 0

    def _iter(self, n: int) -> Iterator[Any]:
        if self._batches is None:
            self._batches = self._pf.iter_batches(
                batch_size=max(n, 1), columns=self._needed, use_threads=False
            )
        return self._batches

    def read(self, n: int) -> dict[str, Any]:
        it = self._iter(n)
        while self._buffered < n:
            try:
                batch = next(it)
            except StopIteration:
                break
            self._buffer.append(batch)
            self._buffered += batch.num_rows
        pa = self._pa
        if self._buffer:
            table = pa.Table.from_batches(self._buffer)
        else:
            table = self._pf.schema_arrow.empty_table().select(self._needed)
        take = min(n, table.num_rows)
        head, rest = table.slice(0, take), table.slice(take)
        self._buffer = rest.to_batches() if rest.num_rows else []
        self._buffered = rest.num_rows
        row0 = self._row
        self._row += take
        return {role: self._convert(role, head, row0) for role in self.roles}

    def _convert(self, role: str, table: Any, row0: int) -> Any:
        cols = []
        for c in self.cols[role]:
            col = table.column(c).combine_chunks()
            if col.null_count:
                self._raise_null(c, col, row0)
            if self._list[role]:
                return self._list_matrix(c, col, row0, self._types[role])
            cols.append(col.to_numpy(zero_copy_only=False).astype(self._types[role], copy=False))
        if len(cols) == 1:
            return np.ascontiguousarray(cols[0])
        return np.stack(cols, axis=1)

    def _raise_null(self, c: str, col: Any, row0: int) -> None:
        import pyarrow.compute as pc

        i = int(pc.index(pc.is_null(col), True).as_py())
        raise CLIError(f"{self.path}: row {row0 + i}, column {c!r}: missing value (null).")

    def _list_matrix(self, c: str, col: Any, row0: int, dtype: np.dtype[Any]) -> Any:
        pa = self._pa
        n = len(col)
        if pa.types.is_fixed_size_list(col.type):
            k = col.type.list_size
            values = col.flatten()
        else:
            offsets = col.offsets.to_numpy()
            lengths = np.diff(offsets)
            k = int(lengths[0]) if n else 0
            bad = np.flatnonzero(lengths != k)
            if bad.size:
                i = int(bad[0])
                raise CLIError(
                    f"{self.path}: row {row0 + i}, column {c!r}: list of length {lengths[i]}, "
                    f"but row {row0} has {k}."
                )
            values = col.flatten()
        if values.null_count:
            import pyarrow.compute as pc

            j = int(pc.index(pc.is_null(values), True).as_py())
            raise CLIError(
                f"{self.path}: row {row0 + j // max(k, 1)}, column {c!r}[{j % max(k, 1)}]: "
                "missing value (null)."
            )
        arr = values.to_numpy(zero_copy_only=False).astype(dtype, copy=False)
        return arr.reshape(n, k)

    def dtype(self, role: str) -> np.dtype[Any]:
        dt: np.dtype[Any] = np.dtype(self._types[role])
        return dt

    def column_name(self, role: str, j: int | None) -> str:
        cols = self.cols[role]
        if self._list[role]:
            return f"column {cols[0]!r}" + ("" if j is None else f"[{j}]")
        c = cols[0] if j is None or len(cols) == 1 else cols[j]
        return f"column {c!r}"

    def close(self) -> None:
        self._buffer = []
        self._batches = None
        closer = getattr(self._pf, "close", None)
        if closer is not None:
            closer()


_READERS: dict[str, type[Reader]] = {
    "npy": NpyReader,
    "npz": NpzReader,
    "csv": CsvReader,
    "parquet": ParquetReader,
}


def open_reader(spec: FileSpec) -> Reader:
    """Open ``spec.path`` for its roles."""
    cls: Any = _READERS[spec.fmt]
    reader: Reader = cls(spec)
    return reader


def npy_shape(path: str) -> tuple[int, ...]:
    """The shape of a .npy file, from its header."""
    _check_exists(path)
    with open(path, "rb") as f:
        return _read_npy_header(f, path)[0]
