"""Demo or production, decided once from the secrets, the problem reading them and the environment:
anything configured is production, and production refuses to start on anything unsafe. Also the
pseudonyms: keyed by the installation's own key, long enough not to collide, not reversible with
the public demo key, and refused without a strong key on a configured database."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets as random_secrets

import bcrypt
import pytest
import yaml

from lasnaolo import accounts, bootstrap, environment, keys, scope, settings, store
from lasnaolo.accounts import ConfigError
from lasnaolo.settings import SecretsFile

COOKIE_KEY = "r8Yq2vLx-0fKpT3wZs9N_cB6mHj4DgUe1aVoXi7RtPnQ5yWlEkMb"
PSEUDONYM_KEY = "Zt3_pQm8vWc1-XyR6nL0sBfK9uGhJ2aTe5dNo4iY7kVrMxCqHwEj"
WEAK_KEYS = ["a" * 40, "changeme" * 4, "abcd" * 10, keys.DEMO_COOKIE_KEY, keys.DEMO_PSEUDONYM_KEY,
             "some_key", "short-but-random-Xq3", ""]
SECRETS_PATH = "/srv/lasnaolo/.streamlit/secrets.toml"


@pytest.fixture(scope="module")
def users_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("accounts") / "users.yaml"
    entry = {"name": "Maija", "password": accounts.hash_password("correct horse"), "role": "director",
             "municipalities": ["106"]}
    path.write_text(yaml.safe_dump({"credentials": {"usernames": {"maija": entry}}}), encoding="utf-8")
    return str(path)


def production_secrets(users_file, **extra) -> SecretsFile:
    values = {"auth": {"users_file": users_file, "cookie_key": COOKIE_KEY},
              "privacy": {"pseudonym_key": PSEUDONYM_KEY}}
    for section, value in extra.items():
        values[section] = value
    return SecretsFile(values, (SECRETS_PATH,))


def refusal(secrets: SecretsFile, environ: dict | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        settings.load(secrets, environ or {})
    return "\n".join(caught.value.messages)


def test_nothing_configured_is_demo_mode_with_the_demo_keys():
    loaded = settings.load(SecretsFile({}), {"HOME": "/root", "LASNAOLO_DEMO_DATA": "1"})
    assert loaded.demo_mode and loaded.auth is None and loaded.pseudonym_key == keys.DEMO_PSEUDONYM_KEY


def test_a_complete_production_configuration_starts_without_demo_accounts(users_file):
    loaded = settings.load(production_secrets(users_file), {"LASNAOLO_DB_URL": "postgresql+psycopg://x/y"})
    assert not loaded.demo_mode and set(loaded.auth.accounts) == {"maija"}
    assert loaded.pseudonym_key == PSEUDONYM_KEY and loaded.auth.cookie_key == COOKIE_KEY and loaded.trusted_proxies == 0


def test_the_same_configuration_from_the_environment_alone_starts(users_file):
    environ = {"LASNAOLO_DB_URL": "postgresql+psycopg://x/y", environment.USERS_FILE: users_file,
               environment.COOKIE_KEY: COOKIE_KEY, environment.PSEUDONYM_KEY: PSEUDONYM_KEY,
               environment.TRUSTED_PROXIES: "1"}
    loaded = settings.load(SecretsFile({}), environ)
    assert not loaded.demo_mode and loaded.trusted_proxies == 1


def test_an_unparsable_secrets_file_stops_the_app_naming_the_file_and_the_error():
    problem = ("Error parsing secrets file at /srv/lasnaolo/.streamlit/secrets.toml: "
               "Expected '=' after a key in a key/value pair (at line 2, column 7)")
    text = refusal(SecretsFile({}, (SECRETS_PATH,), problem), {"LASNAOLO_DB_URL": "postgresql+psycopg://x/y"})
    assert f"the secrets file {SECRETS_PATH} cannot be read" in text and "at line 2, column 7" in text
    assert "Fix the file" in text


def test_an_unparsable_secrets_file_stops_the_app_even_with_nothing_else_configured():
    assert "cannot be read" in refusal(SecretsFile({}, (SECRETS_PATH,), "Permission denied"))


def test_an_unknown_auth_key_stops_the_app_and_suggests_the_right_one(users_file):
    secrets = production_secrets(users_file)
    secrets.values["auth"] = {"user_file": users_file, "cookie_key": COOKIE_KEY}
    text = refusal(secrets)
    assert f"{SECRETS_PATH}: unknown key `user_file` in [auth]; did you mean `users_file`?" in text
    assert "no account file is configured" in text  # and the consequence is said too


def test_keys_at_the_top_level_of_the_secrets_file_are_said_to_belong_in_their_section(users_file):
    secrets = production_secrets(users_file)
    secrets.values["pseudonym_key"] = PSEUDONYM_KEY
    assert "`pseudonym_key` is at the top level and is not read there; move it under [privacy]" in refusal(secrets)


def test_a_lasnaolo_variable_at_the_top_level_of_the_secrets_file_refuses_to_start(users_file):
    """Streamlit copies the secrets file's top-level values into the environment over what is set
    there, so a stale LASNAOLO_MIN_PUPILS = 5 in the file would replace the service's stricter 10."""
    secrets = production_secrets(users_file)
    secrets.values[environment.MIN_PUPILS] = 5
    assert f"`{environment.MIN_PUPILS}` is at the top level" in refusal(secrets, {environment.MIN_PUPILS: "10"})
    secrets.values.pop(environment.MIN_PUPILS)
    secrets.values["lasnaolo_db_url"] = "sqlite:///x.db"
    assert "`lasnaolo_db_url` is at the top level" in refusal(secrets)


