"""Benchmark: what a user waits for in a real browser, per role and page, at demo and national
scale, on SQLite and PostgreSQL.

For each data set and database this script
1. writes an account file with the five demo roles and their demo scopes (the director, rector and
   steering group of Hyvinkää, the coordinator of the nine pilot municipalities, the
   administrator with all data; password "demo") and fresh installation keys;
2. imports the seeded data set into a fresh database with `python -m lasnaolo import`, configured
   as a real installation (the account file and the keys): nothing was asked before, and the import
   computes every account's first views (lasnaolo.first_views; its time is printed apart), then
   starts a real `streamlit run` server on the database;
3. in headless Chromium (Debian's chromium, driven by Playwright), signs in as each role in turn and
   opens each of the role's pages from the sidebar twice: the first visit, then, after all of
   them, the repeat visit (the overview, where signing in lands, is timed when opened again from
   the last page: its own first computing happens during the sign-in), then the repeat visit
   again (two visits that should cost the same: how far they differ is the noise a moved tab's
   difference is judged against, printed as the summary's "again" line), and the first page once
   more after the tab was left alone IDLE_S (Chromium draws a page slower after a pause, whatever
   the server does; step 6's first page is compared with it; sections too are opened a third
   time). A visit is timed from the
   click on the page's link to the page's last visible change: the last insertion, removal or edit
   in the main area, or drawing on a canvas, before a second without any, once the script has
   finished (Streamlit's own state) and nothing stale is left on the page. A table grid's
   screen-reader copy, which the grid writes inside its canvas 0.2 s after drawing and a browser
   never shows, and the hidden toolbar of a chart or table are waited for but not counted (their
   time is printed when later);
4. on the pages drawn one section at a time, opens each section from its tab, first and again,
   timed as a visit, from the click on the tab: the trends page's groups, areas, wellbeing, then
   back to the months and years it opens on; the comparison's school and positive outliers, then
   back to the schools needing attention it opens on (a rector's comparison is one section); the
   presentation's slides in its preview, back to the first;
5. signs in again as each role in a new browser tab (a new browser context: nothing of the first
   tab's pages loaded or cached) and times its first visits on the same, now warm, server process:
   what drawing each page for the first time in a tab costs, whatever the server has kept;
6. starts a second server process on the same database with the same keys, while the first still
   runs, and moves the tabs of steps 3-4 to it, as a load balancer does when it takes a process out
   of service: the benchmark's tabs reach the first process through a relay on a port of its own,
   which now sends every connection to the second process and closes those open, so each tab
   reconnects there and is signed in again by its cookie (it was on its overview when moved). It
   times every role's first visits (and sections) on the second process in that tab, which
   has drawn every page before: the same tab, the same pages, only the process new; each tab's
   first page no sooner than IDLE_S after the tab went quiet. Step 3's repeat visits are its
   yardstick (its page after IDLE_S alone for the first page). For step 3's repeat visits, its
   visit after IDLE_S alone and step 6's visits the server process's CPU time is printed too (10 ms
   ticks; on PostgreSQL without the database's): the server's part, apart from the browser's;
7. starts another new process (the one of step 6 stopped) and times every role's first visits
   there in a new tab: what a second server behind a load balancer meets from a new user. Step 5
   is its yardstick: a second process that computes nothing again is as fast as the first
   process is for a new tab.
Prints a Markdown table, and per data set a summary: how many pages and sections the moved tab
(step 6) drew within 0.1 s of its yardstick, the new tab on a new process (step 7) within 0.1 s
of step 5, and, for scale, the repeat visit again within 0.1 s of the repeat visit.

    python benchmarks/browser_benchmark.py [--scales demo national] [--databases sqlite postgresql]
                                           [--roles admin johtaja rehtori ohjausryhma koordinaattori]

Goals (issue 21): every page's first visit after an import <= 2 s for every role at national
scale; repeat visits <= 0.5 s; the second process's first visit as fast as the first process's
repeat visit (step 6 against step 3; step 7 against step 5 for a new tab).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import re
import secrets
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # the product, and tests/support and the browser tests' steps

from lasnaolo import accounts, environment, i18n  # noqa: E402

USERNAMES = ("admin", "johtaja", "rehtori", "ohjausryhma", "koordinaattori")
# A tab left alone this long draws its next page about 0.13 s slower in Chromium (more of the
# browser's own CPU, the same server CPU; measured with and without a move, README's ninth
# session): a moved tab's first page is compared with the first process's page after as long
# alone, and is never clicked sooner.
IDLE_S = 20
QUIET_MS = 1000  # a page has stopped changing after this long without a change
# What a user sees change: a node inserted, removed or edited in the main area, or a drawing on a
# canvas (a table's grid is drawn on one). Two kinds of change are not seen and kept apart
# (`hidden`), so the difference can be printed: the children of a <canvas>, which a browser never
# draws (the table's grid, glide-data-grid, puts its screen-reader copy of the visible cells there
# 200 ms after drawing, a debounced memo: counted, every page with a table looked 0.2 s slower
# than it is seen), and the toolbar of a chart or table, transparent until the pointer is over
# it (Streamlit adds its buttons after the chart is drawn).
CANVAS_DRAWS = """(() => {
  const proto = CanvasRenderingContext2D.prototype;
  for (const name of ['fillText', 'strokeText', 'fillRect', 'strokeRect', 'clearRect', 'drawImage',
                      'fill', 'stroke', 'putImageData']) {
    const draw = proto[name];
    proto[name] = function (...args) {
      if (window.__benchmark) window.__benchmark.last = performance.now();
      return draw.apply(this, args);
    };
  }
})()"""
# Records the time of every visible change of the main area; `last` is read once the page is quiet.
OBSERVE = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  window.__benchmark = {last: performance.now(), hidden: 0};
  if (window.__benchmarkObserver) window.__benchmarkObserver.disconnect();
  window.__benchmarkObserver = new MutationObserver((records) => {
    const now = performance.now();
    for (const record of records) {
      const node = record.target.nodeType === Node.ELEMENT_NODE ? record.target : record.target.parentElement;
      if (node && node.closest('canvas, [data-testid="stElementToolbar"]')) window.__benchmark.hidden = now;
      else window.__benchmark.last = now;
    }
  });
  window.__benchmarkObserver.observe(main, {subtree: true, childList: true, characterData: true,
                                           attributes: true, attributeFilter: ['data-stale']});
}"""
# The page's link in the sidebar; the first page (the home) is linked as "/".
CLICK = """([name, home]) => {
  const links = [...document.querySelectorAll('[data-testid="stSidebarNav"] a')];
  const path = (a) => new URL(a.href).pathname;
  const link = links.find(a => path(a) === (home ? '/' : `/${name}`));
  if (!link) return null;  // the sidebar not drawn yet: clicked again
  window.__benchmark.start = performance.now();
  link.click();
  return window.__benchmark.start;
}"""
# A section's tab, clicked in the same script that starts the clock (as CLICK).
CLICK_TAB = """(label) => {
  const tab = [...document.querySelectorAll('[data-testid="stMain"] [role="tab"]')].find(t => t.innerText.trim() === label);
  window.__benchmark.start = performance.now();
  tab.click();
  return window.__benchmark.start;
}"""
QUIET = f"""() => !document.querySelector('[data-stale="true"]')
  && document.querySelector('[data-testid="stApp"]').getAttribute('data-test-script-state') === 'notRunning'
  && performance.now() - Math.max(window.__benchmark.last, window.__benchmark.hidden) >= {QUIET_MS}"""


