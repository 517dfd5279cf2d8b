"""Every environment variable Läsnäolo reads, named once. `lasnaolo.settings` decides from them
(and the secrets file) whether this is a demo or a production installation; the modules that read
one value of their own (the database URL, the boundary file) take its name from here."""

from __future__ import annotations

from collections.abc import Mapping

DB_URL = "LASNAOLO_DB_URL"  # SQLAlchemy URL of the database; unset: the embedded SQLite file
DEMO_DATA = "LASNAOLO_DEMO_DATA"  # "1": fill a configured, empty database with the demo data (test servers)
USERS_FILE = "LASNAOLO_USERS_FILE"  # the account file (YAML, bcrypt hashes)
COOKIE_KEY = "LASNAOLO_COOKIE_KEY"  # signs the login cookie
PSEUDONYM_KEY = "LASNAOLO_PSEUDONYM_KEY"  # keys the schools' pseudonyms
TRUSTED_PROXIES = "LASNAOLO_TRUSTED_PROXIES"  # reverse proxies that append to X-Forwarded-For
MUNICIPALITY_GEOJSON = "LASNAOLO_MUNICIPALITY_GEOJSON"  # official municipality boundaries for the map
# Stricter suppression than the product's minimum (contract.SUPPRESSION); never looser.
MIN_PUPILS = "LASNAOLO_MIN_PUPILS"
MIN_RESPONDENTS = "LASNAOLO_MIN_RESPONDENTS"

# Any of these set, even alone, means "this is a real installation" (production fails closed).
PRODUCTION = (DB_URL, USERS_FILE, COOKIE_KEY, PSEUDONYM_KEY)
# Read by the test command (tests/run.sh), never by the app.
TEST_HARNESS = ("LASNAOLO_REQUIRE_POSTGRES", "LASNAOLO_REQUIRE_BROWSER", "LASNAOLO_REQUIRE_OFFICE",
                "LASNAOLO_CHROMIUM", "LASNAOLO_TEST_WORKERS")
KNOWN = (DB_URL, DEMO_DATA, USERS_FILE, COOKIE_KEY, PSEUDONYM_KEY, TRUSTED_PROXIES, MUNICIPALITY_GEOJSON, MIN_PUPILS,
         MIN_RESPONDENTS, *TEST_HARNESS)
PREFIX = "LASNAOLO_"


def unknown(environ: Mapping[str, str]) -> list[str]:
    """Läsnäolo-looking variables no part of Läsnäolo reads: a mistyped name (LASNAOLO_DB_ULR) would
    otherwise leave the installation in demo mode, with the demo accounts, unnoticed."""
    return sorted(name for name in environ if name.upper().startswith(PREFIX) and name not in KNOWN)


def database_url(environ: Mapping[str, str]) -> str | None:
    return environ.get(DB_URL) or None


def fills_demo_data(environ: Mapping[str, str]) -> bool:
    """Whether an empty database may get the demo data: the embedded default file, or a
    configured one explicitly asked for (a test server)."""
    return DB_URL not in environ or environ.get(DEMO_DATA) == "1"
