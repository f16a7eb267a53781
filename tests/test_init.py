"""`accessbot init` for Slack, against the fake Slack Web API: from an empty folder to a bot that
answers a DM and posts to the reviewers channel it picked, with no id typed by hand."""

from __future__ import annotations

import io
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot import cli
from bot.adapters import chosen
from bot.adapters.slack.serve import create_app
from bot.adapters.slack.wizard import SLACK_API
from bot.documents import Validator
from bot.rules_loader import load_rules
from bot.settings import Settings, read_env_file
from bot.setup.wizard import InitOptions, init
from tests.conftest import Clock, make_bot
from tests.fake_slack import FakeSlack, Signer, slack_user
from tests.test_slack import SlackWorld

BOT_TOKEN = "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
APP_TOKEN = "xapp-1-A0123456789-1234567890123-0123456789abcdef0123456789abcdef"
SECRET = "0123456789abcdef0123456789abcdef"
ALICE, RITA, RAVI, ADA, RITA2 = "UALICE1", "URITA01", "URAVI01", "UADA001", "URITA02"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(token=BOT_TOKEN, app_token=APP_TOKEN) as fake:
        fake.users.update(
            {
                ALICE: slack_user(ALICE, "Alice Kim", "alice@example.edu"),
                RITA: slack_user(RITA, "Rita Reviewer", "rita@lab.example.org"),
                RAVI: slack_user(RAVI, "Ravi Reviewer", "ravi@lab.example.org"),
                ADA: slack_user(ADA, "Ada Admin", "ada@lab.example.org"),
            }
        )
        fake.channels.update(
            {
                "C0GENERAL1": {"name": "general", "is_private": False, "is_member": False},
                "G0REVIEW01": {"name": "mimic-review", "is_private": True, "is_member": True},
                "G0SECRET01": {"name": "hidden", "is_private": True, "is_member": False},
            }
        )
        yield fake


def run_init(
    folder: Path, slack: FakeSlack, *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """`accessbot init` as typed, in-process; the fake Slack's address is injected."""
    out, err = io.StringIO(), io.StringIO()
    parsed = cli._parser().parse_args(["init", "--dir", str(folder), "--slack-api-url", slack.api_url, *args])
    options = InitOptions(
        folder=parsed.dir,
        platform=parsed.platform or "",
        yes=parsed.yes,
        answers={n: getattr(parsed, n) for n in cli._INIT_ANSWERS if getattr(parsed, n)},
        api_urls={"slack": parsed.slack_api_url},
        doctor=not parsed.no_doctor,
    )
    code = init(options, io.StringIO(stdin), out, err, environ=env or {})
    return code, out.getvalue(), err.getvalue()


SCRIPTED = (
    "--yes",
    "--platform=slack",
    "--channel=mimic-review",
    "--reviewers=@rita.reviewer, ravi@lab.example.org",
    "--admins=Ada Admin",
    "--form-url=https://forms.lab.example.org/mimic",
    "--contact=Dr. Ada (ada@lab.example.org)",
)


def test_scripted_init_writes_env_and_rules_then_doctor_passes(tmp_path: Path, slack: FakeSlack) -> None:
    env = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN}  # tokens from the environment
    code, out, err = run_init(tmp_path, slack, *SCRIPTED, env=env)
    assert code == 0, out + err
    assert "✓ the bot @accessbot in the workspace Lab" in out
    assert "✓ Socket Mode accepts the app-level token" in out
    assert "all good" in out  # doctor ran on what was written
    dotenv = tmp_path / ".env"
    assert stat.S_IMODE(dotenv.stat().st_mode) == 0o600
    assert read_env_file(dotenv) == {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN}
    rules = load_rules(tmp_path / "rules.yaml")
    assert rules.reviewers.channel["slack"] == "G0REVIEW01"
    assert [u for u in rules.reviewers.users if u.startswith("slack:")] == [f"slack:{RITA}", f"slack:{RAVI}"]
    assert [a for a in rules.admins if a.startswith("slack:")] == [f"slack:{ADA}"]
    assert rules.program.contact == "Dr. Ada (ada@lab.example.org)"
    text = (tmp_path / "rules.yaml").read_text(encoding="utf-8")
    assert "# Stable platform ids, never display names." in text  # the shipped comments stay
    assert "https://forms.lab.example.org/mimic" in text
    methods = {c.method for c in slack.calls}
    assert {"auth.test", "apps.connections.open", "conversations.list", "users.list"} <= methods
    assert "users.lookupByEmail" in methods
    assert slack.calls_to("conversations.create") == []


