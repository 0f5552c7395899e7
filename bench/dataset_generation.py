"""Print how long the organisation dataset generator takes (not a test: no thresholds).

Run: ``uv run python bench/dataset_generation.py``
"""

from __future__ import annotations

import time
from collections import Counter

from eproc_org_dataset import generate


def main() -> None:
    """Generate 1k, 10k and 100k organisations and print time and kinds."""
    for size in (1_000, 10_000, 100_000):
        start = time.perf_counter()
        organisations = generate(size, seed=0)
        elapsed = time.perf_counter() - start
        kinds = Counter(o.kind for o in organisations)
        print(f"{size:>7} organisations in {elapsed:6.2f} s")
        print("        " + ", ".join(f"{kind} {count}" for kind, count in kinds.most_common()))


if __name__ == "__main__":
    main()