def test_an_existing_but_empty_secrets_file_means_production_and_refuses_without_accounts():
    text = refusal(SecretsFile({}, (SECRETS_PATH,)))
    assert "no account file is configured" in text and "the pseudonym key is missing" in text


def test_a_mistyped_environment_variable_alone_refuses_to_start_and_names_the_right_one():
    """LASNAOLO_DB_ULR set instead of LASNAOLO_DB_URL left a real installation in demo mode, with the
    demo accounts and the public keys (review finding)."""
    text = refusal(SecretsFile({}), {"LASNAOLO_DB_ULR": "postgresql+psycopg://x/y", "HOME": "/root"})
    assert "`LASNAOLO_DB_ULR` is not one Läsnäolo reads; did you mean `LASNAOLO_DB_URL`?" in text
    assert "no account file is configured" in text  # and production's other requirements with it
    # The test command's own variables are not the app's configuration: still demo mode.
    assert settings.load(SecretsFile({}), dict.fromkeys(environment.TEST_HARNESS, "1")).demo_mode


def test_a_configured_database_without_accounts_refuses_to_start():
    text = refusal(SecretsFile({}), {"LASNAOLO_DB_URL": "sqlite:////srv/lasnaolo.db"})
    assert "no account file is configured, and outside demo mode there are no demo accounts" in text
    assert "the cookie key" not in text or "missing" in text


@pytest.mark.parametrize("weak", WEAK_KEYS)
def test_a_weak_or_known_cookie_key_refuses_to_start(users_file, weak):
    secrets = production_secrets(users_file)
    secrets.values["auth"]["cookie_key"] = weak
    assert "the cookie key is" in refusal(secrets)


@pytest.mark.parametrize("weak", WEAK_KEYS)
def test_a_weak_known_or_missing_pseudonym_key_refuses_to_start(users_file, weak):
    secrets = production_secrets(users_file)
    secrets.values["privacy"]["pseudonym_key"] = weak
    assert "the pseudonym key is" in refusal(secrets)


def test_a_missing_pseudonym_key_refuses_to_start(users_file):
    secrets = production_secrets(users_file)
    del secrets.values["privacy"]
    assert "the pseudonym key is missing" in refusal(secrets, {"LASNAOLO_DB_URL": "postgresql+psycopg://x/y"})


def test_the_key_rule_rejects_repetition_and_low_variety_and_accepts_generated_keys():
    assert keys.estimated_bits("a" * 40) == 0 and keys.estimated_bits("changeme" * 4) < 100
    assert keys.is_repetition("abcd" * 10) and not keys.is_repetition(COOKIE_KEY)
    for weak in WEAK_KEYS:
        assert keys.key_problem(weak, "the key", "X") is not None, weak
    for _ in range(200):
        assert keys.key_problem(random_secrets.token_urlsafe(48), "the key", "X") is None


