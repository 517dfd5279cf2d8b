"""Accounts: the configuration checks that stop an unsafe deployment, scopes, page access, the CLI."""

from __future__ import annotations

import subprocess
import sys

import bcrypt
import pytest
import yaml

from lasnaolo import accounts, environment
from lasnaolo.accounts import ConfigError

GOOD_KEY = "r8Yq2vLx-0fKpT3wZs9N_cB6mHj4DgUe1aVoXi7RtPnQ5yWlEkMb"  # random, as generated


def write_users(path, **users):
    path.write_text(yaml.safe_dump({"credentials": {"usernames": users}}), encoding="utf-8")
    return path


def director(password_hash):
    return {"name": "Maija", "password": password_hash, "role": "director", "municipalities": ["106"]}


@pytest.fixture(scope="module")
def hashed():
    return accounts.hash_password("correct horse")


def test_no_account_file_means_demo_mode():
    assert accounts.load_config({}, {}) is None
    assert accounts.load_config({}, {}, production=False) is None
    config = accounts.demo_config("01234")
    assert set(config.accounts) == {"admin", "johtaja", "rehtori", "ohjausryhma", "koordinaattori"}
    assert {a.role for a in config.accounts.values()} == set(accounts.ROLES)
    for entry in config.credentials["usernames"].values():
        assert bcrypt.checkpw(b"demo", entry["password"].encode())


def test_a_valid_file_and_key_load_with_scopes(tmp_path, hashed):
    path = write_users(tmp_path / "users.yaml", maija=director(hashed),
                       rehtori={"name": "R", "password": hashed, "role": "rector", "school": "01234"},
                       koord={"name": "K", "password": hashed, "role": "coordinator", "regions": ["01"]})
    config = accounts.load_config({"auth": {"users_file": str(path), "cookie_key": GOOD_KEY}}, {})
    assert not config.demo_mode and config.cookie_key == GOOD_KEY
    assert config.accounts["maija"].scope().municipality_codes == frozenset({"106"})
    assert config.accounts["rehtori"].scope().school_ids == frozenset({"01234"})
    coordinator = config.accounts["koord"].scope()
    assert coordinator.region_codes == frozenset({"01"}) and coordinator.anonymised


@pytest.mark.parametrize("key", [None, "", "some_key", "random_signature_key", "demo", "short-but-not-default",
                                 "a" * 40, "changeme" * 4, "abcd" * 10, "k" * 40,
                                 "demo-mode-cookie-key-not-a-secret", "lasnaolo-demo-pseudonyms"])
def test_a_missing_default_or_short_cookie_key_stops_the_app(tmp_path, hashed, key):
    path = write_users(tmp_path / "users.yaml", maija=director(hashed))
    auth = {"users_file": str(path)} | ({"cookie_key": key} if key is not None else {})
    with pytest.raises(ConfigError) as caught:
        accounts.load_config({"auth": auth}, {})
    assert "cookie key" in str(caught.value)


def test_plain_text_passwords_and_bad_scopes_are_each_reported(tmp_path, hashed):
    path = write_users(tmp_path / "users.yaml",
                       plain={"name": "P", "password": "demo", "role": "director", "municipalities": ["106"]},
                       noscope={"name": "N", "password": hashed, "role": "director"},
                       badrole={"name": "B", "password": hashed, "role": "superuser"},
                       rector={"name": "R", "password": hashed, "role": "rector"},
                       nowhere={"name": "W", "password": hashed, "role": "steering_group", "municipalities": ["999"]})
    with pytest.raises(ConfigError) as caught:
        accounts.load_config({}, {environment.USERS_FILE: str(path), environment.COOKIE_KEY: GOOD_KEY})
    text = str(caught.value)
    assert "user 'plain': password is not a bcrypt hash" in text and "hash-password" in text
    assert "user 'noscope': a director needs `municipalities`" in text
    assert "user 'badrole': role 'superuser'" in text
    assert "user 'rector': a rector needs `school`" in text
    assert "user 'nowhere': unknown municipality codes 999" in text


