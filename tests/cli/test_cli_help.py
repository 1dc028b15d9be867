"""The help text against the documentation, the entry points, and what is imported when."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import crossentropy as ce

ROOT = Path(__file__).resolve().parents[2]
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9]*(?:-[a-z0-9]+)*")


def documented_flags(path: Path) -> set[str]:
    """Flags mentioned in a document, except on command lines of other tools (``$ dask ...``)."""
    flags = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if re.match(r"\s*\$ dask\b", line):
            continue
        flags.update(FLAG.findall(line))
    return flags


def help_text(cli: Any) -> str:
    top = cli("--help")
    ev = cli("eval", "--help")
    cp = cli("compare", "--help")
    assert top.code == 0
    assert ev.code == 0
    assert cp.code == 0
    return top.out + ev.out + cp.out


def test_every_flag_in_docs_exists_in_help(cli: Any) -> None:
    text = help_text(cli)
    flags = documented_flags(ROOT / "docs" / "cli.md")
    assert {"--labels", "--from-logits", "--json", "--dask", "--example", "--report"} <= flags
    missing = sorted(f for f in flags if f not in text)
    assert not missing, f"documented in docs/cli.md but not in --help: {missing}"


def test_every_flag_in_readme_exists_in_help(cli: Any) -> None:
    readme = ROOT / "README.md"
    if not readme.exists():  # pragma: no cover - the sdist ships it
        pytest.skip("no README.md")
    commands = [
        ln
        for ln in readme.read_text(encoding="utf-8").splitlines()
        if "crossentropy eval" in ln or "-m crossentropy" in ln or "crossentropy --" in ln
    ]
    text = help_text(cli)
    missing = sorted(
        {f for ln in commands for f in FLAG.findall(ln)} - {"--help"} - set(FLAG.findall(text))
    )
    assert not missing, f"used in README.md but not in --help: {missing}"


def test_every_help_flag_is_documented(cli: Any) -> None:
    documented = documented_flags(ROOT / "docs" / "cli.md")
    for command in ("eval", "compare"):
        in_help = set(FLAG.findall(cli(command, "--help").out)) - {"--help"}
        assert not sorted(in_help - documented), f"in {command} --help but not in docs/cli.md"


def test_loss_choices_documented(cli: Any) -> None:
    text = cli("eval", "--help").out
    for kind in ("auto", "binary", "multilabel", "categorical", "sparse"):
        assert kind in text
        assert f"`{kind}`" in (ROOT / "docs" / "cli.md").read_text()


def test_version(cli: Any) -> None:
    run = cli("--version")
    assert run.code == 0
    assert run.out.strip() == f"crossentropy {ce.__version__}"


def test_python_dash_m(tmp_path: Any) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "crossentropy", "eval", "--help"], capture_output=True, text=True
    )
    assert proc.returncode == 0
    assert "--from-logits" in proc.stdout
    proc = subprocess.run(
        [sys.executable, "-m", "crossentropy", "eval", "nope.npy"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stderr == "crossentropy: error: nope.npy: no such file (predictions).\n"


def test_example_runs_with_the_base_install_only() -> None:
    """The README's first command: no pyarrow, matplotlib or dask needed, no network."""
    script = (
        "import sys\n"
        "for m in ('pyarrow', 'pyarrow.parquet', 'matplotlib', 'distributed', 'dask'):\n"
        "    sys.modules[m] = None\n"
        "from crossentropy.cli import main\n"
        "sys.exit(main(['eval', '--example', '--json']))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["n"] == 2000


def test_import_crossentropy_imports_no_cli_or_extras() -> None:
    script = (
        "import sys, crossentropy\n"
        "bad = [m for m in ('crossentropy.cli', 'rich', 'pyarrow', 'matplotlib', 'distributed',"
        " 'dask') if m in sys.modules]\n"
        "print(bad)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert proc.stdout.strip() == "[]"


def test_eval_imports_extras_only_when_needed() -> None:
    script = (
        "import sys, io, contextlib\n"
        "from crossentropy.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(['eval', '--example']) == 0\n"
        "print([m for m in ('pyarrow', 'matplotlib', 'distributed', 'dask') if m in sys.modules])\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert proc.stdout.strip() == "[]"


def test_progress_bar_goes_to_stderr_only(cli: Any) -> None:
    run = cli("eval", "--example", "--json", "--progress", "--chunk-rows", "100")
    assert run.code == 0
    assert json.loads(run.out)["n"] == 2000  # stdout stays clean JSON
    assert "evaluating" in run.err
    quiet = cli("eval", "--example", "--json")  # captured stderr is not a terminal
    assert quiet.err == ""
