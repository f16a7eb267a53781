"""The review post offers the return for changes as the platform allows (bot/review/render.py is
pure): a button, the ↩️ reaction, or the text command `return ID STEP REASON`; after a return the
post shows what changed."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.events import Outgoing
from bot.i18n import Translator
from bot.models import Applicant, ReturnInfo, Review
from bot.platform import Capabilities
from bot.review import render
from bot.rules_loader import load_rules
from tests.conftest import RULES

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _post(capabilities: Capabilities, review: Review | None = None, lang: str = "en") -> Outgoing:
    rules = load_rules(RULES)
    applicant = Applicant("console:alice", "en", "2026-11-20T00:00:00+00:00", "2026-11-20T00:00:00+00:00")
    review = review or Review(
        "0123456789ab", "console:alice", "pending", "2026-11-30T00:00:00+00:00", "console"
    )
    return render.summary(
        applicant,
        review,
        rules,
        Translator().bound(lang),
        mention=lambda key: "@" + key.split(":", 1)[1],
        now=NOW,
        capabilities=capabilities,
    )


def test_neither_buttons_nor_reactions_name_the_text_command() -> None:
    post = _post(Capabilities(buttons=False, reactions=False))
    assert "`return 0123456789ab STEP REASON`" in post.text and "`reject 0123456789ab`" in post.text
    assert post.buttons == () and post.reactions == ()


def test_reactions_only_offer_the_return_emoji() -> None:
    post = _post(Capabilities(buttons=False, reactions=True))
    assert post.reactions == ("✅", "❌", "↩️") and "React ↩️ to return it" in post.text


def test_buttons_only_offer_the_return_button() -> None:
    post = _post(Capabilities(buttons=True, reactions=False))
    assert [b.action for b in post.buttons] == ["approve", "reject", "return_for_changes", "claim"]
    assert "Press Return for changes" in post.text


def test_a_package_back_after_a_return_shows_what_changed_in_the_channels_language() -> None:
    review = Review("0123456789ab", "console:alice", "pending", "2026-11-30T00:00:00+00:00", "console")
    review.returned = ReturnInfo(
        step="citi_training",
        by="console:reviewer",
        at="2026-11-30T01:00:00+00:00",
        reason="x",
        changes=[{"key": "returns.change_expiry", "params": {"before": "2029-01-01", "after": "2029-12-01"}}],
        came_back="2026-11-30T02:00:00+00:00",
    )
    en = _post(Capabilities(buttons=True), review)
    assert "What changed: Back after changes asked for on" in en.text
    assert "• expiry: 2029-01-01 → 2029-12-01" in en.text
    assert [label for label, _ in en.fields].count("What changed") == 1
    ko = _post(Capabilities(buttons=True), review, lang="ko")
    assert "만료일: 2029-01-01 → 2029-12-01" in ko.text
    review.state = "returned"  # while it is with the applicant, no "what changed" yet
    assert "What changed" not in _post(Capabilities(buttons=True), review).text
