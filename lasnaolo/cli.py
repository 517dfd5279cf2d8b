"""Command line: `python -m lasnaolo …`, for administrators and schedulers.

Exit codes: 0 success; 2 rejected input (located problems printed, nothing written).
"""

from __future__ import annotations

import argparse
import getpass
import json
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sqlalchemy.exc import SQLAlchemyError

from lasnaolo import (accounts, bootstrap, comparison, contract, deck, demo, environment, first_views, i18n, impact,
                      importer, queries, reports, results, risk, settings, store)
from lasnaolo import scope as scope_module
from lasnaolo.scope import ROLES, PseudonymKeyMissing, Scope, Unit

EXIT_REJECTED = 2


def school_year(text: str) -> str:
    """An argparse type: a school year like 2024-2025 (a bad one exits 2 with the reason)."""
    if contract.parse_school_year(text) is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a school year like 2024-2025")
    return text


def _options(*names: str) -> argparse.ArgumentParser:
    """A parent parser holding the shared options a command takes, declared once here."""
    parent = argparse.ArgumentParser(add_help=False)
    shared = {
        "db": lambda: parent.add_argument("--db", help=f"SQLAlchemy URL (default: {environment.DB_URL} or data/lasnaolo.db)"),
        "year": lambda: parent.add_argument("--year", required=True, type=school_year, help="school year, e.g. 2024-2025"),
        "json": lambda: parent.add_argument("--json", action="store_true", help="print the result as JSON"),
        "language": lambda: parent.add_argument("--language", choices=i18n.LANGUAGES, default="en",
                                                help="language of names and sentences"),
        "import": lambda: (parent.add_argument("--replace", action="store_true",
                                               help="let rows replace stored rows with the same key"),
                           parent.add_argument("--max-problems", type=int,
                                               default=contract.IMPORT_LIMITS.max_reported_problems)),
    }
    for name in names:
        shared[name]()
    return parent


