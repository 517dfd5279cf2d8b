"""Benchmark: page render times and memory at demo and national scale, on SQLite and PostgreSQL.

For each data set and database this script
1. imports the seeded data set with `python -m lasnaolo import` (a child process, timed); then,
   per pair of server processes, computes the first views of an account file of the five demo
   roles with the pair's keys (`python -m lasnaolo results --first-views`, timed), as an
   installation's import does (lasnaolo.first_views); `--no-first-views` leaves them out (an
   account file of the administrator alone, nothing kept before the first process: the cold
   renders and filter changes are then computed);
2. starts a fresh child process that plays the server: it runs the app with Streamlit's AppTest
   (the real scripts, widgets and caches, without a browser), logs in as the administrator (all
   data: the heaviest scope) and measures
   - start: from the process start to the first rendered page after login,
   - per page: cold (first render, empty caches), warm (the same inputs again) and after changing
     one filter (a different school year, metric, outcome or number of clusters),
   - the process's peak resident memory.
3. starts a second server process with the same installation keys after the first one ended: its
   first render of each page and its filter change read what the first process computed and kept
   in the database (lasnaolo.results), as a second server behind a load balancer, or the same
   server after a restart, would;
4. imports the measures file again (a new data version; the import computes again what the two
   processes asked, timed with it) and starts a third process: its first renders after an import.
Each figure is the median over `--runs` fresh pairs of server processes (a cold render or a first
filter change happens once per process; every pair has its own keys, so nothing kept by one pair
is read by the next); within a process the warm render is the median of `--repeat` reruns.
Prints Markdown tables.

    python benchmarks/page_benchmark.py [--scales demo national] [--databases sqlite postgresql] [--runs 3] [--repeat 3] [--no-first-views]

Goals (issue 7): warm <= 300 ms at national scale and <= 2x the demo time; a filter change <= 1 s;
first render <= 3 s after start; peak memory <= 1.5 GiB at national scale.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # the product, and tests/support

# page -> (widget kind, key or position, unused, the option index or values chosen) for the one filter changed
FILTERS = {
    "overview": ("selectbox", 0, None, 1),
    "trends": ("selectbox", "trend_metric", None, 2),
    "comparison": ("selectbox", "compare_year", None, 1),
    "clusters": ("selectbox", "risk_k", None, 2),
    "targets": ("selectbox", "target_year", None, 2),
    "impact": ("selectbox", "impact_outcome", None, 1),
    "evaluation": ("selectbox", "evaluation_year", None, 1),
    "present": ("multiselect", "present_slides", None, ["headline", "seasonal", "ranking"]),
    "data": (None, None, None, None),
}


def measure_pages(repeat: int) -> dict:
    """Runs inside the child process (`--child`): the server's part."""
    started = time.perf_counter()
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    at.run()
    at.text_input[0].input("admin")
    at.text_input[1].input("demo")
    at.button[0].click()
    at.run()
    first = time.perf_counter() - started
    results = {"start_s": first, "pages": {}}
    for page, (kind, key, _, changed) in FILTERS.items():
        timings = {}
        t0 = time.perf_counter()
        at.switch_page(f"pages/{page}.py").run()
        timings["cold_s"] = time.perf_counter() - t0
        if at.exception:
            raise RuntimeError(f"{page}: {[e.message for e in at.exception]}")
        warm = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            at.run()
            warm.append(time.perf_counter() - t0)
        timings["warm_s"] = statistics.median(warm)
        if kind:
            widget = getattr(at, kind)[key] if isinstance(key, int) else getattr(at, kind)(key=key)
            # A selectbox's index, a multiselect's values (AppTest shows options as formatted labels).
            changed_widget = widget.select_index(changed) if isinstance(changed, int) else widget.set_value(changed)
            t0 = time.perf_counter()
            changed_widget.run()
            timings["filter_s"] = time.perf_counter() - t0
        results["pages"][page] = timings
    results["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return results


def median_of(runs: list[dict]) -> dict:
    """Per figure, the median over the server processes."""
    out = {key: statistics.median(r[key] for r in runs) for key in ("start_s", "peak_mib", "reimport_s", "first_views_s")}
    out["pages"] = {page: {name: statistics.median(r["pages"][page][name] for r in runs) for name in timings}
                    for page, timings in runs[0]["pages"].items()}
    return out


def run_pair(url: str, repeat: int, measures: Path, first_views: bool) -> dict:
    """A first server process and then a second one of the same installation (the same keys): the
    first's figures, with the second's first renders and filter changes beside them."""
    import secrets

    keys = {"LASNAOLO_COOKIE_KEY": secrets.token_urlsafe(48), "LASNAOLO_PSEUDONYM_KEY": secrets.token_urlsafe(48)}
    users = Path(tempfile.mkdtemp()) / "users.yaml"
    # The caller's own account file or demo mode must not change what is computed.
    clean = {k: v for k, v in os.environ.items() if k not in ("LASNAOLO_USERS_FILE", "LASNAOLO_DEMO_DATA")}
    started = time.perf_counter()
    if first_views:  # as an installation's import computes them for its account file
        from browser_benchmark import write_accounts  # the same five demo roles as the browser benchmark

        write_accounts(users, measures.parent / "schools.csv")
        done = subprocess.run([sys.executable, "-m", "lasnaolo", "results", "--first-views", "--db", url], cwd=ROOT,
                              capture_output=True, text=True, env={**clean, **keys, "LASNAOLO_USERS_FILE": str(users)})
        if done.returncode != 0:
            raise SystemExit(f"the first views failed ({done.returncode}):\n{done.stderr[-4000:]}")
    else:  # the administrator alone, and nothing computed before the first process
        from lasnaolo import accounts

        users.write_text(f"credentials:\n  usernames:\n    admin: {{name: Admin, role: admin, password: "
                         f"'{accounts.DEMO_PASSWORD_HASH}'}}\n", encoding="utf-8")
    first_views_s = time.perf_counter() - started
    first, second = run_child(url, repeat, keys, users), run_child(url, repeat, keys, users)
    first["first_views_s"] = first_views_s if first_views else float("nan")
    for page, timings in first["pages"].items():
        timings["second_cold_s"] = second["pages"][page]["cold_s"]
        if "filter_s" in timings:
            timings["second_filter_s"] = second["pages"][page]["filter_s"]
    # An import (the measures file again: a new data version), which computes again what the two
    # processes asked (and, with the account file, its first views), then a third process's first renders.
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "lasnaolo", "import", str(measures), "--db", url], cwd=ROOT, check=True,
                   capture_output=True,
                   env={**clean, **keys, **({"LASNAOLO_USERS_FILE": str(users)} if first_views else {})})
    first["reimport_s"] = time.perf_counter() - started
    third = run_child(url, repeat, keys, users)
    for page, timings in first["pages"].items():
        timings["after_import_cold_s"] = third["pages"][page]["cold_s"]
    return first


