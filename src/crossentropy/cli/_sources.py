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
import functools
import gzip
import json
import math
import mmap
import os
import re
import struct
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any, BinaryIO, NoReturn, TypeVar

import numpy as np

from ._errors import CLIError, missing_extra

__all__ = [
    "FORMATS",
    "KEYED",
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
    ".csv.gz": "csv",
    ".tsv.gz": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".jsonl.gz": "jsonl",
    ".json": "json",
    ".json.gz": "json",
    ".arrow": "arrow",
    ".feather": "arrow",
    ".ipc": "arrow",
}

#: Formats whose fields are keys naming one array each (like .npz): a selector is one key.
KEYED = ("npz", "jsonl", "json")

_PAGE = mmap.PAGESIZE


def file_format(path: str) -> str:
    """The format of ``path``, from its extension (``.csv.gz``: a gzip-compressed CSV)."""
    root, ext = os.path.splitext(path)
    ext = ext.lower()
    if ext == ".gz":
        ext = os.path.splitext(root)[1].lower() + ext
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
    #: Class names that string labels map to (their index is the class id), and where they
    #: come from (for the error of a label that is none of them).
    label_names: tuple[str, ...] | None = None
    names_from: str = ""


def label_ids(
    cells: list[Any], spec: FileSpec, where: Callable[[int], str], what: str
) -> list[float]:
    """Labels that may be class names: a name's index, or else the number the cell holds."""
    names = {n: i for i, n in enumerate(spec.label_names or ())}
    out: list[float] = []
    for i, cell in enumerate(cells):
        text = cell.strip() if isinstance(cell, str) else cell
        if isinstance(text, str) and text in names:
            out.append(float(names[text]))
            continue
        try:
            if isinstance(text, bool) or text is None:
                raise ValueError
            out.append(float(text))
        except (TypeError, ValueError):
            shown = "null" if text is None else repr(text)[:60]
            if spec.label_names is None:
                hint = "pass --class-names to map names to class ids"
            else:
                listed = ", ".join(spec.label_names[:20])
                more = ", ..." if len(spec.label_names) > 20 else ""
                hint = f"the classes ({spec.names_from}) are: {listed}{more}"
                if spec.names_from != "--class-names":
                    hint += " (pass --class-names to name them)"
            raise CLIError(
                f"{spec.path}: {where(i)}, {what}: label {shown} is not a class name; {hint}."
            ) from None
    return out


# --------------------------------------------------------------------------------------------
# Field listing (headers only), used to resolve column and key names before reading


def list_fields(path: str, fmt: str) -> list[str]:
    """The names a selector can refer to: .npz keys or table columns ([] for .npy)."""
    _check_exists(path)
    if fmt == "npz":
        with _open_zip(path) as zf:
            return [n[:-4] for n in zf.namelist() if n.endswith(".npy")]
    if fmt == "csv":
        return _csv_header(path)[0]
    if fmt == "parquet":
        pq = _pyarrow_parquet(path)
        try:
            schema = pq.read_schema(path)
        except Exception as err:  # pyarrow raises its own error types
            raise CLIError(f"{path}: not a readable Parquet file ({_one_line(err)}).") from None
        names = [n for n in schema.names if not n.startswith("__index_level_")]
        _check_unique(path, list(schema.names))
        return names
    if fmt == "arrow":
        f = _arrow_file(path)
        try:
            names = list(f.schema_arrow.names)
        finally:
            f.close()
        _check_unique(path, names)
        return names
    if fmt in ("jsonl", "json"):
        return list(_first_json_record(path, fmt)[0])
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

    def row_width(self, role: str) -> int:  # pragma: no cover - interface
        """Values per row of ``role`` (1 for a 1-d array), known before any row is read."""
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
    """(shape, fortran order, dtype) from the .npy header at ``fp``, with NumPy's public reader.

    Format 3.0 differs from 2.0 only in the header's encoding (UTF-8 instead of latin-1, for the
    field names of structured dtypes): its ASCII headers read the same with the 2.0 reader, and
    a structured dtype, whose names a latin-1 reading could garble, is refused anyway.
    """
    fmt = np.lib.format
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the "created on Python 2" UserWarning
            version = fmt.read_magic(fp)
            if version == (1, 0):
                shape, fortran, dtype = fmt.read_array_header_1_0(fp)
            elif version in ((2, 0), (3, 0)):
                shape, fortran, dtype = fmt.read_array_header_2_0(fp)
            else:
                raise ValueError(f"unknown format version {version[0]}.{version[1]}")
            dtype = np.dtype(dtype)
    except (zipfile.BadZipFile, zlib.error):  # from an .npz member's stream: the caller says
        raise
    except Exception as err:  # only NumPy's reader runs here: whatever it raises is damage
        raise CLIError(f"{path}: not a readable .npy array ({_one_line(err)}).") from None
    dims = tuple(int(s) for s in shape)
    if any(d < 0 for d in dims):
        raise CLIError(
            f"{path}: not a readable .npy array (its header announces shape {dims}, with a "
            "negative dimension)."
        )
    if math.prod(dims) * max(dtype.itemsize, 1) >= 2**62:
        raise CLIError(
            f"{path}: not a readable .npy array (its header announces shape {dims} of "
            f"{dtype}, more data than a file can hold)."
        )
    return dims, bool(fortran), dtype


