"""Time and peak memory of turning a pupil-level export into absences.csv (issue 19): the
reference export (`lasnaolo.pupil_demo`) at growing sizes, read from its files as exported
(Finnish headers, ';', Windows-1252), checked and aggregated by `pupil_import.aggregate_exports`,
each size in a fresh process so the peak is its own.

    python benchmarks/pupil_aggregation.py [--sizes 24 240 1200]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def measure(pupils_per_grade: int) -> dict:
    from lasnaolo import pupil_demo, pupil_import

    export = pupil_demo.generate(pupils_per_grade=pupils_per_grade)
    with tempfile.TemporaryDirectory() as folder:
        files = {path.name: path.read_bytes() for path in export.write(folder)}
    started = time.perf_counter()
    rows = pupil_import.aggregate_exports({n: files[n] for n in ("oppilaat.csv", "poissaolot.csv")},
                                          ("kalenteri.csv", files["kalenteri.csv"]), pupil_import.load_mapping("wilma"),
                                          ("tuntijako.csv", files["tuntijako.csv"]))
    seconds = time.perf_counter() - started
    return {"pupils": int(export.roster["pupil"].nunique()), "markings": len(export.marks), "rows": len(rows),
            "seconds": round(seconds, 1), "peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[24, 240, 1200], help="pupils per grade (9 grades)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child process measuring one size
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(measure(args.one)))
        return
    print(f"{'pupils':>8} {'markings':>9} {'rows':>6} {'seconds':>8} {'peak MiB':>9}")
    for size in args.sizes:
        child = subprocess.run([sys.executable, __file__, "--one", str(size)], capture_output=True, text=True, check=True)
        result = json.loads(child.stdout.strip().splitlines()[-1])
        print(f"{result['pupils']:>8} {result['markings']:>9} {result['rows']:>6} {result['seconds']:>8} {result['peak_mib']:>9}")


if __name__ == "__main__":
    main()
