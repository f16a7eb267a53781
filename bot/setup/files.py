"""The two files `accessbot init` writes: `.env` (0600) and the lab's rules.yaml.

Both are edited line by line, so the comments and the order an admin chose stay; what init does not
set is left as it was. rules.yaml is checked by the real loader before it replaces the old file.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

import bot
from bot.rules_loader import RulesError, parse_rules
from bot.settings import read_env_file

ENV_HEADER = """\
# accessbot settings, written by `accessbot init` (0600: keep it out of git and out of images).
# accessbot reads this file itself; variables set in the environment win over it.
# Every variable is described in docs/configuration.md; `accessbot doctor` checks them.
"""


def shipped(name: str) -> Path | None:
    """A file the project ships beside the package (rules.yaml, slack-manifest.yaml), if present:
    the source checkout's root, or /app in the image."""
    for folder in (Path(bot.__file__).resolve().parent.parent, Path("/app")):
        if (folder / name).is_file():
            return folder / name
    return None


def write_private(path: Path, text: str, mode: int = 0o600) -> None:
    """Replace `path` atomically with `text`, created with `mode` (never readable by others first)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# -- .env -----------------------------------------------------------------------------------------

_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")


def env_text(existing: str, values: Mapping[str, str], drop: Sequence[str] = ()) -> str:
    """`existing` with each of `values` set in place (or appended), and `drop` commented out."""
    lines = existing.splitlines() if existing else ENV_HEADER.splitlines()
    done: set[str] = set()
    out: list[str] = []
    for line in lines:
        match = _ASSIGNMENT.match(line)
        name = match.group(1) if match else ""
        if name in values:
            if name not in done:
                out.append(f"{name}={values[name]}")
                done.add(name)
            continue
        if name in drop:
            out.append(f"# {line.strip()}   (not needed: commented out by accessbot init)")
            continue
        out.append(line)
    missing = [name for name in values if name not in done]
    if missing:
        out.append("")
        out.extend(f"{name}={values[name]}" for name in missing)
    return "\n".join(out).rstrip("\n") + "\n"


def write_env(path: Path, values: Mapping[str, str], drop: Sequence[str] = ()) -> None:
    """Set `values` in the env file at `path` (created 0600; an existing file becomes 0600 too).

    Values are written unquoted (docker --env-file keeps quotes), so none may hold a line break."""
    for name, value in values.items():
        if "\n" in value or value != value.strip():
            raise ValueError(f"{name}: a value cannot start or end with spaces or hold a line break")
    existing = path.read_text(encoding="utf-8") if path.is_file() else ""
    write_private(path, env_text(existing, values, drop))
    read_env_file(path)  # what was written reads back (raises SettingsError otherwise)


# -- rules.yaml -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabRules:
    """What init sets in rules.yaml for one platform; the rest of the file is left alone."""

    platform: str
    channel: str
    reviewers: tuple[str, ...]
    """user keys (platform:id)"""
    admins: tuple[str, ...]
    form_url: str = ""
    """The lab form step's link (empty: unchanged)."""
    contact: str = ""
    """program.contact (empty: unchanged)."""


def _flow(value: Any) -> str:
    """A YAML flow value on one line (JSON is YAML)."""
    return json.dumps(value, ensure_ascii=False)


def _flow_mapping(mapping: Mapping[str, Any]) -> str:
    return "{" + ", ".join(f"{key}: {_flow(value)}" for key, value in mapping.items()) + "}"


def _single_line_value(tail: str) -> bool:
    """The value on this line is the whole value (a flow list or map, a scalar), not a block start."""
    try:
        yaml.safe_load("k: " + tail)
    except yaml.YAMLError:
        return False
    return True


def rules_text(text: str, lab: LabRules) -> str:
    """`text` (a rules.yaml) with the lab's channel, reviewers, admins, form link and contact set.

    Other platforms' entries stay. Lines are edited in place, so comments stay; when a value is not
    on one line (a block list), the whole document is written anew instead, without its comments."""
    data = yaml.safe_load(text) or {}
    prefix = lab.platform + ":"
    reviewers_block = data.setdefault("reviewers", {})
    channels = dict(reviewers_block.get("channel") or {})
    channels[lab.platform] = lab.channel
    users = [u for u in reviewers_block.get("users") or [] if not str(u).startswith(prefix)]
    users += [u for u in lab.reviewers if u not in users]
    admins = [a for a in data.get("admins") or [] if not str(a).startswith(prefix)]
    admins += [a for a in lab.admins if a not in admins]
    edits = [
        (r"^admins", _flow(admins)),
        (r"^(?=reviewers:)(?:.|\n)*?^  channel", _flow_mapping(channels)),
        (r"^(?=reviewers:)(?:.|\n)*?^  users", _flow(users)),
    ]
    if lab.contact:
        edits.append((r"^(?=program:)(?:.|\n)*?^  contact", _flow(lab.contact)))
    new = text
    for pattern, value in edits:
        new, ok = _replace_line_after(new, pattern, value)
        if not ok:
            return _rewritten(data, channels, users, admins, lab)
    if lab.form_url:
        new = _set_form_url(new, data, lab.form_url)
    return new


def _replace_line_after(text: str, pattern: str, value: str) -> tuple[str, bool]:
    """Replace the value of the one-line key `pattern` finds (it may go through the key's parent:
    `^parent:` ... `^  key`); False when the value is not on that one line."""
    regex = re.compile(rf"({pattern}:)[ \t]*(\S.*)$", re.MULTILINE)
    match = regex.search(text)
    if match is None or match.group(2)[:1] in "|>" or not _single_line_value(match.group(2)):
        return text, False
    return text[: match.start(1)] + f"{match.group(1)} {value}" + text[match.end() :], True


def _lab_form_step(data: Mapping[str, Any]) -> Mapping[str, Any] | None:
    steps = [s for s in data.get("steps") or [] if isinstance(s, dict)]
    return next((s for s in steps if s.get("id") == "lab_form"), None)


def lab_form_url(data: Mapping[str, Any]) -> str:
    """The first link of the `lab_form` step (the lab's own usage-authorization form)."""
    step = _lab_form_step(data)
    links = (step or {}).get("links") or []
    return str(links[0].get("url") or "") if links and isinstance(links[0], dict) else ""


def _set_form_url(text: str, data: Mapping[str, Any], url: str) -> str:
    old = lab_form_url(data)
    if not old or old == url:
        return text
    start = text.find("- id: lab_form")
    at = text.find(old, max(start, 0))
    if at < 0:
        return text
    return text[:at] + url + text[at + len(old) :]


def _rewritten(
    data: dict[str, Any], channels: dict[str, str], users: list[str], admins: list[str], lab: LabRules
) -> str:
    data["reviewers"]["channel"] = channels
    data["reviewers"]["users"] = users
    data["admins"] = admins
    if lab.contact:
        data.setdefault("program", {})["contact"] = lab.contact
    step = _lab_form_step(data)
    if lab.form_url and step is not None and step.get("links"):
        step["links"][0]["url"] = lab.form_url
    header = "# accessbot rules (rewritten by accessbot init; docs/rules.md describes every field)\n"
    return header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=110)


def write_rules(path: Path, text: str) -> None:
    """Check `text` with the real loader, then replace `path` (0644: rules hold no secrets)."""
    try:
        parse_rules(text)
    except RulesError as exc:
        raise ValueError(f"the rules init would write are not valid:\n{exc}") from exc
    write_private(path, text, mode=0o644)