def write_accounts(path: Path, schools_csv: Path) -> None:
    """The demo roles with their demo scopes, in an account file as a real installation has,
    written before the import (which computes their first views). The rector's school: the
    demo municipality's, chosen as demo mode chooses it."""
    import pandas as pd
    import yaml

    schools = pd.read_csv(schools_csv, dtype=str).sort_values("school_id")
    rector_school = accounts.demo_rector_school(schools[schools["municipality_code"] == accounts.DEMO_MUNICIPALITY])
    users = {}
    for username, account in accounts.demo_accounts(rector_school).items():
        users[username] = {"name": account.name, "email": f"{username}@example.invalid",
                           "password": accounts.DEMO_PASSWORD_HASH, "role": account.role,
                           "municipalities": list(account.municipalities), "regions": list(account.regions),
                           "school": account.school}
    path.write_text(yaml.safe_dump({"credentials": {"usernames": users}}, allow_unicode=True), encoding="utf-8")


def visit(page, name: str, home: bool) -> float:
    """Seconds from the click on the page's link to its last visible change. A click that a component's
    rerun swallowed (the sign-in cookie's, right after signing in; the browser tests meet it too)
    is made again, and timed from then; a page that never settles is NaN, not the end of the run."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
    from test_browser import HEADING_KEYS

    heading = i18n.t(HEADING_KEYS[name], i18n.DEFAULT_LANGUAGE)
    for _ in range(3):
        page.evaluate(OBSERVE)
        start = page.evaluate(CLICK, [name, home])
        if start is None:
            print(f"  {name}: no link in the sidebar yet, clicking again", file=sys.stderr)
            page.wait_for_timeout(1000)
            continue
        try:
            # The script starts, runs and stops: first its new heading, then quiet.
            page.wait_for_function("(h) => [...document.querySelectorAll('h1')].some(e => e.innerText.startsWith(h))",
                                   arg=heading, timeout=30_000 if name != "present" else 300_000)
            page.wait_for_function(QUIET, timeout=300_000, polling=100)
            if page.locator('[data-testid="stException"]').count():
                # A page that failed is no measurement (the director's risk page crashed, fast, unnoticed).
                print(f"  {name}: the page shows an error: {page.locator('[data-testid=stException]').first.inner_text()[:300]}",
                      file=sys.stderr)
                return math.nan
            seen, hidden = page.evaluate("() => [window.__benchmark.last, window.__benchmark.hidden]")
            if hidden - seen > 50:
                print(f"  {name}: last visible change {(seen - start) / 1000:.2f} s, last hidden one "
                      f"{(hidden - start) / 1000:.2f} s", file=sys.stderr)
            return (seen - start) / 1000
        except PlaywrightTimeoutError:
            print(f"  {name}: no change seen, clicking again", file=sys.stderr)
    return math.nan


def server_cpu(port: int):
    """A clock of the CPU time (ns) that the server process on `port` has used, from Linux's
    /proc/<pid>/stat: the whole process, including the threads that have ended (each script run
    is a thread of its own that ends with the run; summing the live threads missed them), in
    clock ticks of 10 ms. The server's part of a visit, apart from the browser's. On PostgreSQL the
    database's own processes are not in it."""
    flag = f"--server.port={port}".encode()
    found = [path.parent for path in Path("/proc").glob("[0-9]*/cmdline")
             if flag in _read(path).split(b"\0") and b"streamlit" in _read(path)]
    if len(found) != 1:
        raise RuntimeError(f"expected one server process on port {port}, found {len(found)}")
    stat, tick_ns = found[0] / "stat", 1e9 / os.sysconf("SC_CLK_TCK")

    def used_ns() -> int:
        fields = _read(stat).rsplit(b")", 1)[-1].split()  # after the command's name, which may hold spaces
        return int((int(fields[11]) + int(fields[12])) * tick_ns)  # utime, stime
    return used_ns


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:  # a process that ended meanwhile
        return b""