def test_a_weak_password_hash_refuses_to_start_naming_the_user(tmp_path):
    path = tmp_path / "users.yaml"
    weak = bcrypt.hashpw(b"correct horse", bcrypt.gensalt(4)).decode()
    path.write_text(yaml.safe_dump({"credentials": {"usernames": {"heikki": {
        "name": "H", "password": weak, "role": "director", "municipalities": ["106"]}}}}), encoding="utf-8")
    assert "user 'heikki': the password hash has bcrypt cost 4" in refusal(production_secrets(str(path)))


def test_every_problem_is_reported_at_once(users_file):
    secrets = SecretsFile({"auth": {"users_file": users_file, "cookie_key": "a" * 40, "cookie_expiry": 1}},
                          (SECRETS_PATH,))
    text = refusal(secrets)
    assert "unknown key `cookie_expiry`" in text and "the cookie key is" in text and "the pseudonym key is missing" in text


def test_a_configured_database_is_never_filled_with_demo_data_even_when_asked(tmp_path):
    engine = store.make_engine(f"sqlite:///{tmp_path / 'configured.db'}")
    assert bootstrap.ensure_database(engine, with_demo=True) is False
    assert store.is_empty(engine) and not bootstrap.is_embedded_default(engine)
    assert bootstrap.is_embedded_default(store.make_engine(f"sqlite:///{store.DEFAULT_DB_PATH}"))


# Pseudonyms

@pytest.fixture
def production_key():
    scope.configure_pseudonym_key(PSEUDONYM_KEY)
    yield PSEUDONYM_KEY
    scope.configure_pseudonym_key(None)


ALL_CODES = [f"{n:05d}" for n in range(100_000)]


def demo_pseudonym(code: str) -> str:
    digest = hmac.new(keys.DEMO_PSEUDONYM_KEY.encode(), code.encode(), hashlib.sha256).digest()
    return "P" + base64.b32encode(digest).decode()[:scope.PSEUDONYM_LENGTH]


def test_pseudonyms_cannot_be_reversed_by_tabulating_every_code_with_the_demo_key(production_key):
    table = {demo_pseudonym(code): code for code in ALL_CODES}
    assert scope.pseudonym("00123") != demo_pseudonym("00123")
    assert not {scope.pseudonym(code) for code in ALL_CODES} & set(table)


def test_no_two_of_100000_school_codes_share_a_pseudonym(production_key):
    shown = [scope.pseudonym(code) for code in ALL_CODES]
    assert len(set(shown)) == len(ALL_CODES)
    assert all(len(p) == 13 and p[0] == "P" for p in shown[:100])


def test_the_demo_key_is_used_only_with_nothing_configured(monkeypatch):
    scope.configure_pseudonym_key(None)
    monkeypatch.delenv(environment.PSEUDONYM_KEY, raising=False)
    monkeypatch.delenv("LASNAOLO_DB_URL", raising=False)
    assert scope.pseudonym("00123") == demo_pseudonym("00123")
    monkeypatch.setenv("LASNAOLO_DB_URL", "postgresql+psycopg://x/y")
    with pytest.raises(scope.PseudonymKeyMissing, match="the pseudonym key is missing"):
        scope.pseudonym("00123")
    monkeypatch.setenv(environment.PSEUDONYM_KEY, keys.DEMO_PSEUDONYM_KEY)
    with pytest.raises(scope.PseudonymKeyMissing, match="known default"):
        scope.pseudonym("00123")
    monkeypatch.setenv(environment.PSEUDONYM_KEY, PSEUDONYM_KEY)
    assert scope.pseudonym("00123") != demo_pseudonym("00123")


def test_a_configured_key_is_used_by_every_caller_until_forgotten(production_key, monkeypatch):
    monkeypatch.delenv(environment.PSEUDONYM_KEY, raising=False)
    monkeypatch.delenv("LASNAOLO_DB_URL", raising=False)
    configured = scope.pseudonym("00123")
    scope.configure_pseudonym_key(None)
    assert scope.pseudonym("00123") != configured
    scope.configure_pseudonym_key(PSEUDONYM_KEY)
    assert scope.pseudonym("00123") == configured


