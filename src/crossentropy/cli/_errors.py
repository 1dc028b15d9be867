"""User errors of the command line: one line on stderr, exit code 2."""

from __future__ import annotations

__all__ = ["EXTRAS", "CLIError", "missing_extra", "printable"]

#: Which extra of ``pip install crossentropy[...]`` provides each optional module.
EXTRAS = {
    "pyarrow": "parquet",
    "matplotlib": "report",
    "distributed": "dask",
    "dask": "dask",
}


class CLIError(Exception):
    """An error in what the user asked for or passed in (exit code 2, no traceback).

    The message is a single line that names the file, row and column where one is involved.
    It is picklable, so a Dask worker can raise it and the client reports it unchanged.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def missing_extra(module: str, purpose: str) -> CLIError:
    """The error for an optional dependency that is not installed.

    >>> print(missing_extra("pyarrow", "reading preds.parquet"))
    reading preds.parquet needs pyarrow, which is not installed: pip install "crossentropy[parquet]"
    """
    extra = EXTRAS.get(module, "all")
    return CLIError(
        f'{purpose} needs {module}, which is not installed: pip install "crossentropy[{extra}]"'
    )


def printable(text: str) -> str:
    r"""``text`` with every non-printable character (terminal escape sequences, other control
    characters, bidirectional overrides) written as a Python ``repr`` writes it: ``\x1b``.

    File names, .npz keys and class names pass through it before they reach a terminal.

    >>> printable("cat\x1b[2Jdog\tend")
    'cat\\x1b[2Jdog\\tend'
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
