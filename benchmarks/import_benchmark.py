"""Benchmark: generating and importing the demo and national data sets, on SQLite and PostgreSQL.

Each step runs as its own `python -m lasnaolo …` process, as an administrator's scheduler would
run it, so the wall time includes start-up and the peak memory is that process's own (ru_maxrss).
PostgreSQL is a throwaway local server started here (Debian's postgresql package).

    python benchmarks/import_benchmark.py [--scales demo national] [--repeat 3]

Prints a Markdown table; the README records a run of it. Goal (issue 2): the whole national
import in <= 60 s on each database on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # the product, and tests/support

from support.pgserver import ThrowawayPostgres  # noqa: E402

IMPORT_GOAL_SECONDS = {"national": 60.0}


def run_measured(args: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident MiB of one child process; raises if it fails."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "lasnaolo", *args], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: python -m lasnaolo {' '.join(args)}\n{process.stderr.read().decode()}")
    return seconds, usage.ru_maxrss / 1024


def absence_rows(folder: Path) -> int:
    with open(folder / "absences.csv", "rb") as f:
        return sum(1 for _ in f) - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="+", default=["demo", "national"])
    parser.add_argument("--repeat", type=int, default=3, help="runs per step; the median is reported")
    args = parser.parse_args()

    postgres = ThrowawayPostgres()
    results = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for scale in args.scales:
                folder = Path(tmp) / scale
                runs = [run_measured(["demo", "--scale", scale, "--out", str(folder)]) for _ in range(args.repeat)]
                rows = absence_rows(folder)
                results.append((scale, "generate", "-", rows, runs))
                csvs = [str(folder / f) for f in ("schools.csv", "absences.csv", "wellbeing.csv", "measures.csv")]
                for database in ("sqlite", "postgresql"):
                    runs = []
                    for i in range(args.repeat):
                        url = (f"sqlite:///{Path(tmp) / f'{scale}-{i}.db'}" if database == "sqlite"
                               else postgres.new_database())
                        runs.append(run_measured(["import", *csvs, "--db", url]))
                    results.append((scale, "import", database, rows, runs))
    finally:
        postgres.stop()

    table = []
    for scale, step, database, rows, runs in results:
        seconds = statistics.median(r[0] for r in runs)
        goal = IMPORT_GOAL_SECONDS.get(scale) if step == "import" else None
        table.append({
            "data set": scale, "step": step, "database": database, "absence rows": f"{rows:,}",
            "median s": f"{seconds:.1f}", "rows/s": f"{rows / seconds:,.0f}",
            "peak MiB": f"{max(r[1] for r in runs):,.0f}",
            "goal": "" if goal is None else f"≤ {goal:.0f} s: {'met' if seconds <= goal else 'NOT met'}",
        })
    print(f"\n{args.repeat} run(s) per step, {os.cpu_count()} cores, Python {sys.version.split()[0]}\n")
    print(pd.DataFrame(table).to_markdown(index=False))


if __name__ == "__main__":
    main()