def timed_visit(page, name: str, home: bool, cpu) -> tuple[float, float]:
    """`visit`'s seconds, and the server's CPU milliseconds from the click to the page gone quiet."""
    before = cpu()
    seconds = visit(page, name, home)
    return seconds, (cpu() - before) / 1e6


def open_section(page, of: str, section: str) -> float:
    """Seconds from the click on a section's tab of the page `of` to the page's last visible
    change, once the section's own heading is drawn and nothing else's (as `visit`)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
    from support.helpers import PAGE_SECTIONS
    from test_browser import SECTION_DRAWN, section_headings

    label = i18n.t(f"{PAGE_SECTIONS[of]}.{section}", i18n.DEFAULT_LANGUAGE)
    headings = section_headings(section, i18n.DEFAULT_LANGUAGE, of)
    for _ in range(3):
        page.evaluate(OBSERVE)
        start = page.evaluate(CLICK_TAB, label)
        try:
            page.wait_for_function(SECTION_DRAWN, arg=headings, timeout=30_000)
            page.wait_for_function(QUIET, timeout=300_000, polling=100)
            seen = page.evaluate("() => window.__benchmark.last")
            return (seen - start) / 1000
        except PlaywrightTimeoutError:
            print(f"  {of} section {section}: not drawn, clicking again", file=sys.stderr)
    return math.nan


def measure_sections(page, of: str, role: str, repeat: bool) -> dict[str, dict]:
    """Each section of the page `of` opened from its tab (as drawn for `role`: a deck leaves out
    the slides with nothing to show): the others first, then back to the one the page opens on
    (so its first figure is its second drawing in the tab); first, and again (`repeat`)."""
    from support.helpers import drawn_sections, sections_of
    from test_browser import tab_labels

    visit(page, of, False)
    order = (*drawn_sections(of, role, tab_labels(page), i18n.DEFAULT_LANGUAGE), sections_of(of, role)[0])
    out = {section: {"first_s": open_section(page, of, section)} for section in order}
    if repeat:
        for section in order:
            out[section]["repeat_s"] = open_section(page, of, section)
        for section in order:
            out[section]["again_s"] = open_section(page, of, section)
    return out


def measure_server(browser, base: str, usernames: list[str], repeat: bool, keep: dict | None = None,
                   server_port: int | None = None) -> dict[tuple[str, str], dict]:
    """Per (user, page) the first visit's seconds and server CPU (and the repeat visit's); per
    (user, "page: section") those of opening the section's tab. Each user's tab is closed after,
    or left open on the overview in `keep` (by user). `server_port`: the server's, when `base` is a relay's."""
    from test_browser import login

    out = {}
    for username in usernames:
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="fi-FI")
        context.add_init_script(CANVAS_DRAWS)
        page = context.new_page()
        login(page, base, username)
        out.update(measure_tab(page, username, repeat, server_cpu(server_port or port_of(base))))
        if keep is None:
            context.close()
        else:
            visit(page, "overview", True)  # a moved tab reconnects on the page it shows
            keep[username] = page
        print(f"  measured {username}", file=sys.stderr)
    return out


def measure_tab(page, username: str, repeat: bool, cpu) -> dict[tuple[str, str], dict]:
    """`measure_server`'s figures in one signed-in tab, from its overview. With `repeat`, the
    first page is visited once more after the tab was left alone IDLE_S (`idle_repeat_s`): the
    yardstick of a moved tab's first page."""
    from support.helpers import sections_of
    from test_browser import ROLE_OF

    out = {}
    pages = accounts.pages_for(ROLE_OF[username])
    # From the home page the first link clicked is another page: start from the last one.
    order = pages[1:] + pages[:1]
    for name in order:
        seconds, cpu_ms = timed_visit(page, name, name == pages[0], cpu)
        out[(username, name)] = {"first_s": seconds, "first_cpu_ms": cpu_ms}
    if repeat:
        for name in order:
            out[(username, name)]["repeat_s"], out[(username, name)]["repeat_cpu_ms"] = \
                timed_visit(page, name, name == pages[0], cpu)
        for name in order:  # once more: how far two visits that should cost the same differ
            out[(username, name)]["again_s"], out[(username, name)]["again_cpu_ms"] = \
                timed_visit(page, name, name == pages[0], cpu)
        page.wait_for_timeout(IDLE_S * 1000)
        out[(username, order[0])]["idle_repeat_s"], out[(username, order[0])]["idle_repeat_cpu_ms"] = \
            timed_visit(page, order[0], order[0] == pages[0], cpu)
    for name in pages:  # the pages drawn one section at a time
        if len(sections_of(name, ROLE_OF[username])) > 1:
            for section, figures in measure_sections(page, name, ROLE_OF[username], repeat).items():
                out[(username, f"{name}: {section}")] = figures
    return out


