"""Calibration of the chance model: pupil-level simulations with known truth (the same generator
as tests/test_calibration.py), aggregated to the contract, imported into SQLite and judged by
`comparison.school_verdicts`. Prints one row per design and source of the pupils' spread (the
tier counts, or the optional exact sum of squared pupil shares): false alarms where nothing
differs and the share of planted differences found.

    python benchmarks/calibration.py [--seeds 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import pandas as pd  # noqa: E402

from support import pupil_simulation as simulation  # noqa: E402
from lasnaolo import comparison, importer, store  # noqa: E402
from lasnaolo.scope import Scope  # noqa: E402


def judged(design: simulation.Design, source: str) -> pd.DataFrame:
    schools, absences, truth = simulation.simulate(design)
    if source == "tiers":
        absences = absences.drop(columns="pupil_share_squares")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        schools.to_csv(folder / "schools.csv", index=False)
        absences.to_csv(folder / "absences.csv", index=False)
        engine = store.make_engine(f"sqlite:///{folder / 'lasnaolo.db'}")
        store.init_database(engine)
        importer.import_paths(engine, [folder / "schools.csv", folder / "absences.csv"])
        verdicts = comparison.school_verdicts(engine, Scope.everything(), "2024-2025")
        engine.dispose()
    return verdicts.merge(truth, on="school_id")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    seeds = range(parser.parse_args().seeds)
    print("| true spread between similar schools | pupils' spread from | schools | false alarms, 95 % | false alarms, 99.8 % | "
          "30 % above found | 30 % below found | false change alarms | +30 % change found | −30 % change found |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for spread, source in ((0.05, "tiers"), (0.05, "squares"), (0.2, "tiers"), (0.2, "squares")):
        v = pd.concat([judged(simulation.Design(seed=s, between_school_sd=spread), source) for s in seeds],
                      ignore_index=True)
        same, unchanged = v[v["level"] == "same"], v[v["change"] == "same"]
        cells = [f"{spread:.0%}", source, str(len(v)),
                 f"{(same['verdict'] != 'within').mean():.1%}", f"{(same['verdict_998'] != 'within').mean():.1%}",
                 *(f"{(v.loc[v['level'] == d, 'verdict'] == d).mean():.0%}" for d in ("higher", "lower")),
                 f"{(unchanged['change_verdict'] != 'within').mean():.1%}",
                 *(f"{(v.loc[v['change'] == d, 'change_verdict'] == d).mean():.0%}" for d in ("higher", "lower"))]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