def _engine(args):
    """The database of --db (else LASNAOLO_DB_URL, else the embedded file), migrated."""
    engine = store.make_engine(args.db)
    store.init_database(engine)
    return engine


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lasnaolo", description="Läsnäolo command line")
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("demo", help="write the seeded demo or national data set as CSV files")
    p.add_argument("--scale", choices=demo.SCALES, default="demo")
    p.add_argument("--seed", type=int, default=demo.DEFAULT_SEED)
    p.add_argument("--pupil-level", action="store_true",
                   help="instead: a synthetic pupil-level export (fictional pupils), calendar and timetable to try "
                        "'aggregate' with")
    p.add_argument("--out", required=True, help="folder to write into")

    p = commands.add_parser("template", help="write an example file of each kind (the data contract's templates)")
    p.add_argument("--out", required=True, help="folder to write into")

    p = commands.add_parser("import", help="validate and import CSV files in one transaction",
                            parents=[_options("db", "import")])
    p.add_argument("paths", nargs="+")

    p = commands.add_parser("aggregate", help="turn pupil-level absence exports into the contract's absences.csv "
                                              "(pupil rows are read into memory only, never written)",
                            parents=[_options("db", "import")])
    p.add_argument("exports", nargs="+", help="the roster and the absence markings as exported (CSV)")
    p.add_argument("--calendar", required=True, help="school calendar CSV: school_year, kind (term / holiday / "
                                                     "school_day), start, end, optional school_id")
    p.add_argument("--timetable", help="optional CSV: school_id, grade, weekly_hours (default: the national minimum)")
    p.add_argument("--mapping", default="wilma", help="a preset (wilma) or a mapping YAML file")
    p.add_argument("--out", required=True, help="folder to write absences.csv into")
    p.add_argument("--import", dest="import_now", action="store_true",
                   help="also import absences.csv into the database (--db) through the one importer")

    p = commands.add_parser("report", help="key figures of a school, municipality or region",
                            parents=[_options("year", "db", "json")])
    unit = p.add_mutually_exclusive_group(required=True)
    unit.add_argument("--school")
    unit.add_argument("--municipality")
    unit.add_argument("--region")

    p = commands.add_parser("compare", help="each school against similar schools and against its own last year "
                                            "(--json: one object per school, see README: How the verdicts are made)",
                            parents=[_options("year", "db", "json")])
    area = p.add_mutually_exclusive_group()
    area.add_argument("--school")
    area.add_argument("--municipality")
    area.add_argument("--region")

    p = commands.add_parser("clusters", help="risk-factor clusters of the schools for a school year "
                                             "(--json: each school's cluster and the profiles)",
                            parents=[_options("year", "db", "language", "json")])
    p.add_argument("--k", type=int, choices=list(risk.K_RANGE), help="number of clusters (default: best silhouette)")

    p = commands.add_parser("impact", help="did schools that started a measure change more than comparable schools? "
                                           "(--json: estimate, ci_low, ci_high, n_treated, n_control, method)",
                            parents=[_options("db", "language", "json")])
    p.add_argument("--measure", required=True, choices=list(contract.MEASURES))
    p.add_argument("--outcome", choices=impact.OUTCOMES, default="absence_rate")
    p.add_argument("--grades", choices=list(contract.GRADE_BANDS), help="one grade band (default: all grades)")
    area = p.add_mutually_exclusive_group()
    area.add_argument("--region", action="append", default=[], help="treated schools only from this region; repeatable")
    area.add_argument("--municipality", action="append", default=[], help="treated schools only from this municipality; repeatable")

    p = commands.add_parser("deck", help="an anonymised presentation of an area as PPTX or PDF",
                            parents=[_options("year", "db")])
    area = p.add_mutually_exclusive_group()
    area.add_argument("--region", action="append", default=[], help="2-digit region code (a deck is all data, one region or one municipality)")
    area.add_argument("--municipality", action="append", default=[], help="3-digit code (one)")
    p.add_argument("--out", required=True, help="file to write: .pptx or .pdf")
    p.add_argument("--slides", default=",".join(deck.SLIDES), help=f"comma-separated, in order (default: {','.join(deck.SLIDES)})")
    p.add_argument("--language", choices=i18n.LANGUAGES, default=i18n.DEFAULT_LANGUAGE)

    commands.add_parser("migrate", help="create or upgrade the database schema", parents=[_options("db")])

    p = commands.add_parser("results", help="the pages' results kept in the database: how many, or --clear them "
                            "(after rotating the pseudonym key)", parents=[_options("db")])
    p.add_argument("--clear", action="store_true", help="delete every kept result; the pages compute them again")
    p.add_argument("--first-views", action="store_true",
                   help="compute the first views of every account in the account file (as an import does): "
                        "after adding users")

    p = commands.add_parser("user", help="manage the account file (bcrypt-hashed passwords only)")
    user = p.add_subparsers(dest="user_command", required=True)
    q = user.add_parser("add", help="add or replace a user; the password is read from standard input or prompted")
    q.add_argument("--file", required=True, help="the account YAML file (outside git)")
    q.add_argument("--username", required=True)
    q.add_argument("--name", required=True, help="the person's name as shown in the app")
    q.add_argument("--role", required=True, choices=ROLES)
    q.add_argument("--municipality", action="append", default=[], help="3-digit code; repeat for several")
    q.add_argument("--region", action="append", default=[], help="2-digit region code; repeat for several")
    q.add_argument("--school", help="school_id (rectors)")
    user.add_parser("hash-password", help="print the bcrypt hash of a password read from standard input or prompted")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:  # a bad option or --help: argparse has said why; exit 2 (or 0) as it would
        return int(exit_.code or 0)
    # A mistyped or looser threshold, or a variable named like Läsnäolo's that nothing reads (a
    # misspelt LASNAOLO_MIN_PUPILS would leave the product's 5 in force unnoticed): refuse, as the app does.
    problems = [*contract.SUPPRESSION_PROBLEMS, *settings.environment_problems(os.environ)]
    if problems:
        for problem in problems:
            print(f"refused: {problem}", file=sys.stderr)
        return EXIT_REJECTED
    try:
        return _run(args)
    except PseudonymKeyMissing as error:  # a configured database without a strong pseudonym key
        print(f"refused: {error}", file=sys.stderr)
        return EXIT_REJECTED


def _run(args) -> int:
    return {"demo": _demo, "template": _template, "import": _import, "aggregate": _aggregate, "report": _report, "compare": _compare, "clusters": _clusters, "impact": _impact, "deck": _deck, "migrate": _migrate, "results": _results,
            "user": _user}[args.command](args)