def measure_moved(tabs: dict, relay: "Relay", port: int) -> dict[tuple[str, str], dict]:
    """Moves the signed-in tabs (by user, each on its overview) to the server on `port` and times
    their first visits there (as `measure_tab`)."""
    from test_browser import settle

    # Per tab, the times of the frames its new connection received: the old page stays on the
    # screen while the tab reconnects and its session is run again, so only the connection shows
    # when the new process has answered and gone quiet.
    frames = {username: [] for username in tabs}
    for username, page in tabs.items():
        page.on("websocket", lambda socket, seen=frames[username]: socket.on(
            "framereceived", lambda _frame: seen.append(time.monotonic())))
    relay.move_to(port)
    # Every tab reconnected, signed in again and quiet before any is timed: the others' first runs
    # on the new process would otherwise fall on the first tab's visits.
    for username, page in tabs.items():
        deadline = time.monotonic() + 300
        while not frames[username] or time.monotonic() - frames[username][-1] < QUIET_MS / 1000 * 1.5:
            if time.monotonic() > deadline:  # Playwright delivers the tab's events while it waits
                raise RuntimeError(f"{username}'s tab did not reconnect after the move")
            page.wait_for_timeout(200)
        # Signed in again by its cookie, on the overview, with the role's pages in the sidebar.
        page.wait_for_function("() => document.querySelectorAll('[data-testid=\"stSidebarNav\"] a').length > 1",
                               timeout=60_000)
        page.get_by_role("heading", name=re.compile("^Yleiskuva")).wait_for(timeout=60_000)
        settle(page)
    if relay.connections_to(port) < len(tabs):
        raise RuntimeError("the moved tabs did not reach the new process")
    out, cpu = {}, server_cpu(port)
    for username, page in tabs.items():
        page.wait_for_timeout(max(0.0, IDLE_S - (time.monotonic() - frames[username][-1])) * 1000)
        out.update(measure_tab(page, username, repeat=False, cpu=cpu))
        page.context.close()
        print(f"  measured {username} in the moved tab", file=sys.stderr)
    return out


