"""The soak's RSS curves as a small PNG (run by bench/soak.py with matplotlib).

uv run --no-project --with matplotlib python bench/soak_plot.py RESULT.json OUT.png
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

WARM_UP_MINUTES = 5


def main(result: Path, png: Path) -> None:
    samples = json.loads(result.read_text())["samples"]
    names = [k for k in samples[0] if k != "minute"]
    minutes = [s["minute"] for s in samples]
    figure, axes = plt.subplots(figsize=(6.4, 3.4), dpi=100)
    for name in names:
        axes.plot(minutes, [s.get(name) for s in samples], label=name, linewidth=1.2)
    axes.axvline(WARM_UP_MINUTES, color="grey", linewidth=0.8, linestyle=":")
    axes.set_xlabel("minute")
    axes.set_ylabel("RSS (MB)")
    axes.set_title("Soak: RSS of every service process under a steady mix", fontsize=10)
    axes.legend(fontsize=7, ncol=4, loc="lower right")
    axes.set_ylim(bottom=0)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(png)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
