"""``docs/frameworks.md`` shows the numbers the library and the goldens give today."""

from __future__ import annotations

import difflib

import pytest

from .frameworks_doc import DOC, MARK, check_call, namespace, render


def test_frameworks_page_tables_are_current() -> None:
    text = DOC.read_text()
    names = [m.group(2) for m in MARK.finditer(text)]
    assert {"bce", "p0", "seed3", "renorm", "down", "dim", "wmean", "ignored", "versions"} <= set(
        names
    )
    new = render(text)
    diff = "".join(difflib.unified_diff(text.splitlines(True), new.splitlines(True), n=0))
    assert new == text, (
        f"docs/frameworks.md is stale: run python tests/conformance/frameworks_doc.py\n{diff}"
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


def test_every_framework_row_makes_the_golden_call() -> None:
    """``render`` checks each call; here the check itself is shown to fail on a wrong call."""
    text = DOC.read_text()
    ns = namespace(text[: text.index("<!-- table: p0 -->")])
    check_call(
        "ce_sklearn.log_loss([1, 0], np.float32([0, 0]), normalize=False)", ns, "p0.sklearn32"
    )
    # the page used to print this call beside the float32 golden (15.94); it gives 36.04
    with pytest.raises(
        ValueError, match=r"argument 1: float64\[2\] where the framework got float32"
    ):
        check_call("ce_sklearn.log_loss([1, 0], [0.0, 0.0], normalize=False)", ns, "p0.sklearn32")
    with pytest.raises(ValueError, match="keywords"):
        check_call("ce_sklearn.log_loss([1, 0], np.float32([0, 0]))", ns, "p0.sklearn32")
    with pytest.raises(ValueError, match=r"argument 0: \[0, 1\] where the framework got \[1, 0\]"):
        check_call(
            "ce_sklearn.log_loss([0, 1], np.float32([0, 0]), normalize=False)", ns, "p0.sklearn32"
        )
    with pytest.raises(ValueError, match=r"calls torch\.binary_cross_entropy, the golden keras"):
        check_call("ce_torch.binary_cross_entropy(p, y)", ns, "p0.keras")
    with pytest.raises(ValueError, match="constructor keywords"):
        check_call("ce_keras.BinaryCrossentropy()(y, p)", ns, "down.keras_cls64")


def test_each_table_follows_the_code_that_defines_its_inputs() -> None:
    """A table's exact row is computed from the page's code: change the input, the value moves."""
    text = DOC.read_text()
    changed = text.replace("p = np.float32([[0]])", "p = np.float32([[0.5]])", 1)
    assert changed != text
    with pytest.raises(ValueError, match=r"not the call of golden case p0\.keras"):
        render(changed)
