"""Every code example in ``README.md`` and ``docs/*.md`` runs as printed and shows what it prints.

The pages follow these conventions, and this module enforces them:

- A fenced block names its kind: ``python``, ``pycon``, ``console`` or ``text``. A bare or indented
  fence is an error (it would be neither run nor visibly exempt).
- ``pycon`` is a doctest session: ``>>>`` and ``...`` lines with the output they print, compared
  exactly up to runs of whitespace (doctest's ``NORMALIZE_WHITESPACE``; no ``NUMBER``, no
  ``ELLIPSIS``), so a wrong digit fails.
- ``python`` is code that runs as it is and must not raise; it shows no output (a block that shows
  values is ``pycon``), so it holds no ``>>>``.
- The ``python`` and ``pycon`` blocks of a page run in order in one namespace, as in a notebook.
- ``<!-- requires: torch, jax -->`` on the line above a block: the block is skipped, saying why,
  when one of those modules cannot be imported. It runs in a copy of the namespace, so no later
  block depends on it.
- ``console`` holds ``$ command`` lines (a trailing ``\\`` continues one) and their output. A
  command shown with output must be one this module can run (``crossentropy ...``,
  ``python -m crossentropy ...``, ``python examples/...``): it runs in a subprocess from the
  repository root and must exit with 0 and print the lines shown, trailing spaces and trailing
  blank lines aside; a line ``...`` stands for any number of lines. A command shown without
  output is not run (nor is a console block without output).
- ``text`` is not run: syntax summaries, error messages, sessions that need a cluster.

The tables of ``docs/frameworks.md`` are computed from its ``python`` blocks and checked by
``tests/conformance/test_frameworks_doc.py``.
"""

from __future__ import annotations

import difflib
import doctest
import importlib.util
import io
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))
KINDS = ("python", "pycon", "console", "text")
FENCE = re.compile(r"^(`{3,})\s*(\S*)")
INDENTED_FENCE = re.compile(r"^\s+```")
REQUIRES = re.compile(r"^<!--\s*requires:\s*(.*?)\s*-->$")
NUMPY2 = np.lib.NumpyVersion(np.__version__) >= "2.0.0"


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # 1-based line of the opening fence
    kind: str
    source: str
    requires: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def parse(page: Path) -> list[Block]:
    """The fenced blocks of ``page``, in order."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        fence, kind = m.group(1), m.group(2)
        end = next((j for j in range(i + 1, len(lines)) if lines[j].rstrip() == fence), None)
        if end is None:
            raise ValueError(f"{page.name}:{i + 1}: the code fence is never closed")
        above = next((lines[j].strip() for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        req = REQUIRES.match(above)
        requires = tuple(re.split(r"[,\s]+", req.group(1))) if req else ()
        source = "".join(line + "\n" for line in lines[i + 1 : end])
        found.append(Block(page, i + 1, kind, source, requires))
        i = end + 1
    return found


# ------------------------------------------------------------------------------ running blocks


def run_pycon(block: Block, ns: dict[str, Any]) -> None:
    """Run a doctest session in ``ns``; fail with doctest's report on any difference."""
    if not NUMPY2:
        pytest.skip("the pages show NumPy 2's reprs (np.float64(...))")
    test = doctest.DocTestParser().get_doctest(
        block.source, ns, block.name, str(block.page), block.line
    )
    if not test.examples:
        pytest.fail(f"{block.name}: a pycon block without a >>> line", pytrace=False)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE, verbose=False)
    report = io.StringIO()
    with np.printoptions():  # whatever a block sets is undone
        runner.run(test, out=report.write, clear_globs=False)
    ns.update(test.globs)  # DocTest works on a copy; later blocks see what this one defined
    if runner.failures:
        pytest.fail(f"{block.name}: the output differs from the page\n{report.getvalue()}", False)


def run_python(block: Block, ns: dict[str, Any]) -> None:
    if re.search(r"^\s*>>>", block.source, re.M):
        pytest.fail(f"{block.name}: a python block with >>> lines is a pycon block", False)
    with np.printoptions():
        # padded so that a traceback names the page's own line numbers
        exec(compile("\n" * block.line + block.source, str(block.page), "exec"), ns)