def test_init_then_run_answers_a_dm_and_posts_to_the_chosen_channel(
    tmp_path: Path, slack: FakeSlack, validator: Validator, clock: Clock
) -> None:
    """The issue's "done when": init (HTTP mode, a new private channel), then the bot from its files."""
    code, out, err = run_init(
        tmp_path,
        slack,
        "--yes",
        "--platform=slack",
        f"--slack-bot-token={BOT_TOKEN}",
        "--slack-mode=http",
        f"--slack-signing-secret={SECRET}",
        "--create-channel=mimic-access-review",
        "--reviewers=rita@lab.example.org,@ravi.reviewer",
        "--admins=@ada.admin",
    )
    assert code == 0, out + err
    [created] = slack.calls_to("conversations.create")
    assert created.params == {"name": "mimic-access-review", "is_private": "true"}
    channel = next(cid for cid, c in slack.channels.items() if c["name"] == "mimic-access-review")
    assert {RITA, RAVI} <= set(slack.channels[channel]["members"])  # the reviewers were invited

    settings = Settings.from_env({}, env_file=tmp_path / ".env")
    assert chosen(settings.env) == "slack"
    assert settings.sources["SLACK_SIGNING_SECRET"] == str(tmp_path / ".env")
    bot = make_bot(tmp_path / "data", validator, clock, tmp_path / "rules.yaml")
    try:
        client = WebClient(token=settings.env.get("SLACK_BOT_TOKEN"), base_url=slack.api_url)
        app = create_app(bot, settings.env, client=client, allow_loopback_files=True)
        world = SlackWorld(slack, bot, Signer(app, settings.env.get("SLACK_SIGNING_SECRET")), clock, tmp_path)
        world.dm(ALICE, "what step am I on?")
        assert any("Create a PhysioNet account" in t for t in world.texts(ALICE))
        world.complete_package(ALICE)
        posts = slack.messages_to(channel)
        assert posts and f"<@{ALICE}> has completed every step" in posts[0]["text"]
    finally:
        bot.close()


def test_interactive_init_takes_defaults_and_asks_again_after_a_refused_token(
    tmp_path: Path, slack: FakeSlack
) -> None:
    typed = "\n".join(
        [
            "",  # platform: slack (the default)
            "xoxb-1234567890-1234567890123-WrongWrongWrongWrong",  # refused by auth.test
            BOT_TOKEN,
            "",  # socket (the default)
            APP_TOKEN,
            "mimic-review",  # the channel, by name
            "@rita",  # two people match: asked again
            "@rita.reviewer",
            "",  # admins: the default (the first reviewer)
            "",  # the form link: the shipped one
            "",  # the contact: the shipped one
        ]
    )
    slack.users[RITA2] = slack_user(RITA2, "Rita Other", "other@lab.example.org")
    code, out, err = run_init(tmp_path, slack, "--no-doctor", stdin=typed + "\n")
    assert code == 0, out + err
    assert "Slack auth.test: invalid_auth" in out
    assert "@rita could be @rita.reviewer (Rita Reviewer), @rita.other (Rita Other)" in out
    assert "https://api.slack.com/apps?new_app=1&manifest_json=" in out  # the manifest opens by link
    assert BOT_TOKEN not in out and APP_TOKEN not in out  # tokens are never echoed
    rules = load_rules(tmp_path / "rules.yaml")
    assert f"slack:{RITA}" in rules.reviewers.users and f"slack:{RITA}" in rules.admins


def test_scripted_init_without_an_answer_names_the_flag_and_writes_nothing(
    tmp_path: Path, slack: FakeSlack
) -> None:
    code, _out, err = run_init(tmp_path, slack, "--yes", "--platform=slack")
    assert code == 1 and "--slack-bot-token" in err
    assert not (tmp_path / ".env").exists() and not (tmp_path / "rules.yaml").exists()


def test_a_refused_token_under_yes_stops_with_the_reason(tmp_path: Path, slack: FakeSlack) -> None:
    wrong = "xoxb-1234567890-1234567890123-WrongWrongWrongWrong"
    code, _out, err = run_init(tmp_path, slack, *SCRIPTED, f"--slack-bot-token={wrong}")
    assert code == 1 and "invalid_auth" in err and wrong not in err


def test_init_keeps_other_settings_in_an_existing_env_file(tmp_path: Path, slack: FakeSlack) -> None:
    (tmp_path / ".env").write_text(
        "# my notes\nACCESSBOT_LOG_LEVEL=DEBUG\nexport SLACK_BOT_TOKEN=old\nSLACK_SIGNING_SECRET=x\n"
    )
    env = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN}
    code, out, err = run_init(tmp_path, slack, *SCRIPTED, "--no-doctor", env=env)
    assert code == 0, out + err
    text = (tmp_path / ".env").read_text()
    assert text.startswith("# my notes\nACCESSBOT_LOG_LEVEL=DEBUG\n")
    assert f"SLACK_BOT_TOKEN={BOT_TOKEN}" in text and "\n# SLACK_SIGNING_SECRET=x" in text
    assert stat.S_IMODE((tmp_path / ".env").stat().st_mode) == 0o600


def test_the_real_api_is_the_default_and_the_fake_only_when_injected() -> None:
    from bot.adapters.discord.wizard import DISCORD_API

    assert SLACK_API == "https://slack.com/api/"
    assert DISCORD_API == "https://discord.com/api/v10"
    assert cli._parser().parse_args(["init"]).slack_api_url is None