def test_a_configured_but_missing_file_stops_the_app(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        accounts.load_config({"auth": {"users_file": str(tmp_path / "nope.yaml"), "cookie_key": GOOD_KEY}}, {})


def test_pages_by_role():
    assert accounts.pages_for("admin") == ["overview", "trends", "comparison", "clusters", "targets", "impact",
                                             "evaluation", "present", "data"]
    assert accounts.pages_for("director") == ["overview", "trends", "comparison", "clusters", "targets", "impact", "evaluation",
                                                "present"]
    assert accounts.pages_for("steering_group") == ["overview", "trends", "comparison", "clusters", "targets", "impact",
                                                      "evaluation"]
    assert accounts.pages_for("rector") == ["overview", "comparison", "targets", "evaluation"]
    assert accounts.pages_for("coordinator") == ["overview", "trends", "clusters", "impact", "present"]  # never a school's name
    for role in ("director", "rector", "steering_group", "coordinator"):
        assert not accounts.may_open(role, "data")
    assert not accounts.may_open("admin", "no-such-page")


def test_cli_adds_users_with_hashed_passwords_only(tmp_path):
    path = tmp_path / "users.yaml"
    command = [sys.executable, "-m", "lasnaolo", "user", "add", "--file", str(path), "--username", "maija",
               "--name", "Maija M", "--role", "director", "--municipality", "106"]
    done = subprocess.run(command, input="a long secret\n", capture_output=True, text=True, check=True)
    assert "saved user 'maija'" in done.stdout
    stored = yaml.safe_load(path.read_text())["credentials"]["usernames"]["maija"]
    assert bcrypt.checkpw(b"a long secret", stored["password"].encode()) and "a long secret" not in path.read_text()
    config = accounts.load_config({"auth": {"users_file": str(path), "cookie_key": GOOD_KEY}}, {})
    assert config.accounts["maija"].municipalities == ("106",)

    refused = subprocess.run([*command[:-1], "999"], input="a long secret\n", capture_output=True, text=True)
    assert refused.returncode == 2 and "unknown municipality codes 999" in refused.stderr
    hashed = subprocess.run([sys.executable, "-m", "lasnaolo", "user", "hash-password"], input="another secret\n",
                            capture_output=True, text=True, check=True).stdout.strip()
    assert accounts.is_bcrypt_hash(hashed) and bcrypt.checkpw(b"another secret", hashed.encode())


def test_a_municipality_setting_lets_its_rectors_see_school_names(tmp_path, hashed):
    path = tmp_path / "users.yaml"
    path.write_text(yaml.safe_dump({
        "credentials": {"usernames": {"r": {"name": "R", "password": hashed, "role": "rector", "school": "01234"}}},
        "settings": {accounts.NAMES_SETTING: ["106"]}}), encoding="utf-8")
    config = accounts.load_config({"auth": {"users_file": str(path), "cookie_key": GOOD_KEY}}, {})
    assert config.accounts["r"].scope().named_municipality_codes == frozenset({"106"})
    path.write_text(path.read_text().replace("'106'", "'999'"), encoding="utf-8")
    with pytest.raises(ConfigError, match="rectors_see_school_names_in: unknown municipality codes 999"):
        accounts.load_config({"auth": {"users_file": str(path), "cookie_key": GOOD_KEY}}, {})


def test_a_bcrypt_cost_below_10_stops_the_app_and_names_the_user(tmp_path, hashed):
    weak = bcrypt.hashpw(b"correct horse", bcrypt.gensalt(4)).decode()
    path = write_users(tmp_path / "users.yaml", maija=director(hashed), heikki=director(weak))
    with pytest.raises(ConfigError) as caught:
        accounts.load_config({"auth": {"users_file": str(path), "cookie_key": GOOD_KEY}}, {})
    [message] = caught.value.messages
    assert message.startswith("user 'heikki': the password hash has bcrypt cost 4, below the minimum 10")
    assert "hash-password" in message


def test_production_without_an_account_file_stops_the_app_instead_of_offering_demo_accounts():
    for secrets, environ in [({}, {"LASNAOLO_DB_URL": "sqlite:////tmp/x.db"}),
                             ({"auth": {"cookie_key": GOOD_KEY}}, {}),
                             ({}, {environment.COOKIE_KEY: GOOD_KEY})]:
        with pytest.raises(ConfigError, match="no account file is configured"):
            accounts.load_config(secrets, environ)
    with pytest.raises(ConfigError, match="no account file is configured"):
        accounts.load_config({}, {}, production=True)


@pytest.mark.parametrize("content, reason", [
    (b"credentials: [a, b]\n", "must hold a mapping credentials: usernames"),
    (b"credentials:\n  usernames: [a, b]\n", "must hold a mapping credentials: usernames"),
    (b"- a list\n", "must hold a mapping credentials: usernames"),
    (b"credentials:\n  usernames:\n    maija: hello\n", "user maija: expected the user's keys"),
    (b"credentials:\n  usernames:\n    maija: {name: \"\xe4\"}\n", "is not UTF-8 text"),
    (b"credentials: [unclosed\n", "is not valid YAML"),
    # Read with libyaml's parser where there is one: still the safe subset, no object is built.
    (b"!!python/object/apply:os.system ['true']\n", "is not valid YAML"),
])
def test_an_account_file_of_the_wrong_shape_or_encoding_is_refused_with_the_reason_not_a_crash(tmp_path, content, reason):
    """Review finding: these raised AttributeError or UnicodeDecodeError (the app's start, and an
    import computing the accounts' first views after its data was saved)."""
    path = tmp_path / "users.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as refused:
        accounts.load_config({"auth": {"users_file": str(path), "cookie_key": GOOD_KEY}}, {})
    assert any(reason in message for message in refused.value.messages), refused.value.messages
    with pytest.raises(ConfigError):
        accounts.file_accounts(path)


def test_a_scope_written_as_one_number_is_refused_and_a_numeric_username_loads(tmp_path, hashed):
    """Review findings: `municipalities: 106` (a number, not a list) crashed with TypeError, and a
    username YAML reads as a number (`123:`) crashed the credentials with KeyError."""
    path = tmp_path / "users.yaml"
    path.write_text(yaml.safe_dump({"credentials": {"usernames": {"maija": {**director(hashed), "municipalities": 106}}}}),
                    encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        accounts.load_config({"auth": {"users_file": str(path), "cookie_key": GOOD_KEY}}, {})
    assert any("`municipalities` must be a list" in message for message in refused.value.messages)
    path.write_text(yaml.safe_dump({"credentials": {"usernames": {123: director(hashed)}},
                                    "settings": {accounts.NAMES_SETTING: ["106"]}}), encoding="utf-8")
    config = accounts.load_config({"auth": {"users_file": str(path), "cookie_key": GOOD_KEY}}, {})
    assert config.accounts["123"].municipalities == ("106",) and "123" in config.credentials["usernames"]
    path.write_text(yaml.safe_dump({"credentials": {"usernames": {"maija": director(hashed)}},
                                    "settings": {accounts.NAMES_SETTING: 106}}), encoding="utf-8")
    with pytest.raises(ConfigError, match="must be a list"):
        accounts.file_accounts(path)


def test_adding_a_user_to_a_file_that_is_not_valid_yaml_is_refused_with_the_reason_and_leaves_the_file(tmp_path):
    path = tmp_path / "users.yaml"
    path.write_text("credentials: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot be read"):
        accounts.add_user(path, "maija", "Maija M", "a long secret", "director", municipalities=("106",))
    assert path.read_text(encoding="utf-8") == "credentials: [unclosed\n"
