"""`accessbot init`: which platform, its conversation, the lab's details, the two files, then `doctor`.

accessbot init                      asks, with a default for every question (Enter takes it)
accessbot init --yes --platform slack --channel mimic-review --reviewers @rita,ravi@lab.org ...
                                    asks nothing: defaults, flags, and tokens from the environment
"""

from __future__ import annotations

import dataclasses
import importlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import yaml

from bot.platform import Environment
from bot.settings import ENV_VARS, Settings, SettingsError
from bot.setup.ask import Asker, SetupError
from bot.setup.contract import PlatformSetup, SetupInput
from bot.setup.files import LabRules, lab_form_url, rules_text, shipped, write_env, write_rules

WIZARDS: dict[str, str] = {
    "slack": "bot.adapters.slack.wizard",
    "discord": "bot.adapters.discord.wizard",
}
"""Platform -> its set-up conversation (a module with `converse(SetupInput) -> PlatformSetup`)."""


@dataclass
class InitOptions:
    folder: Path = Path()
    """Where .env and rules.yaml go (the bot is then started from this folder)."""
    platform: str = ""
    yes: bool = False
    rules: Path | None = None
    """The rules.yaml to write (default: FOLDER/rules.yaml)."""
    answers: dict[str, str] = field(default_factory=dict)
    """Flags by name: channel, reviewers, admins, form_url, contact, slack_bot_token, ..."""
    api_urls: dict[str, str] = field(default_factory=dict)
    """Platform -> API base URL (tests only; empty: the real APIs)."""
    doctor: bool = True


def init(
    options: InitOptions,
    stdin: TextIO,
    out: TextIO,
    err: TextIO,
    *,
    environ: Mapping[str, str] | None = None,
    doctor: Callable[[Settings, TextIO], int] | None = None,
) -> int:
    """The whole set-up; 0 when the files are written and doctor finds nothing to fix."""
    ask = Asker(stdin, out, yes=options.yes)
    try:
        return _init(options, ask, dict(os.environ if environ is None else environ), doctor)
    except SetupError as exc:
        err.write(f"accessbot init: {exc}\n")
        return 1
    except (SettingsError, ValueError, OSError) as exc:
        err.write(f"accessbot init: {exc}\n")
        return 1


def _init(
    options: InitOptions,
    ask: Asker,
    environ: dict[str, str],
    doctor: Callable[[Settings, TextIO], int] | None,
) -> int:
    folder = options.folder
    env_path = folder / ".env"
    rules_path = options.rules or folder / "rules.yaml"
    current = Settings.from_env(environ, env_file=env_path)
    ask.say(f"accessbot init: the set-up writes {env_path} (0600) and {rules_path}.")
    ask.say("Every question has a default in [brackets]: press Enter to take it.\n")
    platform = _platform(options, ask, current.env)
    source = rules_path if rules_path.is_file() else shipped("rules.yaml")
    if source is None:
        raise SetupError(f"no rules.yaml to start from: put one at {rules_path} (the project ships one)")
    text = source.read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text) or {}
    module = importlib.import_module(WIZARDS[platform])
    converse: Callable[[SetupInput], PlatformSetup] = module.converse
    setup = SetupInput(ask, options.answers, current.env, data, options.api_urls.get(platform, ""))
    result = converse(setup)
    ask.say("The lab's details (shown to applicants):")
    form_url = ask.until(
        "Link to the lab's usage-authorization form:",
        options.answers.get("form_url") or lab_form_url(data),
        _url,
        flag="--form-url",
    )
    contact = ask.ask(
        "Who applicants contact with questions:",
        options.answers.get("contact") or str((data.get("program") or {}).get("contact") or ""),
        flag="--contact",
    )
    prefix = platform + ":"
    lab = LabRules(
        platform=platform,
        channel=result.channel,
        reviewers=tuple(prefix + r for r in result.reviewers),
        admins=tuple(prefix + a for a in result.admins),
        form_url=form_url,
        contact=contact,
    )
    values = dict(result.env)
    if rules_path.resolve() != (folder / "rules.yaml").resolve():
        values[ENV_VARS["rules_path"]] = str(rules_path.resolve())
    write_rules(rules_path, rules_text(text, lab))
    write_env(env_path, values, result.drop)
    ask.say(f"\n✓ wrote {env_path} (0600) and {rules_path}")
    _shadowed(ask, environ, values)
    for step in result.next_steps:
        ask.say(f"! still to do: {step}")
    code = 0
    if options.doctor:
        ask.say("\naccessbot doctor:")
        run_doctor = doctor or _doctor
        code = run_doctor(_doctor_settings(environ, values, folder, env_path, rules_path), ask.out)
    where = "" if folder.resolve() == Path.cwd().resolve() else f"cd {folder} && "
    ask.say(
        f"\nStart the bot: {where}accessbot run    (or make run; in Docker: docker run --env-file .env ...)"
    )
    return code


def _platform(options: InitOptions, ask: Asker, env: Environment) -> str:
    if options.platform:
        if options.platform not in WIZARDS:
            raise SetupError(f"no set-up for {options.platform!r} (known: {', '.join(WIZARDS)})")
        return options.platform
    names = list(WIZARDS)
    default = next(
        (
            i
            for i, n in enumerate(names)
            if any(k.startswith(n.upper() + "_") and env.get(k) for k in env.values)
        ),
        0,
    )
    return names[ask.pick("Which platform does the lab use?", names, default, flag="--platform")]


def _url(value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise ValueError("a link starts with https://")
    return value


def _shadowed(ask: Asker, environ: Mapping[str, str], values: Mapping[str, str]) -> None:
    """Variables set in this shell win over .env: say so when they differ from what was written."""
    for name, value in values.items():
        if environ.get(name, "").strip() and environ[name].strip() != value:
            ask.say(f"! {name} is also set in this shell, to another value: it wins over .env (unset it)")


def _doctor_settings(
    environ: Mapping[str, str], values: Mapping[str, str], folder: Path, env_path: Path, rules_path: Path
) -> Settings:
    """What `accessbot run` in `folder` will read: the values just written win for this check, and
    paths are taken from `folder` when init was pointed at another one."""
    env = {k: v for k, v in environ.items() if k not in values}
    settings = Settings.from_env(env, env_file=env_path)
    if folder.resolve() == Path.cwd().resolve():
        return settings
    sources = settings.sources
    return dataclasses.replace(
        settings,
        rules_path=settings.rules_path if ENV_VARS["rules_path"] in sources else rules_path.resolve(),
        data_dir=settings.data_dir if ENV_VARS["data_dir"] in sources else (folder / "data").resolve(),
    )


def _doctor(settings: Settings, out: TextIO) -> int:
    from bot.doctor import doctor

    return doctor(settings, out)
