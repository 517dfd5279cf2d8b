"""Benchmark: building a presentation deck and writing it as PPTX and PDF, as `python -m lasnaolo
deck` does, on the demo database (created here from the seeded demo data).

    python benchmarks/deck_benchmark.py [--repeat 3] [--db URL]

Prints a Markdown table. Goal (issue 6): a coordinator goes from login to a downloaded PPTX of a
region in under a minute; the deck itself should take a few seconds of that.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lasnaolo import bootstrap, deck, store  # noqa: E402
from lasnaolo.scope import Scope  # noqa: E402

AREAS = {
    "Uusimaa (region 01)": dict(region_codes=frozenset({"01"})),
    "SKY pilot municipalities": dict(municipality_codes=frozenset({"106", "186", "245", "257", "505", "543", "611", "753", "858"})),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", help="database URL (default: a fresh demo database in a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = store.make_engine(args.db or f"sqlite:///{Path(folder) / 'demo.db'}")
        bootstrap.ensure_database(engine, with_demo=args.db is None)
        print("| area | build (s) | PPTX (s) | PDF (s) | slides |")
        print("|---|---|---|---|---|")
        for name, area in AREAS.items():
            timings = {"build": [], "pptx": [], "pdf": []}
            for _ in range(args.repeat):
                start = time.perf_counter()
                built = deck.build(engine, Scope.everything(), deck.DeckRequest("2024-2025", **area))
                timings["build"].append(time.perf_counter() - start)
                start = time.perf_counter()
                deck.to_pptx(built)
                timings["pptx"].append(time.perf_counter() - start)
                start = time.perf_counter()
                deck.to_pdf(built)
                timings["pdf"].append(time.perf_counter() - start)
            median = {k: statistics.median(v) for k, v in timings.items()}
            print(f"| {name} | {median['build']:.1f} | {median['pptx']:.1f} | {median['pdf']:.1f} | {len(built.slides) + 1} |")


if __name__ == "__main__":
    main()