class Relay:
    """A load balancer's part: forwards a port of its own to one server process, and on `move_to`
    sends every new connection to another and closes those open (as a process taken out of
    service does), so the browser reconnects through it to the other process."""

    def __init__(self, target_port: int):
        from support.helpers import free_port

        self.port, self._target, self._open = free_port(), target_port, set()
        self._connections: dict[int, int] = {}  # per target port, the connections made to it
        self._loop = asyncio.new_event_loop()
        started = threading.Event()
        self._thread = threading.Thread(target=self._serve_forever, args=(started,), daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError(f"the relay could not listen on port {self.port}")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve_forever(self, started: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._connect, "127.0.0.1", self.port))
        started.set()
        self._loop.run_forever()

    async def _connect(self, reader, writer) -> None:
        target = self._target
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            writer.transport.abort()
            return
        if target != self._target:  # moved while connecting: the browser connects again
            writer.transport.abort()
            upstream_writer.transport.abort()
            return
        self._connections[target] = self._connections.get(target, 0) + 1
        pair = {writer, upstream_writer}
        self._open |= pair
        await asyncio.gather(self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer))
        self._open -= pair

    @staticmethod
    async def _pipe(reader, writer) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.transport.abort()

    def move_to(self, port: int) -> None:
        def move():
            self._target = port
            for writer in list(self._open):
                writer.transport.abort()
        self._loop.call_soon_threadsafe(move)

    def connections_to(self, port: int) -> int:
        return self._connections.get(port, 0)

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


def port_of(base: str) -> int:
    return int(base.rsplit(":", 1)[1])


@contextlib.contextmanager
def server(url: str, users: Path, keys: dict[str, str], log: Path):
    from support.helpers import streamlit_server

    env = {k: v for k, v in os.environ.items() if k not in (*environment.PRODUCTION, "LASNAOLO_DEMO_DATA")}
    env.update({environment.DB_URL: url, environment.USERS_FILE: str(users), **keys})
    with streamlit_server(["-m", "streamlit", "run", "app.py"], cwd=ROOT, env=env, log_path=log) as base:
        yield base


