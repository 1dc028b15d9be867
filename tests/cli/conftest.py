"""The ``cli`` fixture: run ``crossentropy.cli.main`` in-process, capture its output."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from cli_data import parse_result

from crossentropy.cli import main


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        """The output parsed as strict JSON (``Infinity`` or ``NaN`` fail the test), with the
        non-finite numbers that ``nonfinite`` records put back."""
        assert self.code == 0, self.err
        return parse_result(self.out)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    """``cli("eval", "preds.npy", ...) -> Run`` (exit code, stdout, stderr)."""

    def run(*argv: Any) -> Run:
        code = main([str(a) for a in argv])
        cap = capsys.readouterr()
        return Run(code, cap.out, cap.err)

    return run