#: The widest row read: the loss needs a whole row (every class) in memory at once, in float64
#: with the library's intermediates, so a row of 2**23 values already takes about 1 GB.
MAX_ROW_VALUES = 2**23


def _check_shape(path: str, what: str, shape: tuple[int, ...]) -> None:
    if len(shape) not in (1, 2):
        raise CLIError(
            f"{path}: {what} must be 1-d (one value per row) or 2-d (rows x columns); got shape "
            f"{shape}. Reshape it, e.g. to (-1, {shape[-1] if shape else 1})."
        )
    if len(shape) == 2 and shape[1] > MAX_ROW_VALUES:
        raise CLIError(
            f"{path}: {what} has {shape[1]} columns; rows of more than {MAX_ROW_VALUES} values "
            "do not fit the memory bound of a chunk."
        )


class _MappedArray:
    """A memory-mapped array region of a file whose consumed pages are released.

    ``end`` is where the bytes that may hold the array end: the file's size for a .npy, the
    member's end for a stored .npz member, whose CRC-32 (``crc``: the expected value and the
    CRC of the member's bytes before the array data) is then checked as the rows are read, as
    ``np.load`` checks it.
    """

    def __init__(
        self,
        path: str,
        offset: int,
        shape: tuple[int, ...],
        fortran: bool,
        dtype: np.dtype[Any],
        what: str,
        end: int | None = None,
        crc: tuple[int, int] | None = None,
    ) -> None:
        _check_numeric_dtype(path, what, dtype)
        _check_shape(path, what, shape)
        self.path, self.shape, self.dtype, self.fortran = path, shape, dtype, fortran
        self.what = what
        self.offset = offset
        self.pos = 0
        self._f = open(path, "rb")  # noqa: SIM115 - closed in close()
        self._mm: mmap.mmap | None = None
        self.nbytes = nbytes = math.prod(shape) * dtype.itemsize
        size = os.fstat(self._f.fileno()).st_size
        if end is None:
            if offset + nbytes > size:
                self._f.close()
                raise CLIError(
                    f"{path}: the file is truncated ({size} bytes; the header announces "
                    f"{offset + nbytes})."
                )
            end = size
        elif offset + nbytes > end or end > size:
            self._f.close()
            raise CLIError(
                f"{path}: {what} is damaged: the member holds {max(end - offset, 0)} bytes of "
                f"array data, but its header announces {nbytes} (np.load refuses it too)."
            )
        self._end = end
        self._crc = crc
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
        if crc is not None and self.shape[0] == 0:
            self._finish_crc(crc[1])

    def _crc_of(self, lo: int, hi: int, value: int) -> int:
        """``value`` extended by the CRC-32 of the file's bytes [lo, hi), page-released."""
        step = 2**22
        for a in range(lo, hi, step):
            b = min(a + step, hi)
            if self._mm is not None:
                view = memoryview(self._mm)[a:b]
                try:
                    value = zlib.crc32(view, value)
                finally:
                    view.release()
            else:
                self._f.seek(a)
                value = zlib.crc32(self._f.read(b - a), value)
        return value

    def _finish_crc(self, value: int) -> None:
        """Add the bytes after the last row (the member's tail) and compare the CRC-32."""
        assert self._crc is not None
        if self.fortran and len(self.shape) == 2:  # columns, not rows, are contiguous
            value = self._crc_of(self.offset, self.offset + self.nbytes, value)
            self._release_all()
        value = self._crc_of(self.offset + self.nbytes, self._end, value)
        if value != self._crc[0]:
            raise CLIError(
                f"{self.path}: {self.what} is damaged: its CRC-32 does not match (np.load "
                "refuses it too)."
            )

    def _release_all(self) -> None:
        mm = self._mm
        advice = getattr(mmap, "MADV_DONTNEED", None)
        if mm is not None and advice is not None and hasattr(mm, "madvise"):
            start = (self.offset // _PAGE) * _PAGE
            stop = min(-(-(self.offset + self.nbytes) // _PAGE) * _PAGE, len(mm))
            if stop > start:
                mm.madvise(advice, start, stop - start)

    @property
    def n_rows(self) -> int:
        return self.shape[0]

    def read(self, n: int) -> Any:
        a, b = self.pos, min(self.pos + n, self.shape[0])
        out = np.array(self.arr[a:b], copy=True)
        self.pos = b
        if self._crc is not None and b > a:
            running = self._crc[1]
            if not (self.fortran and len(self.shape) == 2):
                row = self.nbytes // self.shape[0]
                running = self._crc_of(self.offset + a * row, self.offset + b * row, running)
                self._crc = (self._crc[0], running)
            if b == self.shape[0]:
                self._finish_crc(running)
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


#: What zipfile and its decompressors raise on a damaged archive or member: a bad CRC or
#: header (BadZipFile), a corrupt deflate stream (zlib.error), a truncated stream (EOFError),
#: an unknown compression method or flag (NotImplementedError), an encrypted member
#: (RuntimeError), a bad lzma or bz2 stream (LZMAError, OSError).
_ZIP_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,
    RuntimeError,
    OSError,
    ValueError,
    OverflowError,
    struct.error,
)
try:
    import lzma

    _ZIP_ERRORS = (*_ZIP_ERRORS, lzma.LZMAError)
except ImportError:  # pragma: no cover - Python built without lzma
    pass


def _zip_damage(path: str, what: str, err: BaseException) -> CLIError:
    return CLIError(f"{path}: {what} cannot be read, the .npz is damaged ({_one_line(err)}).")


def _open_zip(path: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except _ZIP_ERRORS as err:
        raise CLIError(f"{path}: not a readable .npz file ({_one_line(err)}).") from None


class _StreamedArray:
    """An array decompressed sequentially from a compressed .npz member (its CRC-32 checked
    when the last row has been read)."""

    def __init__(self, zf: zipfile.ZipFile, member: str, path: str, what: str) -> None:
        self.path, self.what = path, what
        try:
            self._fp = zf.open(member)
        except _ZIP_ERRORS as err:
            raise _zip_damage(path, what, err) from None
        try:
            shape, _, dtype = self._header(member)
        except BaseException:
            self._fp.close()
            raise
        self.shape, self.dtype = shape, dtype
        self.pos = 0
        self._row_items = math.prod(shape[1:])

    def _header(self, member: str) -> tuple[tuple[int, ...], bool, np.dtype[Any]]:
        path, what = self.path, self.what
        try:
            shape, fortran, dtype = _read_npy_header(self._fp, f"{path}[{member}]")  # type: ignore[arg-type]
        except _ZIP_ERRORS as err:
            raise _zip_damage(path, what, err) from None
        _check_numeric_dtype(path, what, dtype)
        _check_shape(path, what, shape)
        if fortran and len(shape) > 1:
            raise CLIError(
                f"{path}: {what} is a Fortran-ordered array in a compressed .npz, which cannot be "
                "streamed; save it with np.savez (uncompressed) or pass np.ascontiguousarray(...)."
            )
        return shape, fortran, dtype

    @property
    def n_rows(self) -> int:
        return self.shape[0]

    def read(self, n: int) -> Any:
        r = min(n, self.shape[0] - self.pos)
        nbytes = r * self._row_items * self.dtype.itemsize
        try:
            buf = self._fp.read(nbytes)
            if len(buf) == nbytes and self.pos + r == self.shape[0]:
                # read to the member's end: zipfile checks the CRC-32 there
                while self._fp.read(2**16):
                    pass
        except _ZIP_ERRORS as err:
            raise _zip_damage(self.path, self.what, err) from None
        if len(buf) != nbytes:
            raise CLIError(
                f"{self.path}: {self.what} ends early: the member holds fewer rows than its "
                f"header announces ({self.shape[0]}), the .npz is damaged or truncated."
            )
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

    def row_width(self, role: str) -> int:
        return math.prod(self.shape[1:])

    def close(self) -> None:
        self._arr.close()


def _stored_member(
    zf: zipfile.ZipFile, path: str, info: zipfile.ZipInfo, what: str
) -> tuple[tuple[int, ...], bool, np.dtype[Any], int, int, int]:
    """(shape, fortran, dtype, data offset, member end, CRC-32 of the .npy header) of a stored
    (uncompressed) member, checked as zipfile checks it when np.load opens the member."""
    try:
        with zf.open(info) as fp:  # the local header, name, flags and encryption
            shape, fortran, dtype = _read_npy_header(fp, f"{path}[{info.filename}]")  # type: ignore[arg-type]
            header_len = fp.tell()
        with open(path, "rb") as f:
            f.seek(info.header_offset)
            head = f.read(30)
            if len(head) != 30 or head[:4] != b"PK\x03\x04":
                raise zipfile.BadZipFile(f"bad local header for {info.filename}")
            name_len, extra_len = struct.unpack("<HH", head[26:30])
            start = int(info.header_offset) + 30 + int(name_len) + int(extra_len)
            f.seek(start)
            header_crc = zlib.crc32(f.read(header_len))
    except _ZIP_ERRORS as err:
        raise _zip_damage(path, what, err) from None
    if info.compress_size != info.file_size:
        raise CLIError(
            f"{path}: {what} cannot be read, the .npz is damaged (a stored member of "
            f"{info.compress_size} bytes announces {info.file_size} when uncompressed)."
        )
    return shape, fortran, dtype, start + header_len, start + info.compress_size, header_crc


class NpzReader(Reader):
    """Members of an .npz: memory-mapped when stored, streamed when compressed."""

    def __init__(self, spec: FileSpec) -> None:
        _check_exists(spec.path)
        self.path = spec.path
        self.roles = tuple(r for r, _ in spec.roles)
        self.keys = dict(spec.roles)
        self._zf = _open_zip(spec.path)
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
                    shape, fortran, dtype, offset, end, hcrc = _stored_member(
                        self._zf, spec.path, info, what
                    )
                    self._arrays[role] = _MappedArray(
                        spec.path, offset, shape, fortran, dtype, what, end, (info.CRC, hcrc)
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

    def row_width(self, role: str) -> int:
        return math.prod(self._arrays[role].shape[1:])

    def close(self) -> None:
        for a in getattr(self, "_arrays", {}).values():
            a.close()
        self._zf.close()


#: Column names that mean "no name": pandas' ``DataFrame.to_csv()`` writes its index under an
#: empty name, and reading such a file back with pandas names it ``Unnamed: 0``.
_UNNAMED = re.compile(r"(Unnamed: \d+)?")


def is_unnamed(name: str) -> bool:
    """Whether a column name is empty (or pandas' ``Unnamed: N`` for an empty name)."""
    return _UNNAMED.fullmatch(name) is not None


def _split_line(path: str, line: str, delim: str, lineno: int) -> list[str]:
    """The fields of one line (the csv module's rules where the line has quotes)."""
    if '"' not in line:
        return line.rstrip("\r\n").split(delim)
    try:
        return next(csv.reader([line], delimiter=delim))
    except csv.Error as err:
        raise CLIError(f"{path}: line {lineno}: not a valid CSV line ({err}).") from None
    except StopIteration:  # pragma: no cover - a non-blank line has a field
        return []


def open_text(path: str) -> Any:
    """A text file (UTF-8; a byte-order mark dropped), gunzipped as a stream for ``.gz``."""
    if path.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


#: What reading a damaged gzip stream raises (BadGzipFile is an OSError).
GZIP_ERRORS = (OSError, EOFError, zlib.error)


def gzip_damage(path: str, err: BaseException) -> CLIError:
    what = "it ends early" if isinstance(err, EOFError) else _one_line(err)
    return CLIError(f"{path}: not a readable gzip file ({what}).")


T = TypeVar("T")


def nonblank_lines(
    path: str, f: Any, n: int, line: int, convert: Callable[[str, int], T]
) -> tuple[list[T], list[int], int, int]:
    """Up to ``n`` non-blank lines of the text stream ``f``, each passed to ``convert(text,
    number)`` as it is read: ``(items, their 1-based line numbers, the last line number read,
    the characters read)``. ``line`` is the number of lines read before. A line that is not
    UTF-8 or a damaged gzip stream is a one-line error naming the file (and the line)."""
    items: list[T] = []
    numbers: list[int] = []
    nchars = 0
    try:
        while len(items) < n:
            batch = list(islice(f, n - len(items)))
            if not batch:
                break
            for text in batch:
                line += 1
                nchars += len(text)
                if text.strip():
                    items.append(convert(text, line))
                    numbers.append(line)
    except UnicodeDecodeError:
        raise CLIError(
            f"{path}: line {line + 1}: not UTF-8 text; save the file as UTF-8."
        ) from None
    except GZIP_ERRORS as err:
        raise gzip_damage(path, err) from None
    return items, numbers, line, nchars


def _first_lines(path: str, count: int) -> list[tuple[int, str]]:
    """Up to ``count`` non-blank lines of a text file, with their 1-based numbers."""
    out: list[tuple[int, str]] = []
    try:
        # utf-8-sig: a byte-order mark is not part of the first cell
        with open_text(path) as f:
            for number, line in enumerate(f, 1):
                if line.strip():
                    out.append((number, line))
                    if len(out) == count:
                        break
    except UnicodeDecodeError:
        raise CLIError(f"{path}: not a text file (could not decode it as UTF-8).") from None
    except GZIP_ERRORS as err:
        raise gzip_damage(path, err) from None
    return out


def _csv_header(path: str) -> tuple[list[str], bool, str]:
    """Column names (``0, 1, ...`` without a header line), whether there is a header, and the
    delimiter (tab for .tsv, else comma)."""
    delim = "\t" if path.lower().endswith((".tsv", ".tsv.gz")) else ","
    first = _first_lines(path, 1)
    if not first:
        raise CLIError(f"{path}: the file is empty.")
    number, line = first[0]
    cells = _split_line(path, line, delim, number)
    try:
        [float(c) for c in cells]
    except ValueError:
        names = [c.strip() for c in cells]
        _check_unique(path, names)
        return names, True, delim
    return [str(i) for i in range(len(cells))], False, delim


def _check_unique(path: str, names: list[str]) -> None:
    """Every column name once: a selector names a column, so two of one name are ambiguous."""
    seen: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        seen.setdefault(name, []).append(i)
    for name, where in seen.items():
        if len(where) > 1:
            shown = ", ".join(str(i) for i in where[:10])
            raise CLIError(
                f"{path}: {len(where)} columns are named {name!r} (columns {shown}, counting from "
                "0); give every column a unique name."
            )


def csv_index_column(path: str, count: int = 1000) -> bool:
    """Whether the first column of a header-less text file holds the row numbers 0, 1, 2, ...
    (at least 3 rows), as pandas' ``DataFrame.to_csv(header=False)`` writes its index."""
    delim = "\t" if path.lower().endswith((".tsv", ".tsv.gz")) else ","
    lines = _first_lines(path, count)
    if len(lines) < 3:
        return False
    for i, (number, line) in enumerate(lines):
        cell = _split_line(path, line, delim, number)[0].strip()
        try:
            if float(cell) != i:
                return False
        except ValueError:
            return False
    return True


class CsvReader(Reader):
    """Rows of a .csv/.tsv file, parsed chunk by chunk (float64); every row must have as many
    fields as the header (or the first line), so that a stray delimiter (a decimal comma) is
    an error, not a shift of the columns."""

    def __init__(self, spec: FileSpec) -> None:
        _check_exists(spec.path)
        self.path = spec.path
        self.spec = spec
        self.roles = tuple(r for r, _ in spec.roles)
        self.names, header, self.delim = _csv_header(spec.path)
        self.header = header
        index = {name: i for i, name in enumerate(self.names)}
        self.cols: dict[str, list[int]] = {}
        self.two_d: dict[str, bool] = {}
        for role, sel in spec.roles:
            self.cols[role] = [index[c] for c in sel]
            self.two_d[role] = len(sel) > 1
        self.usecols = sorted({c for cols in self.cols.values() for c in cols})
        self._pos_in_use = {c: i for i, c in enumerate(self.usecols)}
        self.n_rows = None
        self._f = open_text(spec.path)
        self._line = 0
        self._row = 0
        self._chunk_row0 = 0
        self._chunk_lines: list[int] = []
        if header:
            try:
                for line in self._f:
                    self._line += 1
                    if line.strip():
                        break
            except GZIP_ERRORS as err:
                raise gzip_damage(spec.path, err) from None
        self.bytes_read = 0

    def _next_lines(self, n: int) -> tuple[list[str], list[int]]:
        lines, numbers, self._line, nbytes = nonblank_lines(
            self.path, self._f, n, self._line, lambda line, _: line
        )
        self.bytes_read += nbytes
        return lines, numbers

    def _check_fields(self, lines: list[str], numbers: list[int]) -> None:
        """Every row has exactly as many fields as there are columns."""
        want = len(self.names)
        d = self.delim
        for i, line in enumerate(lines):
            if '"' in line:
                got = len(_split_line(self.path, line, d, numbers[i]))
            else:
                got = line.count(d) + 1
            if got != want:
                first = "the header has" if self.header else "the first line has"
                hint = (
                    " (a decimal comma? numbers need a '.' as the decimal separator, or quotes)"
                    if got > want and d == ","
                    else ""
                )
                raise CLIError(
                    f"{self.path}: {self.row_name(self._chunk_row0 + i)}: {got} fields, but "
                    f"{first} {want}{hint}."
                )

    def read(self, n: int) -> dict[str, Any]:
        lines, numbers = self._next_lines(n)
        self._chunk_row0 = self._row
        self._chunk_lines = numbers
        self._row += len(lines)
        self._check_fields(lines, numbers)
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
                data = self._with_label_names(lines, err)
        out = {}
        for role in self.roles:
            idx = [self._pos_in_use[c] for c in self.cols[role]]
            arr = data[:, idx]
            out[role] = arr if self.two_d[role] else arr[:, 0]
        return out

    def _with_label_names(self, lines: list[str], err: ValueError) -> Any:
        """The chunk parsed with its label cells read as class names (or numbers); any other
        cell that is not a number is an error naming it."""
        label_cols = set(self.cols.get("labels", []))
        others = [c for c in self.usecols if c not in label_cols]
        if not label_cols or self.spec.label_names is None:  # no names to map them to
            self._raise_bad_cell(lines, err)
        data = np.zeros((len(lines), len(self.usecols)))
        if others:
            try:
                part = np.loadtxt(
                    lines,
                    delimiter=self.delim,
                    usecols=others,
                    dtype=np.float64,
                    ndmin=2,
                    comments=None,
                    quotechar='"',
                )
            except ValueError as err2:
                self._raise_bad_cell(lines, err2)
            for k, c in enumerate(others):
                data[:, self._pos_in_use[c]] = part[:, k]
        rows = [
            _split_line(self.path, line, self.delim, self._chunk_lines[i])
            for i, line in enumerate(lines)
        ]
        for c in sorted(label_cols):
            data[:, self._pos_in_use[c]] = label_ids(
                [r[c] for r in rows],
                self.spec,
                lambda i: self.row_name(self._chunk_row0 + i),
                f"column {self.names[c]!r}",
            )
        return data

    def _raise_bad_cell(self, lines: list[str], err: ValueError) -> NoReturn:
        for i, line in enumerate(lines):
            row = self._chunk_row0 + i
            fields = _split_line(self.path, line, self.delim, self._chunk_lines[i])
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

    def row_width(self, role: str) -> int:
        return len(self.cols[role])

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
        _pyarrow_parquet(spec.path)
        import pyarrow as pa

        self._pa = pa
        self.path = spec.path
        self.roles = tuple(r for r, _ in spec.roles)
        self.cols = {role: tuple(sel) for role, sel in spec.roles}
        self._pf, schema, self.n_rows = self._open_file(spec.path)
        _check_unique(spec.path, list(schema.names))
        for c in (c for cols in self.cols.values() for c in cols):
            if schema.get_field_index(c) < 0:
                raise CLIError(f"{spec.path}: no column {c!r}.")
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
        self._check_physical_types()
        self._batches: Iterator[Any] | None = None
        self._buffer: list[Any] = []
        self._buffered = 0
        self._row = 0
        self._widths: dict[str, int] = {}

    KIND = "Parquet"

    def _open_file(self, path: str) -> tuple[Any, Any, int | None]:
        """The file, its Arrow schema and its rows."""
        pq = _pyarrow_parquet(path)
        try:
            # Streamed column chunks (no pre-buffering of whole row groups): memory then grows
            # with the number of columns read (their pages), not with the rows of a row group.
            pf = pq.ParquetFile(path, pre_buffer=False, buffer_size=2**16)
        except Exception as err:
            raise CLIError(f"{path}: not a readable Parquet file ({_one_line(err)}).") from None
        try:
            return pf, pf.schema_arrow, int(pf.metadata.num_rows)
        except Exception as err:
            raise CLIError(f"{path}: not a readable Parquet file ({_one_line(err)}).") from None

    def _check_physical_types(self) -> None:
        """Every column chunk stores the physical type the schema announces. pyarrow checks
        this when it reads whole row groups, but its buffered stream (what keeps the memory
        bounded here) reinterprets the bytes: a damaged footer would then give other numbers."""
        try:
            meta = self._pf.metadata
            leaves = [
                j
                for j in range(meta.num_columns)
                if meta.schema.column(j).path.split(".")[0] in self._needed
            ]
            expected = {j: meta.schema.column(j).physical_type for j in leaves}
            for g in range(meta.num_row_groups):
                # First the path that raises on damaged column metadata (one page per column):
                # RowGroupMetaData.column aborts the process on it instead (pyarrow 26).
                next(
                    self._pf.iter_batches(
                        batch_size=1, row_groups=[g], columns=self._needed, use_threads=False
                    ),
                    None,
                )
                group = meta.row_group(g)
                for j in leaves:
                    got = group.column(j).physical_type
                    if got != expected[j]:
                        raise CLIError(
                            f"{self.path}: not a readable Parquet file (row group {g}, column "
                            f"{meta.schema.column(j).path!r}: its chunk stores {got}, the schema "
                            f"announces {expected[j]})."
                        )
        except CLIError:
            raise
        except Exception as err:  # pyarrow's own errors on a damaged footer
            raise CLIError(
                f"{self.path}: not a readable Parquet file ({_one_line(err)})."
            ) from None

    def _iter(self, n: int) -> Iterator[Any]:
        if self._batches is None:
            self._batches = self._pf.iter_batches(
                batch_size=max(n, 1), columns=self._needed, use_threads=False
            )
        return self._batches

    def read(self, n: int) -> dict[str, Any]:
        pa = self._pa
        try:
            it = self._iter(n)
            while self._buffered < n:
                try:
                    batch = next(it)
                except StopIteration:
                    break
                self._buffer.append(batch)
                self._buffered += batch.num_rows
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
        except (pa.lib.ArrowException, OSError) as err:
            # a damaged page or row group (pyarrow checks what it decodes); not a CLIError
            raise CLIError(
                f"{self.path}: rows from {self._row} cannot be read, the {self.KIND} file is "
                f"damaged ({_one_line(err)})."
            ) from None

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
        if k > MAX_ROW_VALUES:
            raise CLIError(
                f"{self.path}: column {c!r} holds lists of {k} values; rows of more than "
                f"{MAX_ROW_VALUES} values do not fit the memory bound of a chunk."
            )
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

    def row_width(self, role: str) -> int:
        """The number of columns, or for a list column the length of its first list (read
        from the first row alone, apart from the rows' stream)."""
        if not self._list[role]:
            return len(self.cols[role])
        if role not in self._widths:
            c = self.cols[role][0]
            try:
                first = next(
                    self._pf.iter_batches(batch_size=1, columns=[c], use_threads=False), None
                )
            except (self._pa.lib.ArrowException, OSError) as err:
                raise CLIError(
                    f"{self.path}: not a readable {self.KIND} file ({_one_line(err)})."
                ) from None
            value = None if first is None or first.num_rows == 0 else first.column(0)[0]
            items = value.values if value is not None and value.is_valid else None
            self._widths[role] = 1 if items is None else max(len(items), 1)
        return self._widths[role]

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


# --------------------------------------------------------------------------------------------
# JSON Lines (.jsonl, one object per line) and JSON (.json, read whole)


def _json_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _loads(text: str) -> Any:
    """Strict JSON (``NaN`` and ``Infinity`` refused)."""
    return json.loads(text, parse_constant=_json_constant)


@functools.lru_cache(maxsize=4)
def _json_document(path: str, mtime: int, size: int) -> list[dict[str, Any]]:
    """A .json file's records: a list of objects, or an object of equal-length arrays."""
    try:
        with open_text(path) as f:
            doc = _loads(f.read())
    except UnicodeDecodeError:
        raise CLIError(f"{path}: not a text file (could not decode it as UTF-8).") from None
    except ValueError as err:
        raise CLIError(f"{path}: not valid JSON ({_one_line(err)}).") from None
    if isinstance(doc, dict):
        lengths = {k: len(v) for k, v in doc.items() if isinstance(v, list)}
        if len(lengths) != len(doc) or len(set(lengths.values())) > 1:
            raise CLIError(
                f"{path}: a JSON object must map each key to an array of one value per row, all "
                f"of one length; got lengths {lengths}."
            )
        keys = list(doc)
        return [dict(zip(keys, vals, strict=True)) for vals in zip(*doc.values(), strict=True)]
    if not isinstance(doc, list) or not all(isinstance(r, dict) for r in doc):
        raise CLIError(
            f"{path}: expected a JSON array of objects (one per row) or an object of arrays."
        )
    return doc


def _json_records(path: str) -> list[dict[str, Any]]:
    st = os.stat(path)
    return _json_document(path, st.st_mtime_ns, st.st_size)


def _first_json_record(path: str, fmt: str) -> tuple[dict[str, Any], int]:
    """The first record and its line number (0 for .json)."""
    if fmt == "json":
        records = _json_records(path)
        if not records:
            raise CLIError(f"{path}: the file holds no rows.")
        return records[0], 0
    first = _first_lines(path, 1)
    if not first:
        raise CLIError(f"{path}: the file is empty.")
    number, line = first[0]
    return _parse_record(path, line, number), number


def _parse_record(path: str, line: str, number: int) -> dict[str, Any]:
    try:
        obj = _loads(line)
    except ValueError as err:
        raise CLIError(f"{path}: line {number}: not valid JSON ({_one_line(err)}).") from None
    if not isinstance(obj, dict):
        raise CLIError(f"{path}: line {number}: expected a JSON object, got {type(obj).__name__}.")
    return obj


class JsonlReader(Reader):
    """Rows of a .jsonl file (one JSON object per line, e.g. ``{"label": 3, "logits": [...]}``),
    parsed chunk by chunk; each role is one key, holding a number or a list of numbers."""

    def __init__(self, spec: FileSpec) -> None:
        _check_exists(spec.path)
        self.path = spec.path
        self.spec = spec
        self.roles = tuple(r for r, _ in spec.roles)
        self.keys = {role: str(sel) for role, sel in spec.roles}
        self.n_rows = None
        self._row = 0
        self._chunk_row0 = 0
        self._chunk_lines: list[int] = []
        first, _ = _first_json_record(spec.path, self._fmt())
        self._shape: dict[str, tuple[int, ...]] = {}
        for role, key in self.keys.items():
            if key not in first:
                raise CLIError(f"{spec.path}: no key {key!r}; the keys are: {', '.join(first)}.")
            v = first[key]
            self._shape[role] = (len(v),) if isinstance(v, list) else ()
        self._open()

    def _fmt(self) -> str:
        return "jsonl"

    def _open(self) -> None:
        self._f = open_text(self.path)
        self._line = 0

    def _records(self, n: int) -> tuple[list[dict[str, Any]], list[int]]:
        records, numbers, self._line, _ = nonblank_lines(
            self.path, self._f, n, self._line, lambda line, k: _parse_record(self.path, line, k)
        )
        return records, numbers

    def read(self, n: int) -> dict[str, Any]:
        records, numbers = self._records(n)
        self._chunk_row0 = self._row
        self._chunk_lines = numbers
        self._row += len(records)
        return {role: self._column(role, records) for role in self.roles}

    def _column(self, role: str, records: list[dict[str, Any]]) -> Any:
        key, shape = self.keys[role], self._shape[role]
        values = []
        for i, rec in enumerate(records):
            if key not in rec:
                raise CLIError(
                    f"{self.path}: {self.row_name(self._chunk_row0 + i)}: no key {key!r}."
                )
            v = rec[key]
            got_shape = (len(v),) if isinstance(v, list) else ()
            if got_shape != shape:
                got = f"a list of {len(v)}" if isinstance(v, list) else "one value"
                want = f"a list of {shape[0]}" if shape else "one value"
                raise CLIError(
                    f"{self.path}: {self.row_name(self._chunk_row0 + i)}, key {key!r}: {got}, but "
                    f"the first row has {want}."
                )
            values.append(v)
        if not values:
            return np.zeros((0, *shape))
        if role == "labels" and not shape and any(isinstance(v, str) for v in values):
            return np.array(
                label_ids(
                    values,
                    self.spec,
                    lambda i: self.row_name(self._chunk_row0 + i),
                    f"key {key!r}",
                )
            )
        for i, v in enumerate(values):
            items = v if isinstance(v, list) else [v]
            for j, x in enumerate(items):
                if not isinstance(x, (int, float)):  # bool is an int
                    what = "null" if x is None else f"{json.dumps(x)[:40]}"
                    col = f"key {key!r}" + (f"[{j}]" if shape else "")
                    raise CLIError(
                        f"{self.path}: {self.row_name(self._chunk_row0 + i)}, {col}: expected a "
                        f"number, got {what}."
                    )
        try:
            arr = np.array(values)
        except OverflowError:  # an integer beyond 64 bits
            arr = np.array(values, dtype=np.float64)
        if arr.dtype.kind not in "biuf":
            arr = arr.astype(np.float64)
        return arr

    def dtype(self, role: str) -> np.dtype[Any]:
        return np.dtype(np.float64)

    def tolerance_dtype(self, role: str) -> np.dtype[Any]:
        return np.dtype(np.float32)  # text has no dtype, as for CSV

    def column_name(self, role: str, j: int | None) -> str:
        return f"key {self.keys[role]!r}" + ("" if j is None or not self._shape[role] else f"[{j}]")

    def row_width(self, role: str) -> int:
        shape = self._shape[role]
        return shape[0] if shape else 1

    def row_name(self, row: int) -> str:
        i = row - self._chunk_row0
        if 0 <= i < len(self._chunk_lines) and self._chunk_lines[i]:
            return f"row {row} (line {self._chunk_lines[i]})"
        return f"row {row}"

    def close(self) -> None:
        f = getattr(self, "_f", None)
        if f is not None:
            f.close()


class JsonReader(JsonlReader):
    """Rows of a .json file: an array of objects, or an object of arrays. A JSON document
    cannot be parsed in pieces by the standard library, so it is read whole."""

    def _fmt(self) -> str:
        return "json"

    def _open(self) -> None:
        self._all = _json_records(self.path)
        self.n_rows = len(self._all)
        self._pos = 0

    def _records(self, n: int) -> tuple[list[dict[str, Any]], list[int]]:
        out = self._all[self._pos : self._pos + n]
        self._pos += len(out)
        return out, [0] * len(out)


# --------------------------------------------------------------------------------------------
# Arrow IPC / Feather


class _IpcFile:
    """The part of ``pyarrow.parquet.ParquetFile``'s interface that ParquetReader uses, over an
    Arrow IPC file (Feather v2) or stream, memory-mapped."""

    def __init__(self, path: str) -> None:
        import pyarrow as pa

        self._pa = pa
        self._path = path
        self._others: list[Any] = []
        self._source = pa.memory_map(path, "r")
        head = self._source.read(8)
        self._source.seek(0)
        # By the magic bytes: an IPC file starts with "ARROW1", a stream with the continuation
        # marker 0xFFFFFFFF; anything else (a damaged magic) is refused, not guessed at.
        self._file = head.startswith(b"ARROW1")
        self.num_rows: int | None = None
        if self._file:
            self._reader: Any = pa.ipc.open_file(self._source)
            self.num_rows = sum(
                self._reader.get_batch(i).num_rows for i in range(self._reader.num_record_batches)
            )
        elif head.startswith(b"\xff\xff\xff\xff"):
            self._reader = pa.ipc.open_stream(self._source)
        else:
            raise ValueError("no Arrow IPC file or stream magic bytes at its start")
        self.schema_arrow = self._reader.schema

    def iter_batches(self, batch_size: int, columns: list[str], **_: Any) -> Iterator[Any]:
        if self._file:
            batches: Iterator[Any] = (
                self._reader.get_batch(i) for i in range(self._reader.num_record_batches)
            )
        else:  # a stream is read once: each iteration opens its own
            source = self._pa.memory_map(self._path, "r")
            self._others.append(source)
            batches = iter(self._pa.ipc.open_stream(source))
        for b in batches:
            b = b.select(columns)
            for start in range(0, b.num_rows, max(batch_size, 1)):
                yield b.slice(start, batch_size)

    def close(self) -> None:
        for source in [self._source, *self._others]:
            source.close()


def _arrow_file(path: str) -> _IpcFile:
    _pyarrow_parquet(path)  # the same extra
    _check_exists(path)
    import pyarrow as pa

    try:
        return _IpcFile(path)
    except (pa.lib.ArrowException, OSError, ValueError) as err:
        raise CLIError(f"{path}: not a readable Arrow IPC file ({_one_line(err)}).") from None


class ArrowReader(ParquetReader):
    """Record batches of an Arrow IPC file (``.arrow``, ``.feather``: Feather v2), memory-mapped;
    the conversions and checks of ParquetReader."""

    KIND = "Arrow IPC"

    def _open_file(self, path: str) -> Any:
        f = _arrow_file(path)
        return f, f.schema_arrow, f.num_rows

    def _check_physical_types(self) -> None:
        pass  # Arrow IPC has no physical types apart from the schema's


_READERS: dict[str, type[Reader]] = {
    "npy": NpyReader,
    "npz": NpzReader,
    "csv": CsvReader,
    "parquet": ParquetReader,
    "jsonl": JsonlReader,
    "json": JsonReader,
    "arrow": ArrowReader,
}


def open_reader(spec: FileSpec) -> Reader:
    """Open ``spec.path`` for its roles."""
    cls: Any = _READERS[spec.fmt]
    reader: Reader = cls(spec)
    return reader


def npy_shape(path: str) -> tuple[int, ...]:
    """The shape of a .npy file, from its header (1-d or 2-d, else an error)."""
    _check_exists(path)
    with open(path, "rb") as f:
        shape = _read_npy_header(f, path)[0]
    _check_shape(path, "the array", shape)
    return shape