def _demo(args) -> int:
    if args.pupil_level:
        from lasnaolo import pupil_demo

        export = pupil_demo.generate(seed=args.seed)
        paths = export.write(args.out)
        print(f"wrote a pupil-level export of {export.roster['pupil'].nunique()} fictional pupils and "
              f"{len(export.marks)} absence markings to {args.out}: " + ", ".join(p.name for p in paths))
        return 0
    data = demo.generate(args.scale, args.seed)
    paths = data.write(args.out)
    print(f"wrote {len(data.schools)} schools, {len(data.absences)} absence rows, "
          f"{len(data.wellbeing)} survey rows, {len(data.measures)} measures to {args.out}: "
          + ", ".join(p.name for p in paths))
    return 0


def _template(args) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for kind, spec in contract.FILE_SPECS.items():
        (out / spec.file_name).write_bytes(contract.template(kind))
    print(f"wrote {', '.join(s.file_name for s in contract.FILE_SPECS.values())} to {out}")
    return 0


def _aggregate(args) -> int:
    from lasnaolo import pupil_import, pupils

    def read(path: str) -> tuple[str, bytes]:
        return path, Path(path).read_bytes()  # named as given: two folders' "oppilaat.csv" stay apart

    try:
        mapping = pupil_import.load_mapping(args.mapping)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:  # not a mapping file
        print(f"refused: the mapping {args.mapping} cannot be used: {error}", file=sys.stderr)
        return EXIT_REJECTED
    engine = _engine(args) if args.import_now else None
    try:
        known = set(queries.schools(engine, Scope.everything())["school_id"]) if engine is not None else None
        rows = pupil_import.aggregate_exports([read(p) for p in args.exports], read(args.calendar), mapping,
                                              read(args.timetable) if args.timetable else None, known_schools=known)
    except OSError as error:
        print(f"refused: {error.filename}: {error.strerror}", file=sys.stderr)
        return EXIT_REJECTED
    except pupils.PupilDataError as error:
        shown = error.problems[: args.max_problems]
        print("\n".join(str(p) for p in shown), file=sys.stderr)
        if len(error.problems) > len(shown):
            print(f"... and {len(error.problems) - len(shown)} more problems", file=sys.stderr)
        print(f"refused: {len(error.problems)} problem(s); nothing written", file=sys.stderr)
        return EXIT_REJECTED
    target = Path(args.out) / contract.ABSENCES.file_name
    data = rows.to_csv(index=False).encode("utf-8")
    # The file is written first beside its name, then imported, then given its name: an --out that
    # cannot be written imports nothing, and a refused import leaves nothing behind.
    made = [p for p in (Path(args.out), *Path(args.out).parents) if not p.exists()]
    partial = target.with_name(f".{target.name}.partial")
    try:
        if not args.out.strip():
            raise OSError(0, "an empty folder name")
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_dir():
            raise OSError(0, "absences.csv there is a folder")
        partial.write_bytes(data)
    except OSError as error:
        print(f"refused: --out {args.out!r}: {error.strerror}; nothing written or imported", file=sys.stderr)
        return EXIT_REJECTED
    if engine is not None:  # the one importer, all or nothing
        code = _import_files(engine, [(contract.ABSENCES.file_name, data)], args)
        if code != 0:
            partial.unlink()
            for folder in made:  # the folders made for the file, empty again: gone
                folder.rmdir()
            print(f"nothing written to {args.out}", file=sys.stderr)
            return code
    os.replace(partial, target)
    print(f"wrote {len(rows)} rows ({rows['school_id'].nunique()} schools, "
          f"{', '.join(sorted(rows['school_year'].unique()))}) to {target}")
    if engine is None:
        print(f"import it with: python -m lasnaolo import {target}")
    return 0


def _import_files(engine, files: list[tuple[str, bytes]], args) -> int:
    before = results.import_version(engine)
    try:
        summary = importer.import_files(engine, files, replace=args.replace)
    except importer.ImportRejected as rejected:
        print(f"rejected: {rejected.problems.total} problem(s); nothing was imported", file=sys.stderr)
        print(rejected.problems.render(args.max_problems), file=sys.stderr)
        return EXIT_REJECTED
    print(summary.one_line())
    # The pages' results asked of the data before, and every account's first views, computed now,
    # not on the users' first visits.
    try:
        if scope_module.demo_key_in_use() and args.db:  # the app's key may be in its secrets file
            print(f"note: results are kept under the public demo key ({environment.PSEUDONYM_KEY} is not set): "
                  f"an installation with a key of its own will not read them", file=sys.stderr)
        kept, first = first_views.after_import(engine, before, _configured_accounts())
    except (PseudonymKeyMissing, SQLAlchemyError) as error:  # the data is imported: only the kept results wait
        print(f"results not computed: {error}", file=sys.stderr)
        return 0
    if kept:
        print(f"computed again for the new data: {kept} result(s) the pages had asked for")
    if first.accounts:
        print(f"first views of {first.accounts} account(s) ready: {first.results} result(s) in {first.seconds:.1f} s")
    return 0