def commands(block: Block) -> list[tuple[str, list[str]]]:
    """``(command, output lines)`` of a console block."""
    found: list[tuple[str, list[str]]] = []
    continued = False
    for line in block.source.splitlines():
        if continued:
            cmd, out = found[-1]
            found[-1] = (cmd + " " + line.strip().removesuffix("\\").strip(), out)
        elif line.startswith("$ "):
            found.append((line[2:].strip().removesuffix("\\").strip(), []))
        elif not found:
            raise ValueError(f"{block.name}: console output before any $ command: {line!r}")
        else:
            found[-1][1].append(line)
        continued = line.rstrip().endswith("\\")
    return found


def argv_of(command: str) -> list[str] | None:
    """How to run a shown command here, or ``None`` when this module cannot."""
    words = shlex.split(command)
    if words[0] == "crossentropy":
        return [sys.executable, "-m", "crossentropy", *words[1:]]
    if words[0] == "python" and (
        words[1:3] == ["-m", "crossentropy"]
        or (len(words) > 1 and words[1].startswith("examples/"))
    ):
        return [sys.executable, *words[1:]]
    return None


def _trim(lines: list[str]) -> list[str]:
    lines = [line.rstrip() for line in lines]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def output_matches(shown: list[str], printed: list[str]) -> bool:
    """``printed`` equals ``shown`` line by line, a ``...`` line standing for any lines."""
    pattern = "".join(
        r"(?:[^\n]*\n)*?" if line.strip() == "..." else re.escape(line) + r"\n"
        for line in _trim(shown)
    )
    return re.fullmatch(pattern, "".join(line + "\n" for line in _trim(printed))) is not None


def shows_output(block: Block) -> bool:
    """Whether the block has something to check (a malformed console block counts: it fails)."""
    try:
        return block.kind != "console" or any(_trim(out) for _, out in commands(block))
    except ValueError:
        return True


def run_console(block: Block) -> None:
    shown = [(cmd, out) for cmd, out in commands(block) if _trim(out)]
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "CLICOLOR_FORCE")}
    env |= {"COLUMNS": "80", "LINES": "25", "NO_COLOR": "1"}
    for cmd, out in shown:
        argv = argv_of(cmd)
        if argv is None:
            pytest.fail(
                f"{block.name}: `{cmd}` is shown with output but is not a command this test can "
                "run; show it in a ```text block",
                pytrace=False,
            )
        res = subprocess.run(
            argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
        )
        if res.returncode != 0:
            pytest.fail(
                f"{block.name}: `{cmd}` exited with {res.returncode}\n{res.stderr[-4000:]}", False
            )
        if not output_matches(out, res.stdout.splitlines()):
            diff = "\n".join(
                difflib.unified_diff(
                    _trim(out), _trim(res.stdout.splitlines()), "page", "printed", lineterm=""
                )
            )
            pytest.fail(f"{block.name}: `{cmd}` prints something else\n{diff}", pytrace=False)


def _missing(block: Block) -> list[str]:
    return [name for name in block.requires if importlib.util.find_spec(name) is None]


def run_block(block: Block, ns: dict[str, Any]) -> None:
    """Run one block (in ``ns`` for python and pycon); raise on failure, skip on a missing need."""
    if missing := _missing(block):
        pytest.skip(f"{block.name} needs {', '.join(missing)}, which is not installed")
    if block.requires:
        ns = dict(ns)
    runners: dict[str, Callable[[], None]] = {
        "pycon": lambda: run_pycon(block, ns),
        "python": lambda: run_python(block, ns),
        "console": lambda: run_console(block),
    }
    runners[block.kind]()


@dataclass
class PageRun:
    """The blocks of one page, run once each in order; the outcome of each."""

    blocks: list[Block]
    ns: dict[str, Any] = field(default_factory=lambda: {"__name__": "__docs__"})
    outcomes: list[BaseException | None] = field(default_factory=list)

    def outcome(self, index: int) -> BaseException | None:
        while len(self.outcomes) <= index:
            block = self.blocks[len(self.outcomes)]
            try:
                run_block(block, self.ns)
            except (Exception, pytest.skip.Exception, pytest.fail.Exception) as err:
                self.outcomes.append(err)
            else:
                self.outcomes.append(None)
        return self.outcomes[index]


_RUNS: dict[Path, PageRun] = {}


def _checked(page: Path) -> list[Block]:
    """The blocks of ``page`` that run: python, pycon, and console blocks that show output."""
    return [b for b in parse(page) if b.kind in ("python", "pycon", "console") and shows_output(b)]


def _runnable() -> list[Any]:
    params = []
    for page in PAGES:
        blocks = _checked(page)
        params += [pytest.param(page, i, id=b.name) for i, b in enumerate(blocks)]
    return params