def summary(timings: dict[tuple[str, str], dict], within_s: float = 0.1) -> list[str]:
    """How many pages and sections were within `within_s` of their yardsticks: the moved tab
    against the repeat visit (the first page: against itself after IDLE_S alone), the new tab on
    a new process against a new tab on the first, and the repeat visit again against the repeat
    visit (the same comparison where nothing differs: its misses are noise). Slower only counts
    against the goal: a visit faster than its yardstick is within. Those faster by more than
    `within_s` are listed apart, so that a reader sees how far the noise goes either way."""
    def count(pairs) -> str:
        pairs = list(pairs)
        differences = [round(late - yardstick, 2) for late, yardstick in pairs]
        off = sorted((d for d in differences if d > within_s), reverse=True)
        faster = sorted(-d for d in differences if d < -within_s)
        mean = sum(late - yardstick for late, yardstick in pairs) / len(pairs)
        return (f"{len(pairs) - len(off)} of {len(pairs)} (mean {mean:+.3f} s; over by {off};"
                f" faster by more than {within_s} s: {sorted(faster, reverse=True)})")

    lines = []
    for kind, rows in (("pages", [f for (_, name), f in timings.items() if ":" not in name]),
                       ("sections", [f for (_, name), f in timings.items() if ":" in name])):
        lines += [f"  {kind}, moved tab within {within_s} s of its yardstick: "
                  + count((f["moved_s"], f.get("idle_repeat_s", f["repeat_s"])) for f in rows),
                  f"  {kind}, new tab on a new process within {within_s} s of one on the first: "
                  + count((f["second_s"], f["new_session_s"]) for f in rows),
                  f"  {kind}, repeat visit again within {within_s} s of the repeat visit: "
                  + count((f["again_s"], f["repeat_s"]) for f in rows)]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scales", nargs="+", default=["demo", "national"])
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--roles", nargs="+", default=list(USERNAMES), choices=USERNAMES)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright
    from page_benchmark import demo_files, import_data  # the same import, timed the same way
    from support.pgserver import ThrowawayPostgres, postgres_bin_dir
    from test_browser import CHROMIUM, CHROMIUM_ARGS

    pg = ThrowawayPostgres(postgres_bin_dir()) if "postgresql" in args.databases else None
    rows = []
    try:
        with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for scale in args.scales:
                for database in args.databases:
                    url = f"sqlite:///{Path(folder) / f'{scale}.db'}" if database == "sqlite" else pg.new_database()
                    users = Path(folder) / f"users-{scale}-{database}.yaml"
                    write_accounts(users, demo_files(scale, Path(folder)) / "schools.csv")
                    keys = {environment.COOKIE_KEY: secrets.token_urlsafe(48),
                            environment.PSEUDONYM_KEY: secrets.token_urlsafe(48)}
                    # The import computes the accounts' first views, as an installation's import does.
                    imported, said = import_data(scale, url, Path(folder), {environment.USERS_FILE: str(users), **keys})
                    first_views = re.search(r"first views of .*", said)
                    print(f"{scale} on {database}: imported in {imported:.0f} s in all; "
                          f"{first_views.group(0) if first_views else 'no first views computed'}", file=sys.stderr)
                    with server(url, users, keys, Path(folder) / "first.log") as first:
                        relay = Relay(port_of(first))
                        tabs = {}
                        try:
                            timings = measure_server(browser, relay.base, args.roles, repeat=True, keep=tabs,
                                                     server_port=port_of(first))
                            # A new browser session on the same, warm process: what a page's first
                            # drawing in a new tab costs the browser whatever the server does.
                            for key, figures in measure_server(browser, first, args.roles, repeat=False).items():
                                timings[key]["new_session_s"] = figures["first_s"]
                            with server(url, users, keys, Path(folder) / "second.log") as second:
                                for key, figures in measure_moved(tabs, relay, port_of(second)).items():
                                    timings[key]["moved_s"] = figures["first_s"]
                                    if "first_cpu_ms" in figures:
                                        timings[key]["moved_cpu_ms"] = figures["first_cpu_ms"]
                        finally:
                            relay.close()
                        with server(url, users, keys, Path(folder) / "third.log") as another:
                            for key, figures in measure_server(browser, another, args.roles, repeat=False).items():
                                timings[key]["second_s"] = figures["first_s"]
                    if not rows:
                        print("| data | database | user | page | first visit (s) | repeat visit (s) "
                              "| repeat visit again (s) "
                              f"| the tab's first page again after {IDLE_S} s alone (s) "
                              "| second process, the same tab moved: first visit (s) "
                              "| server CPU (ms): repeat visit / again / after the tab alone / moved tab "
                              "| first process, new tab: first visit (s) | second process, new tab: first visit (s) |")
                        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
                    rows.append((scale, database, timings))
                    for (username, name), figures in timings.items():  # each data set as soon as measured
                        cpu_ms = " / ".join(f"{figures[k]:.0f}" if k in figures else "–"
                                            for k in ("repeat_cpu_ms", "again_cpu_ms", "idle_repeat_cpu_ms", "moved_cpu_ms"))
                        idle = f"{figures['idle_repeat_s']:.2f}" if "idle_repeat_s" in figures else "–"
                        print(f"| {scale} | {database} | {username} | {name} | {figures['first_s']:.2f} "
                              f"| {figures['repeat_s']:.2f} | {figures['again_s']:.2f} | {idle} | {figures['moved_s']:.2f} | {cpu_ms} "
                              f"| {figures['new_session_s']:.2f} | {figures['second_s']:.2f} |", flush=True)
                    print(f"{scale} on {database}:", *summary(timings), sep="\n", file=sys.stderr, flush=True)
            browser.close()
    finally:
        if pg:
            pg.stop()


if __name__ == "__main__":
    main()
