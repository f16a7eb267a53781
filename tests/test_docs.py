"""Documentation that is generated or promised stays true: the rules reference, texts in both languages."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import yaml

from bot.i18n import load_catalog
from bot.rules_doc import DOC_PATH, render
from bot.rules_loader import parse_rules

ROOT = Path(__file__).resolve().parent.parent


def test_rules_reference_matches_the_schema() -> None:
    current = DOC_PATH.read_text(encoding="utf-8")
    assert render(current) == current, "docs/rules.md is stale: run python -m bot.rules_doc"


def test_every_rules_field_is_documented() -> None:
    text = DOC_PATH.read_text(encoding="utf-8")
    for field in (
        "complete_by",
        "answer_pattern",
        "approvals_required",
        "name_matches_applicant",
        "keep_days",
    ):
        assert f"| `{field}` |" in text


def test_worked_examples_are_valid_yaml() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC_PATH.read_text(encoding="utf-8"), re.DOTALL)
    assert len(blocks) >= 5
    for block in blocks:
        assert yaml.safe_load(textwrap.dedent(block)) is not None


def test_locales_have_the_same_keys_and_placeholders() -> None:
    catalog = load_catalog()
    en, ko = catalog["en"], catalog["ko"]
    assert set(en) == set(ko), set(en) ^ set(ko)
    for key, text in en.items():
        assert set(re.findall(r"\{(\w+)\}", text)) == set(re.findall(r"\{(\w+)\}", ko[key])), key


def test_every_text_key_used_in_code_exists() -> None:
    known = set(load_catalog()["en"])
    used: set[str] = set()
    for path in (ROOT / "bot").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        used |= set(
            re.findall(
                r"""(?:\bt\(|ctx\.t\(|send_dm\([^,]+,\s*|notify_admins\(|t\(lang,\s*)\s*"([a-z_]+\.[a-z_.]+)\"""",
                source,
            )
        )
    used = {k for k in used if not k.endswith(".")}
    missing = sorted(k for k in used if k not in known)
    assert not missing, missing
    assert len(used) > 60


def test_shipped_rules_parse_after_doc_edits() -> None:
    parse_rules((ROOT / "rules.yaml").read_text(encoding="utf-8"))