@pytest.mark.parametrize(("page", "index"), _runnable())
def test_example_runs_as_printed(page: Path, index: int) -> None:
    run = _RUNS.get(page)
    if run is None:
        run = _RUNS[page] = PageRun(_checked(page))
    err = run.outcome(index)
    if err is not None:
        earlier = [
            run.blocks[i].name
            for i in range(index)
            if run.outcomes[i] is not None
            and not isinstance(run.outcomes[i], pytest.skip.Exception)
        ]
        if earlier and not isinstance(err, pytest.skip.Exception):
            print(f"an earlier block of the page failed too: {', '.join(earlier)}", file=sys.stderr)
        raise err


# ------------------------------------------------------------------------------ the conventions


def test_every_fence_names_a_kind_that_is_checked_or_exempt() -> None:
    bad = [f"{b.name}: ```{b.kind}" for page in PAGES for b in parse(page) if b.kind not in KINDS]
    indented = [
        f"{page.relative_to(ROOT)}:{n}"
        for page in PAGES
        for n, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1)
        if INDENTED_FENCE.match(line)
    ]
    assert not bad, f"fences must be one of {KINDS}: {bad}"
    assert not indented, f"indented fences are neither run nor exempt: {indented}"


def test_requires_marks_only_runnable_blocks() -> None:
    bad = [b.name for p in PAGES for b in parse(p) if b.requires and b.kind == "text"]
    assert not bad


def test_indented_code_holds_no_python_session() -> None:
    """Indented (4-space) Markdown code is shown, never run: it must not hide an example."""
    bad = []
    for page in PAGES:
        for n, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            if re.match(r"^ {4,}(>>> |import |from \w+ import )", line):
                bad.append(f"{page.relative_to(ROOT)}:{n}")
    assert not bad, f"move these into a ```python or ```pycon block: {bad}"


def test_the_pages_have_examples_of_every_checked_kind() -> None:
    kinds = {b.kind for p in PAGES for b in parse(p)}
    assert {"python", "pycon", "console"} <= kinds


# ------------------------------------------------------------------------------ the checker fails


def _page(tmp_path: Path, text: str) -> list[Block]:
    page = tmp_path / "page.md"
    page.write_text(text)
    return parse(page)


def test_a_wrong_printed_value_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    text = "```pycon\n>>> import crossentropy as ce\n>>> ce.softmax([0.0, 0.0])\n{}\n```\n"
    (good,) = _page(tmp_path, text.format("array([0.5, 0.5])"))
    run_block(good, {})
    (bad,) = _page(tmp_path, text.format("array([0.5, 0.50000001])"))
    with pytest.raises(pytest.fail.Exception, match="output differs"):
        run_block(bad, {})


def test_a_broken_python_block_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    (block,) = _page(tmp_path, "```python\nundefined_name + 1\n```\n")
    with pytest.raises(NameError, match="undefined_name"):
        run_block(block, {})


def test_requires_skips_with_the_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    text = "<!-- requires: no_such_module_x -->\n```python\nraise AssertionError\n```\n"
    (block,) = _page(tmp_path, text)
    assert block.requires == ("no_such_module_x",)
    with pytest.raises(pytest.skip.Exception, match="needs no_such_module_x"):
        run_block(block, {})


def test_console_output_is_matched_line_by_line() -> None:
    printed = ["a  1   ", "b  2", "c  3", "", "d  4", "   "]
    assert output_matches(["a  1", "b  2", "c  3", "", "d  4"], printed)
    assert output_matches(["a  1", "...", "d  4"], printed)
    assert output_matches(["a  1", "b  2", " ..."], printed)
    assert not output_matches(["a  1", "b  3", "..."], printed)
    assert not output_matches(["a 1", "..."], printed)  # spacing inside a line counts
    assert not output_matches(["b  2", "..."], printed)  # no elision unless shown
    assert not output_matches(["a  1", "b  2"], printed)


def test_console_commands_are_parsed_with_continuations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    text = "```console\n$ crossentropy eval x.npy \\\n      --from-logits\nout 1\n$ ls\n```\n"
    (block,) = _page(tmp_path, text)
    assert commands(block) == [("crossentropy eval x.npy --from-logits", ["out 1"]), ("ls", [])]
    assert argv_of("crossentropy eval --example") == [
        sys.executable,
        "-m",
        "crossentropy",
        "eval",
        "--example",
    ]
    assert argv_of("dask scheduler") is None
