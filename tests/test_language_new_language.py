"""Adding a language is adding files: a made-up third language works with no code change.

The test copies bot/locales into a temporary folder and adds Zorbian (code "zb"): its words file
and its sentence files (core.zb.yaml, documents.zb.yaml). understand() reads it and the Translator
renders it. The lead extends this test end to end through the bot.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.i18n import LOCALES_DIR, Translator, load_catalog
from bot.intents import Intent, understand
from bot.language.answers import extract_username
from bot.language.detect import message_language
from bot.language.lexicon import Lexicon, LexiconError
from bot.schema import LocalText

ZORBIAN_WORDS = """
language:
  name: Zorbian
  script: latin
  match: words
  names:
    zb: [zorbian, zorbi]
    en: [anglo]
  switch: [zo, plix]
  refuse: [nix grok]
intents:
  done: {phrases: [mi zorpa], words: [zorp, zorpa]}
  not_yet: {phrases: [nix zorp], words: [futa]}
  status: {words: [blorf]}
  next: {words: [nexo]}
  help: {words: [halpa]}
  greeting: {words: [grutzi]}
  thanks: {words: [danko]}
  yes: {words: [ja]}
  no: {words: [nej]}
  cancel: {words: [stoppa]}
  undo: {words: [unzorp]}
  change_answer: {words: [altera]}
  applied: {phrases: [mi petis]}
  question: {words: [kwesto]}
cues:
  negation: [nix]
  future: [morga]
  hedge: [eble]
  question_words: [ka, kiu]
topics: [referanto]
typos: [blorf, zorpa]
common: [mi, la, estas, kaj]
username:
  labels: [uzanto]
  refuse: [zorpa]
