"""`accessbot health` and `accessbot doctor`, and the settings table they rest on."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from bot import adapters
from bot.doctor import all_variables, doctor, health
from bot.settings import ENV_VARS, Settings, SettingsError
from bot.store import Store

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules.yaml"

GOOD_SLACK = {
    "SLACK_BOT_TOKEN": "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "SLACK_APP_TOKEN": "xapp-1-A0123456789-1234567890123-0123456789abcdef0123456789abcdef",
}


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data folder as a first start leaves it: 0700, 0600 files, an applicant."""
    path = tmp_path / "data"
    with Store(path) as store:
        store.ensure("console:alice", lang="en")
    return path


def settings_for(data_dir: Path, rules: Path = RULES, /, **env: str) -> Settings:
    return Settings.from_env({"ACCESSBOT_DATA_DIR": str(data_dir), "ACCESSBOT_RULES": str(rules), **env})


def run_health(settings: Settings) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = health(settings, out, err)
    return code, out.getvalue(), err.getvalue()


def run_doctor(settings: Settings) -> tuple[int, str]:
    out = io.StringIO()
    return doctor(settings, out), out.getvalue()


def fixes_for(report: str, what: str) -> str:
    """The `fix:` line printed under the first failed check mentioning `what`."""
    lines = report.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("✗") and what in line:
            j = i + 1
            while j < len(lines) and lines[j].startswith("      "):  # a multi-line "what" (rules errors)
                j += 1
            following = lines[j] if j < len(lines) else ""
            assert following.strip().startswith("fix: "), f"no fix under {line!r}:\n{report}"
            return following.strip().removeprefix("fix: ")
    raise AssertionError(f"no failed check mentions {what!r}:\n{report}")


# -- health ------------------------------------------------------------------------------------------


def test_health_is_ok_on_a_good_setup(data_dir: Path) -> None:
    assert run_health(settings_for(data_dir)) == (0, "ok\n", "")


def test_health_fails_with_the_reason_on_a_broken_rules_file(data_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "rules.yaml"
    broken.write_text(RULES.read_text(encoding="utf-8").replace("version: 1", "version: 7"), encoding="utf-8")
    code, out, err = run_health(settings_for(data_dir, broken))
    assert code == 1 and out == ""
    assert err.startswith("unhealthy: ") and str(broken) in err and "version" in err


def test_health_fails_on_a_missing_rules_file(data_dir: Path, tmp_path: Path) -> None:
    code, _, err = run_health(settings_for(data_dir, tmp_path / "nope.yaml"))
    assert code == 1 and "cannot be read" in err


def test_health_fails_on_a_damaged_database_and_leaves_it_alone(data_dir: Path) -> None:
    damaged = data_dir / "reviews.json"
    damaged.write_bytes(b'{"reviews": {"1": ')
    code, out, err = run_health(settings_for(data_dir))
    assert code == 1 and out == ""
    assert "reviews.json is damaged" in err and "backup" in err
    assert damaged.read_bytes() == b'{"reviews": {"1": '


def test_health_fails_when_the_data_folder_is_missing(tmp_path: Path) -> None:
    code, _, err = run_health(settings_for(tmp_path / "absent"))
    assert code == 1 and "does not exist" in err
    assert not (tmp_path / "absent").exists(), "health must not create the folder"


def test_health_beside_a_running_bot_neither_locks_nor_touches_its_files(data_dir: Path) -> None:
    """HEALTHCHECK runs while the bot holds the folder lock and may be mid-write (a temp file)."""
    with Store(data_dir) as store:
        in_flight = data_dir / ".reviews.json.abcd1234.tmp"
        in_flight.write_bytes(b"{}")
        before = {p.name: p.stat().st_mtime_ns for p in data_dir.iterdir()}
        assert run_health(settings_for(data_dir))[0] == 0
        assert {p.name: p.stat().st_mtime_ns for p in data_dir.iterdir()} == before
        store.ensure("console:bob", lang="en")  # the bot still works: health took no lock


# -- doctor ------------------------------------------------------------------------------------------


def test_doctor_passes_for_the_console_on_the_shipped_rules(data_dir: Path) -> None:
    code, report = run_doctor(settings_for(data_dir))
    assert code == 0, report
    assert "platform chosen by `accessbot run`: console" in report
    assert "✗" not in report and report.rstrip().endswith("all good")


def test_doctor_passes_before_the_first_start(tmp_path: Path) -> None:
    code, report = run_doctor(settings_for(tmp_path / "data"))
    assert code == 0, report
    assert "created (0700) on first start" in report
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("xoxp-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "a user token"),
        ("xapp-1-A0123456789-1234567890123-0123456789abcdef", "an app-level token"),
        ("xoxb-12345", "cut off"),
        ('"xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"', "quotes"),
    ],
)
def test_doctor_names_the_fix_for_a_malformed_slack_token(data_dir: Path, token: str, reason: str) -> None:
    code, report = run_doctor(settings_for(data_dir, **{**GOOD_SLACK, "SLACK_BOT_TOKEN": token}))
    assert code == 1
    line = next(line for line in report.splitlines() if line.startswith("✗ SLACK_BOT_TOKEN"))
    assert reason in line or reason in fixes_for(report, "SLACK_BOT_TOKEN"), report
    assert "OAuth & Permissions" in fixes_for(report, "SLACK_BOT_TOKEN")
    assert token.strip('"') not in report, "a token must never be printed"


