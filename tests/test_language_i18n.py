"""The Translator resolves localised parameters in the recipient's language and renders particles."""

from __future__ import annotations

import time

from bot.i18n import Translator, render
from bot.intents import Intent, understand
from bot.language.lexicon import default_lexicon
from bot.language.text import MAX_CHARS
from bot.schema import LocalText

TITLE = LocalText({"en": "Upload the CITI report on PhysioNet", "ko": "PhysioNet에 CITI 보고서 올리기"})


def test_a_korean_render_with_a_localtext_title_gives_the_korean_title() -> None:
    t = Translator()
    assert (
        t.t("ko", "steps.confirmed", title=TITLE)
        == '✅ 좋아요, "PhysioNet에 CITI 보고서 올리기" 단계를 마쳤습니다.'
    )
    assert (
        t.t("en", "steps.confirmed", title=TITLE)
        == '✅ Great, "Upload the CITI report on PhysioNet" is done.'
    )


def test_mappings_and_plain_values_are_parameters_too() -> None:
    t = Translator()
    assert "CITI 수료 보고서를" in t.t(
        "ko", "status.finish_document", document={"en": "x", "ko": "CITI 수료 보고서"}
    )
    assert "send me the x" in t.t("en", "status.finish_document", document={"en": "x", "ko": "y"})
    assert t.t("ko", "status.now", number=3, title="x") == "지금 할 일, 3단계: x"
    assert "fr-only" in t.t("fr", "status.now", number=3, title=LocalText({"fr": "fr-only"}))


def test_template_syntax() -> None:
    assert render("ko", "{x:을} 보냈어요", {"x": "증빙"}) == "증빙을 보냈어요"
    assert render("ko", "{x:를} 보냈어요", {"x": "보고서"}) == "보고서를 보냈어요"
    assert render("ko", "{x}을(를) 찾을 수 없습니다", {"x": "kim_j"}) == "kim_j를 찾을 수 없습니다"
    assert render("ko", '"{x}"(으)로 기록', {"x": "서울"}) == '"서울"로 기록'
    assert render("ko", "**{x}**로 기록", {"x": "증빙"}) == "**증빙**으로 기록"
    assert render("ko", "{x}가능", {"x": "증빙"}) == "증빙가능"  # 가 begins a word here: left alone
    assert render("ko", "이름({x})이 다릅니다", {"x": "나무"}) == "이름(나무)이 다릅니다"  # belongs to 이름
    assert render("en", "{x:을} sent", {"x": "proof"}) == "proof sent"  # no particles in English
    assert render("en", "{n:>3}|{{literal}}|{missing}", {"n": 7}) == "  7|{literal}|{missing}"


def test_unknown_key_is_shown_not_raised() -> None:
    assert Translator().t("ko", "no.such.key") == "no.such.key"


def test_words_files_are_not_sentences() -> None:
    catalog = Translator().catalog
    assert not any(key.startswith(("intents.", "cues.", "language.names")) for key in catalog["en"])


def test_reading_is_bounded_and_fast() -> None:
    default_lexicon()
    understand("warm up")
    long_text = "I did not finish yet but what step am I on? " * 500
    start = time.perf_counter()
    for _ in range(20):
        understand(long_text)
        understand("안녕하세요 아직 안 했어요 " * 300)
        understand("asdf qwer zxcv " * 300)
    assert (time.perf_counter() - start) / 60 < 0.05
    assert len(long_text) > MAX_CHARS


def test_nothing_raises_on_odd_input() -> None:
    for text in ("", " ", "\u200b", "🙂", "a" * 10_000, "\x00", "?" * 50, "  done  \n", "{", "}{x}", "ㅋ"):
        assert isinstance(understand(text).intent, Intent)


def test_no_word_lists_in_code() -> None:
    """The words the bot understands live in bot/locales/words*.yaml, not in the reading code."""
    import ast
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "bot"
    from bot.language.text import SCRIPTS

    vocabulary = (
        default_lexicon().all_words()
        - {i.value for i in Intent}
        - set(SCRIPTS)
        - set(default_lexicon().codes)
    )
    for path in [root / "intents.py", *(root / "language").glob("*.py")]:
        if path.name in ("lexicon.py", "particles.py"):  # the loader's field names; Korean grammar
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {  # module, class, function and attribute docstrings: prose, not vocabulary
            id(node.value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        }
        exported = {
            id(c)
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "__all__" for t in node.targets)
            for c in ast.walk(node.value)
        }
        skip = docstrings | exported
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
                assert not re.search(r"[\uac00-\ud7a3]", node.value), (path.name, node.value)
                word = node.value.strip()
                assert word != word.lower() or word not in vocabulary, (path.name, node.value)
