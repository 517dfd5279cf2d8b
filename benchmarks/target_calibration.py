"""Calibration of target statuses: pupils simulated over four school years with known truth
(tests/support/target_simulation.py), every unit given a target 5 % under its baseline year, and its
status read at the end of November, January and March of the target year by `targets.standing`,
the function behind the targets page. Prints one row per scenario and month. Scenarios cover
the absence rate, the tier 2-3 share and unauthorised absence, schools and municipalities (of
three schools), a baseline two years back and a month not delivered.

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

from support import target_simulation as simulation  # noqa: E402

FLU = {2: 1.4, 3: 1.4}  # October and November
SCENARIOS = {
    "nothing changes": simulation.Scenario(),
    "15 % lower all year": simulation.Scenario(level=0.85),
    "10 % higher all year": simulation.Scenario(level=1.1),
    "15 % lower, flu Oct–Nov ×1.4": simulation.Scenario(level=0.85, shocks=FLU),
    "tier 2–3 share, nothing changes": simulation.Scenario(metric="tier23_share"),
    "tier 2–3 share, 15 % lower": simulation.Scenario(metric="tier23_share", level=0.85),
    "tier 2–3 share, 15 % higher": simulation.Scenario(metric="tier23_share", level=1.15),
    "unauthorised, nothing changes": simulation.Scenario(metric="unauthorised_rate"),
    "unauthorised, 20 % lower": simulation.Scenario(metric="unauthorised_rate", level=0.8),
    "baseline two years back, nothing changes": simulation.Scenario(baseline_gap=2),
    "baseline two years back, 15 % lower": simulation.Scenario(baseline_gap=2, level=0.85),
    "October not delivered, nothing changes": simulation.Scenario(missing=2),
    "municipalities, nothing changes": simulation.Scenario(unit="municipality", schools=90),
    "municipalities, 10 % lower": simulation.Scenario(unit="municipality", schools=90, level=0.9),
    "municipalities, 15 % lower, flu": simulation.Scenario(unit="municipality", schools=90, level=0.85, shocks=FLU),
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
                "scenario": name, "month": month, "unit-years": len(at), "met in truth": f"{at['met'].mean():.0%}",
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
