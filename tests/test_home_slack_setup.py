"""What docs/slack.md says the App Home needs is what slack-manifest.yaml declares and what the code
listens to (a wrong line here would leave a lab with an empty Home tab)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_manifest_code_and_docs_agree_on_the_app_home() -> None:
    manifest = yaml.safe_load((ROOT / "slack-manifest.yaml").read_text(encoding="utf-8"))
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert "app_home_opened" in manifest["settings"]["event_subscriptions"]["bot_events"]
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    serve = (ROOT / "bot" / "adapters" / "slack" / "serve.py").read_text(encoding="utf-8")
    assert re.search(r'app\.event\("app_home_opened"\)', serve)
    docs = (ROOT / "docs" / "slack.md").read_text(encoding="utf-8")
    section = docs.split("## The App Home tab", 1)[1].split("\n## ", 1)[0]
    for needed in ("home_tab_enabled: true", "app_home_opened", "interactivity.is_enabled: true"):
        assert needed in section, needed
    assert "views.publish" in section and "Reinstall" in section
