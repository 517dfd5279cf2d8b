"""Command line: `python -m lasnaolo …`, for administrators and schedulers.

Exit codes: 0 success; 2 rejected input (located problems printed, nothing written).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence

from lasnaolo import bootstrap, contract, demo, importer, reports, store
from lasnaolo.scope import Scope, Unit

EXIT_REJECTED = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lasnaolo", description="Läsnäolo command line")
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("demo", help="write the seeded demo or national data set as CSV files")
    p.add_argument("--scale", choices=demo.SCALES, default="demo")
    p.add_argument("--seed", type=int, default=demo.DEFAULT_SEED)
    p.add_argument("--out", required=True, help="folder to write into")

    p = commands.add_parser("import", help="validate and import CSV files in one transaction")
    p.add_argument("paths", nargs="+")
    p.add_argument("--db", help="SQLAlchemy URL (default: LASNAOLO_DB_URL or data/lasnaolo.db)")
    p.add_argument("--replace", action="store_true", help="let rows replace stored rows with the same key")
    p.add_argument("--max-problems", type=int, default=contract.Settings().max_reported_problems)

    p = commands.add_parser("report", help="key figures of a school, municipality or region")
    unit = p.add_mutually_exclusive_group(required=True)
    unit.add_argument("--school")
    unit.add_argument("--municipality")
    unit.add_argument("--region")
    p.add_argument("--year", required=True, help="school year, e.g. 2024-2025")
    p.add_argument("--db")
    p.add_argument("--json", action="store_true")

    p = commands.add_parser("migrate", help="create or upgrade the database schema")
    p.add_argument("--db")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return {"demo": _demo, "import": _import, "report": _report, "migrate": _migrate}[args.command](args)


def _demo(args) -> int:
    data = demo.generate(args.scale, args.seed)
    paths = data.write(args.out)
    print(f"wrote {len(data.schools)} schools, {len(data.absences)} absence rows, "
          f"{len(data.wellbeing)} survey rows, {len(data.measures)} measures to {args.out}: "
          + ", ".join(p.name for p in paths))
    return 0


def _import(args) -> int:
    engine = store.make_engine(args.db)
    store.init_database(engine)
    try:
        summary = importer.import_paths(engine, args.paths, replace=args.replace)
    except importer.ImportRejected as rejected:
        print(f"rejected: {rejected.problems.total} problem(s); nothing was imported", file=sys.stderr)
        print(rejected.problems.render(args.max_problems), file=sys.stderr)
        return EXIT_REJECTED
    print(summary.one_line())
    return 0


def _report(args) -> int:
    if contract.parse_school_year(args.year) is None:
        print(f"--year {args.year!r} is not a school year like 2024-2025", file=sys.stderr)
        return EXIT_REJECTED
    unit = (Unit("school", args.school) if args.school else
            Unit("municipality", args.municipality) if args.municipality else Unit("region", args.region))
    engine = store.make_engine(args.db)
    store.init_database(engine)
    try:
        report = reports.unit_report(engine, Scope.everything(), unit, args.year)
    except reports.UnknownUnit as error:
        print(str(error), file=sys.stderr)
        return EXIT_REJECTED
    data = report.figures.as_report()
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=1))
        return 0
    print(f"{unit} {args.year.replace('-', '–')} (through {report.figures.latest_month})")
    for key, value in data.items():
        if key in ("unit", "school_year", "suppressed"):
            continue
        shown = "suppressed" if value is None else f"{value:.2f} %" if isinstance(value, float) else str(value)
        print(f"  {key:<20} {shown}")
    for item in report.changes:
        if item.difference is None or math.isnan(item.difference):
            continue
        flag = " (larger than chance)" if item.larger_than_chance else ""
        print(f"  change {item.metric:<13} {item.difference:+.2f} points vs same point last year{flag}")
    return 0


def _migrate(args) -> int:
    engine = store.make_engine(args.db)
    bootstrap.ensure_database(engine, with_demo=False)
    print(f"schema is current: {store.database_url(args.db)}")
    return 0
