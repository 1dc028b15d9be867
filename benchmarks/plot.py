"""Plot the JSON written by ``benchmarks/speed.py --json`` (needs matplotlib).

python benchmarks/plot.py results.json docs/performance.png
"""

from __future__ import annotations

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

SHOWN = [
    "crossentropy",
    "crossentropy out=buffer",
    "PyTorch",
    "JAX",
    "SciPy",
    "naive NumPy",
    "scikit-learn",
]


def main(src: str, dst: str) -> None:
    with open(src) as f:
        res = json.load(f)
    cases = [c for c in res["cases"] if c.get("loss", "sparse") == "sparse"]
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8), sharey=False)
    for ax, label, title in zip(
        axes,
        ("forward", "value_and_grad"),
        ("forward (mean loss)", "value and gradient"),
        strict=True,
    ):
        width = 0.8 / len(SHOWN)
        for s, prefix in enumerate(SHOWN):
            ys = []
            for case in cases:
                row = next((r for r in case["rows"] if r["name"].startswith(prefix)), None)
                if prefix == "crossentropy":
                    row = next(r for r in case["rows"] if r["name"] == "crossentropy")
                ys.append(row[label]["median_s"] * 1e3 if row and label in row else np.nan)
            if all(np.isnan(ys)):
                continue
            ax.bar(np.arange(len(cases)) + (s - len(SHOWN) / 2 + 0.5) * width, ys, width,
                   label=prefix, color=f"C{s}")  # fmt: skip
        floor_key = "read_s" if label == "forward" else "copy_s"
        floors = [c["floor"][floor_key] * 1e3 for c in cases]
        ax.scatter(np.arange(len(cases)), floors, marker="_", s=900, color="k", zorder=3,
                   label="bandwidth floor")  # fmt: skip
        ax.set_yscale("log")
        ax.set_xticks(np.arange(len(cases)))
        ax.set_xticklabels([f"{c['shape'][0]}×{c['shape'][1]}\n{c['dtype']}" for c in cases])
        ax.set_ylabel("median time, ms (log scale)")
        ax.set_title(title)
        ax.grid(axis="y", which="both", alpha=0.3)
    handles: dict[str, object] = {}
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(lab, h)
    fig.legend(handles.values(), handles.keys(), fontsize=8, loc="lower center", ncol=8)
    m = res["machine"]
    fig.suptitle(
        f"Sparse softmax cross-entropy, CPU: {m.get('cpu', '?')}, {res['threads']} threads",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(dst, dpi=110)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