def _configured_accounts() -> list[accounts.Account]:
    """The account file's accounts (LASNAOLO_USERS_FILE), whose first views an import computes;
    none without an account file (the embedded demo: small enough to compute on a visit). An
    unreadable file is reported and skipped: the import itself has succeeded."""
    path = os.environ.get(environment.USERS_FILE)
    if not path:
        return []
    if scope_module.demo_key_in_use():  # kept under the demo key, no installation would read them
        print(f"first views not computed: {environment.PSEUDONYM_KEY} is not set (give the command the app's key)",
              file=sys.stderr)
        return []
    try:
        return list(accounts.file_accounts(Path(path).expanduser()).values())
    except accounts.ConfigError as error:
        print("first views not computed: " + "; ".join(error.messages), file=sys.stderr)
        return []


def _import(args) -> int:
    engine = _engine(args)
    try:
        files = importer.read_paths(args.paths)
    except importer.ImportRejected as rejected:
        print(f"rejected: {rejected.problems.total} problem(s); nothing was imported", file=sys.stderr)
        print(rejected.problems.render(args.max_problems), file=sys.stderr)
        return EXIT_REJECTED
    return _import_files(engine, files, args)


def _report(args) -> int:
    unit = (Unit("school", args.school) if args.school else
            Unit("municipality", args.municipality) if args.municipality else Unit("region", args.region))
    engine = _engine(args)
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


COMPARE_FIELDS = ("school_id", "school_rate", "peer_rate", "n_peers", "lower_95", "upper_95", "lower_998", "upper_998",
                  "verdict", "verdict_998", "change_points", "change_low", "change_high", "change_verdict",
                  "region_change", "flagged_fdr", "latest_month", "suppressed", "not_compared")


NOT_COMPARED = {"incomplete": ": a month of its year so far is missing", "withheld": ": too few pupils",
                "no_data": ": no data that year", "no_peers": ": no peer group"}


def _compare(args) -> int:
    unit = (Unit("school", args.school) if args.school else Unit("municipality", args.municipality) if args.municipality
            else Unit("region", args.region) if args.region else None)
    engine = _engine(args)
    if unit is not None and not queries.unit_exists(engine, Scope.everything(), unit):
        print(f"no {unit.level} {unit.code!r} in the database", file=sys.stderr)
        return EXIT_REJECTED
    verdicts = comparison.school_verdicts(engine, Scope.everything(), args.year, unit)
    rows = [{key: _plain(row[key]) for key in COMPARE_FIELDS} for _, row in verdicts.iterrows()]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    print(f"{len(rows)} schools, {args.year.replace('-', '–')}: rate against peers (95 % limits) and change against "
          "the same months last year")
    for row in rows:
        if row["suppressed"]:
            why = NOT_COMPARED.get(row["not_compared"], "")
            print(f"  {row['school_id']}  not compared{why} (latest month {row['latest_month']})")
            continue
        change = "" if row["change_points"] is None else f"  change {row['change_points']:+.2f} ({row['change_verdict']})"
        print(f"  {row['school_id']}  {row['school_rate']:6.2f} %  peers {row['peer_rate']:6.2f} % "
              f"[{row['lower_95']:.2f}, {row['upper_95']:.2f}]  {row['verdict']}{change}")
    return 0