def run_child(url: str, repeat: int, keys: dict[str, str], users: Path) -> dict:
    """A configured database is production: an account file with an administrator (password
    "demo") and random keys, as a real installation has."""
    env = {**os.environ, "LASNAOLO_DB_URL": url, "LASNAOLO_USERS_FILE": str(users), **keys}
    env.pop("LASNAOLO_DEMO_DATA", None)
    output = subprocess.run([sys.executable, __file__, "--child", "--repeat", str(repeat)], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    if output.returncode != 0:  # the server's own traceback says why, not only that it failed
        raise SystemExit(f"the measuring process failed ({output.returncode}):\n{output.stderr[-4000:]}")
    return json.loads(output.stdout.strip().splitlines()[-1])


def demo_files(scale: str, folder: Path) -> Path:
    """The seeded data set's CSV files (written once per folder)."""
    data = folder / scale
    if not data.exists():
        subprocess.run([sys.executable, "-m", "lasnaolo", "demo", "--scale", scale, "--out", str(data)], cwd=ROOT,
                       check=True, capture_output=True)
    return data


def import_data(scale: str, url: str, folder: Path, env: dict[str, str] | None = None) -> tuple[float, str]:
    """Seconds to import the data set with the command line (with `env` added to the environment),
    and what the command printed."""
    data = demo_files(scale, folder)
    files = [str(data / name) for name in ("schools.csv", "absences.csv", "wellbeing.csv", "measures.csv")]
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "lasnaolo", "import", *files, "--db", url], cwd=ROOT, check=True,
                          capture_output=True, text=True, env={**os.environ, **(env or {})})
    return time.perf_counter() - started, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scales", nargs="+", default=["demo", "national"])
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--repeat", type=int, default=3, help="warm reruns within a process")
    parser.add_argument("--runs", type=int, default=3, help="fresh server processes per data set and database")
    parser.add_argument("--no-first-views", action="store_true",
                        help="time the computation: no account file's first views kept before the first process")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure_pages(args.repeat)))
        return
    from support.pgserver import ThrowawayPostgres, postgres_bin_dir

    server = ThrowawayPostgres(postgres_bin_dir()) if "postgresql" in args.databases else None
    rows = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            for scale in args.scales:
                for database in args.databases:
                    url = (f"sqlite:///{Path(folder) / f'{scale}.db'}" if database == "sqlite" else server.new_database())
                    imported, _ = import_data(scale, url, Path(folder))
                    result = median_of([run_pair(url, args.repeat, Path(folder) / scale / "measures.csv", not args.no_first_views)
                                        for _ in range(args.runs)])
                    rows.append((scale, database, imported, result))
                    print(f"measured {scale} on {database}", file=sys.stderr)
    finally:
        if server:
            server.stop()
    print("| data | database | import (s) | first views (s) | start to first page (s) | peak memory (MiB) "
          "| import again, with computing again (s) |")
    print("|---|---|---|---|---|---|---|")
    for scale, database, imported, result in rows:
        views = "–" if math.isnan(result["first_views_s"]) else f"{result['first_views_s']:.1f}"
        print(f"| {scale} | {database} | {imported:.1f} | {views} | {result['start_s']:.1f} | {result['peak_mib']:.0f} "
              f"| {result['reimport_s']:.1f} |")
    print()
    print("| data | database | page | cold (ms) | warm (ms) | filter change (ms) | second process: cold (ms) "
          "| second process: filter change (ms) | after an import: cold (ms) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for scale, database, _, result in rows:
        for page, timings in result["pages"].items():
            change, later = (f"{timings[k] * 1000:.0f}" if k in timings else "–" for k in ("filter_s", "second_filter_s"))
            print(f"| {scale} | {database} | {page} | {timings['cold_s'] * 1000:.0f} | {timings['warm_s'] * 1000:.0f} "
                  f"| {change} | {timings['second_cold_s'] * 1000:.0f} | {later} | {timings['after_import_cold_s'] * 1000:.0f} |")


if __name__ == "__main__":
    main()
