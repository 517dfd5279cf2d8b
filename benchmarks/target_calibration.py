"""Calibration of target statuses: pupils simulated over three school years with known truth
(tests/target_simulation.py), every school given a target 5 % under its baseline year, and its
status read at the end of November, January and March of the target year by `targets.standing`,
the function behind the targets page. Prints one row per scenario and month.

    python benchmarks/target_calibration.py [--seeds 20]

"On track" promises the target is at least 75 % likely; "off track" that ending better than the
baseline is at most 5 % likely. The columns check those promises against what happened.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import pandas as pd  # noqa: E402

import target_simulation as simulation  # noqa: E402

SCENARIOS = {
    "nothing changes": simulation.Scenario(),
    "15 % lower all year": simulation.Scenario(level=0.85),
    "10 % higher all year": simulation.Scenario(level=1.1),
    "15 % lower, flu Oct–Nov ×1.4": simulation.Scenario(level=0.85, shocks={2: 1.4, 3: 1.4}),
}


def table(seeds: int) -> pd.DataFrame:
    rows = []
    for name, scenario in SCENARIOS.items():
        judged = pd.concat([simulation.statuses(simulation.Scenario(**{**scenario.__dict__, "seed": seed}))
                            for seed in range(seeds)], ignore_index=True)
        for month, at in judged.groupby("month"):
            on, off = at[at["status"] == "on_track"], at[at["status"] == "off_track"]
            better = at[at["ended_better"]]
            rows.append({
                "scenario": name, "month": month, "school-years": len(at), "met in truth": f"{at['met'].mean():.0%}",
                "on track": f"{len(on) / len(at):.0%}", "at risk": f"{(at['status'] == 'at_risk').mean():.0%}",
                "off track": f"{len(off) / len(at):.0%}",
                "on track that met (≥ 75 %)": f"{on['met'].mean():.0%}" if len(on) else "–",
                "off track that ended better (≤ 5 %)": f"{off['ended_better'].mean():.0%}" if len(off) else "–",
                "ended better but called off track": f"{(better['status'] == 'off_track').mean():.0%}" if len(better) else "–",
            })
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=20)
    result = table(parser.parse_args().seeds)
    print("| " + " | ".join(result.columns) + " |")
    print("|" + "---|" * len(result.columns))
    for row in result.itertuples(index=False):
        print("| " + " | ".join(str(v) for v in row) + " |")


if __name__ == "__main__":
    main()