@pytest.mark.parametrize("demo_engine", ["sqlite"], indirect=True)
def test_the_command_line_refuses_an_anonymised_deck_on_a_configured_database_without_a_pseudonym_key(
        demo_engine, tmp_path, monkeypatch):
    from lasnaolo import cli

    scope.configure_pseudonym_key(None)
    monkeypatch.delenv(environment.PSEUDONYM_KEY, raising=False)
    monkeypatch.setenv("LASNAOLO_DB_URL", demo_engine.url.render_as_string(hide_password=False))
    out = tmp_path / "deck.pptx"
    assert cli.main(["deck", "--region", "01", "--year", "2024-2025", "--out", str(out)]) == 2
    assert not out.exists()
    monkeypatch.setenv(environment.PSEUDONYM_KEY, PSEUDONYM_KEY)
    assert cli.main(["deck", "--region", "01", "--year", "2024-2025", "--out", str(out), "--slides", "headline"]) == 0
    assert out.exists()


@pytest.mark.parametrize("pupils, respondents, expected", [
    (None, None, (5, 10)), ("8", None, (8, 10)), (" 12 ", "25", (12, 25)), ("", "", (5, 10))])
def test_an_installation_may_make_suppression_stricter_than_the_products_minimum(pupils, respondents, expected):
    from lasnaolo import contract

    environ = {k: v for k, v in ((environment.MIN_PUPILS, pupils), (environment.MIN_RESPONDENTS, respondents)) if v is not None}
    policy, problems = contract.installation_suppression(environ)
    assert (policy.min_pupils, policy.min_respondents) == expected and problems == []
    assert settings.load(SecretsFile({}), environ).suppression == policy  # the settings object carries it


@pytest.mark.parametrize("name, value", [(environment.MIN_PUPILS, "3"), (environment.MIN_PUPILS, "7O"),
                                         (environment.MIN_RESPONDENTS, "9"), (environment.MIN_PUPILS, "5.5"),
                                         (environment.MIN_PUPILS, "100000"), (environment.MIN_PUPILS, "1_0"),
                                         (environment.MIN_PUPILS, "+8"), (environment.MIN_PUPILS, "\uff18")])
def test_a_looser_or_mistyped_threshold_withholds_everything_and_refuses_to_start_in_every_mode(users_file, name, value):
    from lasnaolo import contract

    policy, problems = contract.installation_suppression({name: value})
    assert len(problems) == 1 and name in problems[0] and repr(value) in problems[0]
    field = "min_pupils" if name == environment.MIN_PUPILS else "min_respondents"
    assert getattr(policy, field) > 100_000  # fail closed: no group is that large
    assert name in refusal(production_secrets(users_file), {name: value})
    assert name in refusal(SecretsFile({}), {name: value})  # nothing else configured: demo mode refuses too


def test_a_stricter_threshold_withholds_a_school_in_the_command_lines_report_and_a_looser_or_misspelt_one_stops_it(tmp_path):
    """Read when the package loads (the pages, the command line and the exports all take
    contract.SUPPRESSION): the command line's report shows a 33-pupil school under the product's 5
    and withholds it under 40; a threshold under the product's minimum, or a misspelt name, stops
    the command line before it reads anything."""
    import json
    import os
    import subprocess
    import sys

    from support.helpers import files
    from lasnaolo import importer

    engine = store.make_engine(f"sqlite:///{tmp_path / 'strict.db'}")
    store.init_database(engine)
    importer.import_files(engine, files())
    engine.dispose()
    command = [sys.executable, "-m", "lasnaolo", "report", "--school", "04567", "--year", "2024-2025",
               "--db", f"sqlite:///{tmp_path / 'strict.db'}", "--json"]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LASNAOLO_")}

    def report(**extra) -> subprocess.CompletedProcess:
        return subprocess.run(command, capture_output=True, text=True, env={**clean, **extra}, timeout=120)

    product = report()
    assert product.returncode == 0 and json.loads(product.stdout)["pupils"] == 33
    strict = report(**{environment.MIN_PUPILS: "40"})
    assert strict.returncode == 0, strict.stderr
    withheld = json.loads(strict.stdout)
    assert withheld["pupils"] is None and withheld["absence_rate"] is None and "pupils" in withheld["suppressed"]
    looser = report(**{environment.MIN_PUPILS: "3"})
    assert looser.returncode == 2 and environment.MIN_PUPILS in looser.stderr and looser.stdout == ""
    misspelt = report(LASNAOLO_MIN_PUPIL="40")  # would leave the product's 5 in force unnoticed
    assert misspelt.returncode == 2 and environment.MIN_PUPILS in misspelt.stderr and misspelt.stdout == ""
