"""Checks every platform package shares: a secret's shape, and the reviewers and admins it needs.

Each platform's `checks()` (printed by `accessbot doctor`, enforced by `accessbot run`) is built from
these, so a token pasted in quotes or a missing reviewers channel reads the same on every platform.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

from bot.platform import Check
from bot.rules import Rules


def token_check(
    name: str, value: str, pattern: re.Pattern[str], fix: str, why: Callable[[str], str] | None = None
) -> Check:
    """Shapes only, to catch a token pasted into the wrong variable, cut off, or wrapped in quotes."""
    if not value:
        return Check.fail(f"{name} is not set", fix)
    if value[0] in "'\"" or value[-1] in "'\"":
        return Check.fail(
            f"{name} is wrapped in quotes",
            f"remove the quotes: docker --env-file keeps them as part of the value ({fix})",
        )
    if pattern.match(value):
        return Check.good(f"{name} is well-formed")
    if value.lower().startswith("bot "):
        return Check.fail(f"{name} is malformed: it starts with `Bot `", f"remove the `Bot ` prefix ({fix})")
    if any(c.isspace() for c in value):
        return Check.fail(f"{name} contains a space or line break", f"paste it again on one line ({fix})")
    reason = why(value) if why else ""
    return Check.fail(f"{name} is malformed{': ' + reason if reason else ''}", fix)


def people_checks(
    rules: Rules,
    platform: str,
    rules_path: Path,
    *,
    channel_pattern: re.Pattern[str] | None,
    channel_help: str,
    placeholder: str = "",
) -> Iterator[Check]:
    """The reviewers channel, enough reviewers for the approvals asked, and an admin, on one platform."""
    channel = rules.reviewers.channel.get(platform, "")
    fix = f"set reviewers.channel.{platform} in {rules_path} to {channel_help}"
    if not channel:
        yield Check.fail(f"reviewers channel for {platform}: not set", fix)
    elif channel_pattern is not None and not channel_pattern.match(channel):
        yield Check.fail(f"reviewers channel for {platform}: {channel!r} is not a channel id", fix)
    elif placeholder and channel == placeholder:
        yield Check.fail(f"reviewers channel for {platform}: {channel} is the example from rules.yaml", fix)
    else:
        yield Check.good(f"reviewers channel for {platform}: {channel}")
    reviewers = [u for u in rules.reviewers.users if u.startswith(platform + ":")]
    needed = rules.reviewers.approvals_required
    yield Check(
        "ok" if len(reviewers) >= needed else "fail",
        f"{len(reviewers)} reviewer(s) on {platform}, {needed} approval(s) needed",
        f"add {platform}:<user id> entries to reviewers.users in {rules_path}"
        f" (or lower reviewers.approvals_required)",
    )
    admins = [u for u in rules.admins if u.startswith(platform + ":")]
    yield Check(
        "ok" if admins else "fail",
        f"{len(admins)} admin(s) on {platform}",
        f"add {platform}:<user id> to admins in {rules_path}",
    )