def test_doctor_checks_slack_when_only_part_of_it_is_set(data_dir: Path) -> None:
    """`accessbot run` would silently start the console: doctor says what is missing."""
    settings = settings_for(data_dir, SLACK_BOT_TOKEN=GOOD_SLACK["SLACK_BOT_TOKEN"])
    assert adapters.chosen(settings.env) == "console"
    code, report = run_doctor(settings)
    assert code == 1
    assert "connections:write" in fixes_for(report, "SLACK_APP_TOKEN is not set")


def test_doctor_accepts_well_formed_slack_tokens(data_dir: Path, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    text = RULES.read_text(encoding="utf-8")
    text = text.replace('admins: ["console:admin"]', 'admins: ["console:admin", "slack:U0ADMIN1"]')
    text = text.replace("slack: C0REVIEWERS", "slack: C0LAB1234")
    text = text.replace('users: ["console:reviewer"', 'users: ["slack:U0REVIEW1", "console:reviewer"')
    rules.write_text(text, encoding="utf-8")
    code, report = run_doctor(settings_for(data_dir, rules, **GOOD_SLACK))
    assert code == 0, report
    assert "✓ SLACK_BOT_TOKEN is well-formed" in report and "✓ SLACK_APP_TOKEN is well-formed" in report


def test_doctor_names_the_fix_for_a_missing_reviewers_channel(data_dir: Path, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    text = RULES.read_text(encoding="utf-8")
    rules.write_text(text.replace("{console: reviewers, ", "{"), encoding="utf-8")
    code, report = run_doctor(settings_for(data_dir, rules))
    assert code == 1
    assert "reviewers.channel.console" in fixes_for(report, "reviewers channel for console: not set")


def test_doctor_flags_the_example_slack_channel_of_the_shipped_rules(data_dir: Path) -> None:
    code, report = run_doctor(settings_for(data_dir, **GOOD_SLACK))
    assert code == 1
    assert "reviewers.channel.slack" in fixes_for(report, "C0REVIEWERS")


def test_doctor_names_the_fix_for_a_world_readable_data_folder(data_dir: Path) -> None:
    data_dir.chmod(0o755)
    code, report = run_doctor(settings_for(data_dir))
    assert code == 1
    assert fixes_for(report, "data folder permissions 755") == f"chmod 700 {data_dir}"


def test_doctor_names_the_fix_for_readable_data_files(data_dir: Path) -> None:
    (data_dir / "audit.jsonl").chmod(0o644)
    code, report = run_doctor(settings_for(data_dir))
    assert code == 1
    assert "chmod 600" in fixes_for(report, "readable by others: audit.jsonl 644")


def test_doctor_names_the_fix_for_a_damaged_database(data_dir: Path) -> None:
    (data_dir / "applicants-03.json").write_text("not json")
    code, report = run_doctor(settings_for(data_dir))
    assert code == 1
    assert "restore" in fixes_for(report, "applicants-03.json is damaged")


def test_doctor_names_the_fix_for_broken_rules(data_dir: Path, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("version: 1\nsteps: []\n", encoding="utf-8")
    code, report = run_doctor(settings_for(data_dir, rules))
    assert code == 1
    assert "accessbot rules check" in fixes_for(report, "is invalid")


def test_doctor_checks_discord_token_and_guild_id(data_dir: Path) -> None:
    code, report = run_doctor(settings_for(data_dir, DISCORD_TOKEN="Bot abc", DISCORD_GUILD_ID="lab-server"))
    assert code == 1
    assert "Reset Token" in fixes_for(report, "DISCORD_TOKEN is malformed")
    assert "Copy Server ID" in fixes_for(report, "DISCORD_GUILD_ID")


def test_every_failed_check_prints_a_fix(data_dir: Path, tmp_path: Path) -> None:
    """A setup broken in many ways at once: each ✗ line is followed by what to do."""
    (data_dir / "reviews.json").write_text("{")
    data_dir.chmod(0o777)
    env = {"SLACK_BOT_TOKEN": "xoxp-1", "SLACK_SIGNING_SECRET": "xoxb-2", "DISCORD_TOKEN": "x"}
    code, report = run_doctor(settings_for(data_dir, **env, ACCESSBOT_LOG_FORMAT="xml"))
    assert code == 1
    lines = report.splitlines()
    failed = [i for i, line in enumerate(lines) if line.startswith("✗")]
    assert len(failed) >= 8, report
    for i in failed:
        j = i + 1
        while j < len(lines) and lines[j].startswith("      "):  # a multi-line "what" (rules errors)
            j += 1
        assert lines[j].startswith("    fix: "), f"no fix for {lines[i]!r}:\n{report}"


# -- settings ------------------------------------------------------------------------------------


class RecordingEnv(Mapping[str, str]):
    """An environment that remembers which names were asked for."""

    def __init__(self) -> None:
        self.asked: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        raise KeyError(key)

    def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
        self.asked.add(key)
        return default

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def test_env_vars_lists_exactly_what_from_env_reads() -> None:
    env = RecordingEnv()
    Settings.from_env(env)
    assert env.asked == set(ENV_VARS.values())
    fields = set(Settings.__dataclass_fields__) - {"env", "sources"}  # the platforms' variables, origins
    assert set(ENV_VARS) == fields, "every setting comes from one variable"


@pytest.mark.parametrize("name", adapters.names())
def test_each_platform_reads_only_the_variables_it_declares(name: str) -> None:
    """A platform reading a variable it does not declare would escape doctor and the docs."""
    package = ROOT / "bot" / "adapters" / name
    source = "\n".join(p.read_text(encoding="utf-8") for p in package.glob("*.py"))
    read = set(re.findall(r'"((?:ACCESSBOT|SLACK|DISCORD)_[A-Z0-9_]+)"', source))
    declared = {s.env for s in adapters.load(name).settings}
    assert read <= declared, f"{name} reads {sorted(read - declared)} without declaring them"


def test_names_in_settings_source_are_all_in_env_vars() -> None:
    """A variable read some other way (os.environ[...] in settings.py) would escape the list."""
    source = (ROOT / "bot" / "settings.py").read_text(encoding="utf-8")
    named = set(re.findall(r'"((?:ACCESSBOT|SLACK|DISCORD)_[A-Z0-9_]+)"', source))
    assert named == set(ENV_VARS.values())


@pytest.mark.parametrize("document", ["docs/configuration.md", ".env.example"])
def test_every_setting_is_documented(document: str) -> None:
    text = (ROOT / document).read_text(encoding="utf-8")
    if document.endswith(".md"):
        documented = set(re.findall(r"^\|\s*`([A-Z][A-Z0-9_]+)`", text, flags=re.MULTILINE))
    else:
        documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))
    every = set(all_variables())
    missing = every - documented
    assert not missing, f"{document} does not list {sorted(missing)}"
    unknown = documented - every
    assert not unknown, f"{document} lists variables accessbot does not read: {sorted(unknown)}"


def test_env_example_holds_no_real_secret() -> None:
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        name, _, value = line.partition("=")
        if not line.startswith("#") and ("TOKEN" in name or "SECRET" in name):
            assert value == "", f"{name} must be empty in .env.example"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ACCESSBOT_PDF_TIMEOUT_S", "five"),
        ("ACCESSBOT_PDF_TIMEOUT_S", "-1"),
        ("ACCESSBOT_PDF_TIMEOUT_S", "nan"),
        ("ACCESSBOT_PDF_MEMORY_MB", "512MB"),
        ("ACCESSBOT_PDF_MEMORY_MB", "0"),
        ("ACCESSBOT_PDF_MEMORY_MB", "1.5"),
        ("ACCESSBOT_PDF_WORKERS", "0"),
        ("ACCESSBOT_PDF_WORKERS", "two"),
        ("ACCESSBOT_PDF_WORKERS", "33"),
    ],
)
def test_malformed_numbers_raise_a_clear_settings_error(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=rf"^{name} must be a positive .* \(got '{re.escape(value)}'\)$"):
        Settings.from_env({name: value})


@pytest.mark.parametrize("value", ["-1", "many", "33", "1.5"])
def test_a_malformed_report_workers_count_raises_a_clear_settings_error(value: str) -> None:
    with pytest.raises(
        SettingsError,
        match=rf"^ACCESSBOT_REPORT_WORKERS must be a whole number of processes from 0 to 32"
        rf" \(got '{re.escape(value)}'\)$",
    ):
        Settings.from_env({"ACCESSBOT_REPORT_WORKERS": value})


def test_numbers_parse_and_defaults_apply() -> None:
    settings = Settings.from_env({"ACCESSBOT_PDF_TIMEOUT_S": " 2.5 ", "ACCESSBOT_PDF_MEMORY_MB": ""})
    assert (settings.pdf_timeout_s, settings.pdf_memory_mb) == (2.5, 512)
    assert (settings.pdf_workers, settings.report_workers) == (2, 2)
    assert Settings.from_env({}) == Settings()
    chosen = Settings.from_env({"ACCESSBOT_PDF_WORKERS": "3", "ACCESSBOT_REPORT_WORKERS": "0"})
    assert (chosen.pdf_workers, chosen.report_workers) == (3, 0)