def _plain(value):
    """A JSON value: None for missing, plain floats, ints and bools."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    return value


def _clusters(args) -> int:
    engine = _engine(args)
    try:
        result = risk.analyse(engine, Scope.everything(), args.year, args.k).clusters
    except risk.TooFewSchools as error:
        print(str(error), file=sys.stderr)
        return EXIT_REJECTED
    data = risk.as_json(result, args.language)
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=1))
        return 0
    chosen = "best silhouette" if result.k_chosen else "chosen by hand"
    print(f"{len(result.schools)} schools in {result.k} clusters ({chosen}), survey {result.survey_year}")
    print(f"{result.shuffled_as_distinct} of {risk.NULL_ROUNDS} shuffled data sets cluster as well: "
          + ("distinct profiles" if result.distinct else "no distinct profiles (clusters not named)"))
    for item in data["clusters"]:
        print(f"  {item['cluster']}  {item['schools']:>4} schools  {item['name']}")
    return 0


def _impact(args) -> int:
    engine = _engine(args)
    scope = Scope("admin", municipality_codes=frozenset(args.municipality) or None,
                  region_codes=frozenset(args.region) or None)
    question = impact.Question(args.measure, args.outcome, args.grades)
    try:
        result = impact.analyse(engine, scope, question)
    except impact.NotEstimated as error:
        print(i18n.t(error.reason, args.language, **error.values), file=sys.stderr)
        return EXIT_REJECTED
    if args.json:
        print(json.dumps(result.as_json(), ensure_ascii=False, indent=1))
        return 0
    print(impact.sentence(result, args.language))
    for kind, text in impact.notes(result, args.language):
        print(text)
    print(i18n.t("impact.method_caption", args.language, treated=result.n_treated, control=result.n_control))
    return 0


def _deck(args) -> int:
    slides = tuple(s.strip() for s in args.slides.split(",") if s.strip())
    unknown = [s for s in slides if s not in deck.SLIDES]
    problems = [f"--slides: unknown slide {s!r} (choose from {', '.join(deck.SLIDES)})" for s in unknown]
    suffix = Path(args.out).suffix.lower()
    if suffix not in (".pptx", ".pdf"):
        problems.append(f"--out {args.out!r}: the file must end in .pptx or .pdf")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return EXIT_REJECTED
    engine = _engine(args)
    request = deck.DeckRequest(args.year, region_codes=frozenset(args.region) or None,
                               municipality_codes=frozenset(args.municipality) or None, slides=slides,
                               language=args.language)
    try:
        built = deck.build(engine, Scope.everything(), request)
    except deck.NotAllowed as refused:  # e.g. several municipalities: two such decks could be subtracted
        print(f"deck: {refused}", file=sys.stderr)
        return EXIT_REJECTED
    content = deck.to_pptx(built, args.language) if suffix == ".pptx" else deck.to_pdf(built)
    Path(args.out).write_bytes(content)
    print(f"wrote {len(built.slides) + 1} slides ({built.area}, {args.year}) to {args.out}")
    left_out = [kind for kind in slides if kind not in {s.kind for s in built.slides}]
    if left_out:  # nothing to show (no targets set, say): said, as the page says it
        print(f"left out for having nothing to show: {', '.join(left_out)}")
    return 0


def _migrate(args) -> int:
    engine = store.make_engine(args.db)
    bootstrap.ensure_database(engine, with_demo=False)
    print(f"schema is current: {store.database_url(args.db)}")
    return 0


def _results(args) -> int:
    engine = _engine(args)
    if args.clear:
        print(f"deleted {results.forget(engine)} kept result(s)")
        return 0
    if args.first_views:
        if not os.environ.get(environment.USERS_FILE):
            print(f"refused: no account file: set {environment.USERS_FILE}", file=sys.stderr)
            return EXIT_REJECTED
        users = _configured_accounts()
        if not users:
            return EXIT_REJECTED
        first = first_views.warm(engine, users)
        print(f"first views of {first.accounts} account(s) ready: {first.results} result(s) in {first.seconds:.1f} s")
        return 0
    count, size = results.kept(engine)
    print(f"{count} kept result(s), {size / 2**20:.1f} MiB")
    return 0


def _read_password() -> str:
    """From a prompt on a terminal (not echoed), else the first line of standard input."""
    if sys.stdin.isatty():
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise SystemExit("the passwords differ")
        return password
    return sys.stdin.readline().rstrip("\n")


def _user(args) -> int:
    password = _read_password()
    if len(password) < 8:
        print("refused: a password needs at least 8 characters", file=sys.stderr)
        return EXIT_REJECTED
    if args.user_command == "hash-password":
        print(accounts.hash_password(password))
        return 0
    try:
        accounts.add_user(Path(args.file), args.username, args.name, password, args.role,
                          municipalities=tuple(args.municipality), regions=tuple(args.region), school=args.school)
    except accounts.ConfigError as error:
        print("refused:\n" + "\n".join(error.messages), file=sys.stderr)
        return EXIT_REJECTED
    print(f"saved user {args.username!r} ({args.role}) to {args.file}")
    return 0
