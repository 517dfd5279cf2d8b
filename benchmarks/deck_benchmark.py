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

from lasnaolo import deck, demo, importer, store  # noqa: E402
from lasnaolo.scope import Scope  # noqa: E402

SKY = frozenset({"106", "186", "245", "257", "505", "543", "611", "753", "858"})
# Who presents, and the area: a deck is the presenter's whole area, one region or one municipality.
AREAS = {
    "Uusimaa (region 01)": (Scope.everything(), dict(region_codes=frozenset({"01"}))),
    "SKY pilot municipalities": (Scope("coordinator", municipality_codes=SKY), {}),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", help="database URL (default: a fresh demo database in a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = store.make_engine(args.db or f"sqlite:///{Path(folder) / 'demo.db'}")
        store.init_database(engine)
        if args.db is None:  # the demo data into the benchmark's own file (bootstrap fills only the embedded one)
            data = demo.generate("demo")
            importer.import_paths(engine, [p for p in data.write(folder) if p.suffix == ".csv"])
        print("| area | build (s) | PPTX (s) | PDF (s) | slides |")
        print("|---|---|---|---|---|")
        for name, (presenter, area) in AREAS.items():
            timings = {"build": [], "pptx": [], "pdf": []}
            for _ in range(args.repeat):
                start = time.perf_counter()
                built = deck.build(engine, presenter, deck.DeckRequest("2024-2025", **area))
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