"""


def _zorbian(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _zorbian(v) for k, v in node.items()}
    return f"[zb] {node}"


@pytest.fixture(scope="module")
def locales(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("locales")
    for path in LOCALES_DIR.glob("*.yaml"):
        shutil.copy(path, folder / path.name)
    (folder / "words.zb.yaml").write_text(ZORBIAN_WORDS, encoding="utf-8")
    areas = sorted(p.name.removesuffix(".en.yaml") for p in LOCALES_DIR.glob("*.en.yaml"))
    for area in (a for a in areas if a != "words"):  # every sentence area: core, documents, and new ones
        english = yaml.safe_load((LOCALES_DIR / f"{area}.en.yaml").read_text(encoding="utf-8"))
        (folder / f"{area}.zb.yaml").write_text(
            yaml.safe_dump(_zorbian(english), allow_unicode=True), "utf-8"
        )
    return folder


@pytest.fixture(scope="module")
def lexicon(locales: Path) -> Lexicon:
    return Lexicon.load(locales)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("zorp", Intent.DONE),
        ("mi zorpa", Intent.DONE),
        ("zropa", Intent.MAYBE_DONE),  # a typo is asked about, never recorded
        ("nix zorp", Intent.NOT_YET),
        ("mi zorpa morga", Intent.NOT_YET),
        ("eble mi zorpa", Intent.MAYBE_DONE),
        ("ka mi zorpa?", Intent.STATUS),  # a question is never a completion
        ("blorf", Intent.STATUS),
        ("bolrf", Intent.STATUS),
        ("nexo", Intent.NEXT),
        ("halpa", Intent.HELP),
        ("grutzi", Intent.GREETING),
        ("danko", Intent.THANKS),
        ("ja", Intent.YES),
        ("nej", Intent.NO),
        ("stoppa", Intent.CANCEL),
        ("unzorp", Intent.UNDO),
        ("altera uzanto", Intent.CHANGE_ANSWER),
        ("mi petis", Intent.APPLIED),
        ("kiu estas la referanto", Intent.QUESTION),
        ("done", Intent.DONE),  # English still works beside it
        ("완료", Intent.DONE),
    ],
)
def test_understands_the_new_language(lexicon: Lexicon, text: str, intent: Intent) -> None:
    assert understand(text, lexicon).intent is intent


def test_knows_the_message_is_in_the_new_language(lexicon: Lexicon) -> None:
    assert message_language("mi zorpa kaj blorf", lexicon) == "zb"
    assert message_language("I am done", lexicon) == "en"
    assert message_language("완료했어요", lexicon) == "ko"
    assert understand("blorf", lexicon).message_language == "zb"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("zorbian", "zb"),
        ("in zorbian please", "zb"),
        ("zo zorbi plix", "zb"),
        ("zo anglo", "en"),
        ("I don't speak zorbian", "en"),  # written in English: English
        ("nix grok zorbian", None),  # refused in Zorbian, with two others to choose from: ask which
    ],
)
def test_asks_for_the_new_language(lexicon: Lexicon, text: str, language: str | None) -> None:
    understood = understand(text, lexicon)
    assert (understood.intent, understood.language) == (Intent.LANGUAGE, language)


def test_username_refusals_come_from_its_file(lexicon: Lexicon) -> None:
    assert extract_username("zorpa", lexicon) is None
    assert extract_username("uzanto estas kim_j", lexicon) == "kim_j"


def test_renders_the_new_language(locales: Path) -> None:
    catalog = load_catalog(locales)
    assert set(catalog["zb"]) == set(catalog["en"])
    translator = Translator(catalog)
    title = LocalText({"en": "Sign the DUA", "ko": "DUA 서명", "zb": "Subskribi la DUA"})
    assert translator.t("zb", "status.now", number=2, title=title) == "[zb] Now, step 2: Subskribi la DUA"
    assert translator.t("zb", "problem.not_pdf").startswith("[zb] ")
    assert translator.t("ko", "status.now", number=2, title=title) == "지금 할 일, 2단계: DUA 서명"
    assert "zb" in translator.languages


def test_a_broken_words_file_names_the_file_and_field(tmp_path: Path) -> None:
    (tmp_path / "words.zb.yaml").write_text("intents:\n  finished: {words: [zorp]}\n", encoding="utf-8")
    with pytest.raises(LexiconError, match=r"words\.zb\.yaml.*finished"):
        understand("zorp", Lexicon.load(tmp_path))
    (tmp_path / "words.zb.yaml").write_text("language: {script: klingon}\n", encoding="utf-8")
    with pytest.raises(LexiconError, match=r"words\.zb\.yaml.*script"):
        Lexicon.load(tmp_path)
    (tmp_path / "words.zb.yaml").write_text("cues: {negations: [nix]}\n", encoding="utf-8")
    with pytest.raises(LexiconError, match=r"words\.zb\.yaml.*negations"):
        Lexicon.load(tmp_path)


def test_a_new_language_works_end_to_end_through_the_bot(locales: Path, tmp_path: Path) -> None:
    """Only files were added (locales and one word in rules.yaml): the whole bot speaks Zorbian."""
    from bot.app import assemble
    from bot.documents import Validator
    from bot.rules_loader import RulesHolder
    from bot.store import Store
    from tests.conftest import RULES
    from tests.journey import Driver

    rules = tmp_path / "rules.yaml"
    rules.write_text(
        RULES.read_text(encoding="utf-8").replace("languages: [en, ko]", "languages: [en, ko, zb]"),
        encoding="utf-8",
    )
    with Validator(timeout_s=5.0) as validator:
        app = assemble(
            rules=RulesHolder(rules), store=Store(tmp_path / "data"), validator=validator, locales=locales
        )
        driver = Driver(app)
        driver.say("hi")
        switched = driver.say("in zorbian please")[-1].text
        assert switched.startswith("[zb] "), switched
        status = driver.say("blorf")[-1].text
        assert status.startswith("[zb] "), status
        applicant = app.store.get("console:alice")
        assert applicant is not None and applicant.lang == "zb"
        app.services.store.close()
