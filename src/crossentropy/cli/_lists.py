"""Lists given on the command line: comma-separated items, or the items of a file."""

from __future__ import annotations

import json
import os

__all__ = ["class_names", "read_list"]


def read_list(value: str, what: str) -> list[str]:
    """Comma-separated items, or the items of a file (.npy, .json, or one per line)."""
    from ._errors import CLIError

    if os.path.isfile(value):
        ext = os.path.splitext(value)[1].lower()
        try:
            if ext == ".npy":
                import numpy as np

                return [str(x) for x in np.load(value, allow_pickle=False).reshape(-1).tolist()]
            with open(value, encoding="utf-8") as f:
                text = f.read()
        except Exception as err:  # np.load on a damaged .npy raises more than ValueError
            line = str(err).strip().splitlines()
            raise CLIError(
                f"{what} {value}: cannot read it ({line[0] if line else type(err).__name__})."
            ) from None
        if ext == ".json":
            try:
                items = json.loads(text)
            except json.JSONDecodeError as err:
                raise CLIError(f"{what} {value}: not valid JSON ({err}).") from None
            if not isinstance(items, list):
                raise CLIError(f"{what} {value}: expected a JSON list.")
            return [str(x) for x in items]
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        if len(lines) == 1 and "," in lines[0]:
            return [s.strip() for s in lines[0].split(",")]
        return lines
    return [s.strip() for s in value.split(",")]


def class_names(value: str) -> list[str]:
    return read_list(value, "--class-names")
