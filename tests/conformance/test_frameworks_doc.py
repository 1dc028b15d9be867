"""``docs/frameworks.md`` shows the numbers the library and the goldens give today."""

from __future__ import annotations

from .frameworks_doc import DOC, MARK, render


def test_frameworks_page_tables_are_current() -> None:
    text = DOC.read_text()
    names = [m.group(2) for m in MARK.finditer(text)]
    assert {"bce", "p0", "seed3", "renorm", "down", "dim", "wmean", "ignored", "versions"} <= set(
        names
    )
    assert render(text) == text, (
        "docs/frameworks.md is stale: run python tests/conformance/frameworks_doc.py"
    )


def test_frameworks_page_states_the_seed_values() -> None:
    """The numbers the prose quotes are in the generated tables."""
    text = DOC.read_text()
    for value in (
        "0.49152803 (float32)",
        "0.4915282 (float32)",
        "16.118095 (float32)",
        "15.424949 (float32)",
        "100.0 (float32)",
        "0.00016879548708943529 (float64)",
        "0.00016879548708934858 (float64)",
        "nan (float64)",
        "1.1920929e-07 (float32)",
    ):
        assert value in text, value
