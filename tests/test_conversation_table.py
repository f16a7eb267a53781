"""The conversation table: one utterance per row, through the real bot (console adapter), in English and
Korean, for every intent, with negations, questions, staff roles and mixed-language lines.

Each row says where the person starts, what they write, what it means (the intent), what changes in
their record (or "none"), and the language of the reply. Every row is a fresh person on one shared
bot, so rows never interfere and the table stays fast. A failing row prints its whole conversation.

Starting points (`start`): `new` (never wrote), `s1` (on the username step), `s1?` (the bot asked to
confirm kim_j), `s3` (steps 1-2 done, on a confirm step), `s3?` (asked "Did you finish step 3?"),
`s4` (on the credentialing step), `s4a` (applied already), `review` (package with the reviewers),
`streak` (writes English, has sent one Korean message), `rev` / `adm` (a reviewer / an admin).
`lang` is the language the person has written in so far.

Changes: `record` (a record was created), `done:STEP` (=ANSWER for answers), `ask:STEP` (the bot
asked "Did you finish?"), `confirm:ANSWER` (asked to confirm an answer), `clear` (a pending question
was dropped), `undo:STEP` (reopened), `applied`, `lang:xx`, `apply` (a staff member started an
application).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

import pytest

from bot.application import Application
from bot.documents import Validator
from bot.intents import Intent, understand
from bot.models import Applicant, StepState
from tests.conftest import RULES, Clock, make_bot
from tests.journey import Driver

Row = tuple[str, str, str, str, str, str]
# start, lang, text, intent, change, reply language

ROWS: list[Row] = [
    # -- someone new: the welcome and their checklist, whatever they write; nothing completed ------
    ("new", "", "hi", "greeting", "record", "en"),
    ("new", "", "안녕", "greeting", "record", "ko"),
    ("new", "", "도와주세요", "help", "record", "ko"),
    ("new", "", "아직 안 했어요", "not_yet", "record", "ko"),
    ("new", "", "done", "done", "record", "en"),
    ("new", "", "kim_j", "unknown", "record,confirm:kim_j", "en"),
    ("new", "", "제 아이디는 kim_j 입니다", "unknown", "record,confirm:kim_j", "ko"),
    ("new", "", "how long does credentialing take?", "question", "record", "en"),
    ("new", "", "심사 얼마나 걸려요?", "question", "record", "ko"),
    ("new", "", "한국어로", "language", "record", "ko"),
    ("new", "", "I don't speak Korean", "language", "record", "en"),
    ("new", "", "yes", "yes", "record", "en"),
    ("new", "", "👍", "thanks", "record", "en"),
    ("new", "", "asdfgh", "unknown", "record,confirm:asdfgh", "en"),  # it could be a username: asked
    ("new", "", "what is this", "help", "record", "en"),
    ("new", "", "신청했어요", "applied", "record", "ko"),
    ("new", "", "처음이에요", "greeting", "record", "ko"),
    # -- the username step: answers found in sentences, confirmed before they are recorded ---------
    ("s1", "en", "kim_j", "unknown", "confirm:kim_j", "en"),
    ("s1", "en", "my username is kim_j", "unknown", "confirm:kim_j", "en"),
    ("s1", "en", "kim_j is my username", "unknown", "confirm:kim_j", "en"),
    ("s1", "en", "it's jdoe42", "unknown", "confirm:jdoe42", "en"),
    ("s1", "en", "I registered as minji.kim", "maybe_done", "confirm:minji.kim", "en"),
    ("s1", "en", "yes", "yes", "none", "en"),
    ("s1", "en", "registered", "maybe_done", "none", "en"),
    ("s1", "en", "dnoe", "maybe_done", "none", "en"),
    ("s1", "en", "done", "done", "none", "en"),
    ("s1", "en", "cancel", "cancel", "none", "en"),
    ("s1", "en", "approve", "unknown", "none", "en"),
    ("s1", "en", "kim j", "unknown", "none", "en"),
    ("s1", "en", "my username is 김철수", "unknown", "none", "en"),
    ("s1", "en", "hello", "greeting", "none", "en"),
    ("s1", "en", "I made a typo in my username", "change_answer", "none", "en"),
    ("s1", "en", "my physionet id is park.sy", "question", "confirm:park.sy", "en"),
    ("s1", "ko", "피지오넷 아이디는 kim_j예요", "question", "confirm:kim_j", "ko"),
    ("s1", "ko", "제 아이디는 kim_j 입니다", "unknown", "confirm:kim_j", "ko"),
    ("s1", "ko", "kim_j입니다", "unknown", "confirm:kim_j", "ko"),
    ("s1", "ko", "아이디는 jdoe42예요", "unknown", "confirm:jdoe42", "ko"),
    ("s1", "ko", "네", "yes", "none", "ko"),
    ("s1", "ko", "가입했어요", "maybe_done", "none", "ko"),
    ("s1", "ko", "완료", "done", "none", "ko"),
    ("s1", "ko", "안녕", "greeting", "none", "ko"),
    ("s1", "ko", "ㅇㅋ", "yes", "none", "ko"),
    # -- the bot asked "I'll note kim_j as your PhysioNet username. Right?" ------------------------
    ("s1?", "en", "yes", "yes", "done:physionet_account=kim_j", "en"),
    ("s1?", "en", "right", "yes", "done:physionet_account=kim_j", "en"),
    ("s1?", "en", "sure", "yes", "done:physionet_account=kim_j", "en"),
    ("s1?", "en", "✅", "yes", "done:physionet_account=kim_j", "en"),
    ("s1?", "en", "yes kim_j", "yes", "done:physionet_account=kim_j", "en"),
    ("s1?", "en", "no", "no", "clear", "en"),
    ("s1?", "en", "nope", "no", "clear", "en"),
    ("s1?", "en", "no, it's kim_j2", "no", "confirm:kim_j2", "en"),
    ("s1?", "en", "kim_j2", "unknown", "confirm:kim_j2", "en"),
    ("s1?", "en", "cancel", "cancel", "clear", "en"),
    ("s1?", "en", "status", "status", "none", "en"),
    ("s1?", "ko", "네", "yes", "done:physionet_account=kim_j", "ko"),
    ("s1?", "ko", "맞아요", "yes", "done:physionet_account=kim_j", "ko"),
    ("s1?", "ko", "아니요", "no", "clear", "ko"),
    ("s1?", "ko", "아니요, kim_j2예요", "no", "confirm:kim_j2", "ko"),
    ("s1?", "ko", "취소", "cancel", "clear", "ko"),
    # -- a confirm step (3. Upload the CITI report on PhysioNet), in English ------------------------
    ("s3", "en", "done", "done", "done:citi_on_physionet", "en"),
    ("s3", "en", "I finished it", "done", "done:citi_on_physionet", "en"),
    ("s3", "en", "all done!", "done", "done:citi_on_physionet", "en"),
    ("s3", "en", "I have uploaded it", "done", "done:citi_on_physionet", "en"),
    ("s3", "en", "not yet", "not_yet", "none", "en"),
    ("s3", "en", "I haven't done it yet", "not_yet", "none", "en"),
    ("s3", "en", "I didn't finish", "not_yet", "none", "en"),
    ("s3", "en", "I will do it tomorrow", "not_yet", "none", "en"),
    ("s3", "en", "I can't do it now", "not_yet", "none", "en"),
    ("s3", "en", "not done", "not_yet", "none", "en"),
    ("s3", "en", "I think I'm done", "maybe_done", "ask:citi_on_physionet", "en"),
    ("s3", "en", "probably finished", "maybe_done", "ask:citi_on_physionet", "en"),
    ("s3", "en", "dnoe", "maybe_done", "ask:citi_on_physionet", "en"),
    ("s3", "en", "Done. Wait, not yet", "maybe_done", "ask:citi_on_physionet", "en"),
    ("s3", "en", "I applied", "applied", "ask:citi_on_physionet", "en"),
    ("s3", "en", "did I finish?", "status", "none", "en"),
    ("s3", "en", "yes", "yes", "none", "en"),
    ("s3", "en", "okay thanks", "yes", "none", "en"),
    ("s3", "en", "no", "no", "none", "en"),
    ("s3", "en", "👍", "thanks", "none", "en"),
    ("s3", "en", "🙏", "thanks", "none", "en"),
    ("s3", "en", "thanks!", "thanks", "none", "en"),
    ("s3", "en", "hi", "greeting", "none", "en"),
    ("s3", "en", "what step am I on?", "status", "none", "en"),
    ("s3", "en", "whats my stpe", "status", "none", "en"),
    ("s3", "en", "stauts", "status", "none", "en"),
    ("s3", "en", "what next?", "next", "none", "en"),
    ("s3", "en", "next step please", "next", "none", "en"),
    ("s3", "en", "help", "help", "none", "en"),
    ("s3", "en", "I'm stuck", "help", "none", "en"),
    ("s3", "en", "undo", "undo", "undo:citi_training", "en"),
    ("s3", "en", "go back", "undo", "undo:citi_training", "en"),
    ("s3", "en", "change my username", "change_answer", "undo:physionet_account", "en"),
    (
        "s3",
        "en",
        "change my username to kim_j2",
        "change_answer",
        "undo:physionet_account,confirm:kim_j2",
        "en",
    ),
    ("s3", "en", "cancel", "cancel", "none", "en"),
    ("s3", "en", "how long does the MIT review take?", "question", "none", "en"),
    ("s3", "en", "who should be my reference?", "question", "none", "en"),
    ("s3", "en", "can I be my own reference?", "question", "none", "en"),
    ("s3", "en", "my reference hasn't replied", "question", "none", "en"),
    ("s3", "en", "what should the research summary say?", "question", "none", "en"),
    ("s3", "en", "which CITI course should I take?", "question", "none", "en"),
    ("s3", "en", "how do I renew my training?", "question", "none", "en"),
    ("s3", "en", "who can I contact?", "question", "none", "en"),
    ("s3", "en", "when will I be approved?", "question", "none", "en"),
    ("s3", "en", "what is the meaning of life", "question", "none", "en"),
    ("s3", "en", "asdfgh", "unknown", "none", "en"),
    ("s3", "en", "in English please", "language", "none", "en"),
    ("s3", "en", "English", "language", "none", "en"),
    ("s3", "en", "한국어로", "language", "lang:ko", "ko"),
    ("s3", "en", "status please", "status", "none", "en"),
    # -- the same step in Korean ---------------------------------------------------------------------
    ("s3", "ko", "완료했어요", "done", "done:citi_on_physionet", "ko"),
    ("s3", "ko", "다 했어요", "done", "done:citi_on_physionet", "ko"),
    ("s3", "ko", "올렸어요", "done", "done:citi_on_physionet", "ko"),
    ("s3", "ko", "아직 안 했어요", "not_yet", "none", "ko"),
    ("s3", "ko", "못 했어요", "not_yet", "none", "ko"),
    ("s3", "ko", "안 했어요", "not_yet", "none", "ko"),
    ("s3", "ko", "나중에 할게요", "not_yet", "none", "ko"),
    ("s3", "ko", "하는 중이에요", "not_yet", "none", "ko"),
    ("s3", "ko", "아직이요", "not_yet", "none", "ko"),
    ("s3", "ko", "끝난 것 같아요", "maybe_done", "ask:citi_on_physionet", "ko"),
    ("s3", "ko", "신청했어요", "applied", "ask:citi_on_physionet", "ko"),
    ("s3", "ko", "다 했나요?", "status", "none", "ko"),
    ("s3", "ko", "네", "yes", "none", "ko"),
    ("s3", "ko", "아니요", "no", "none", "ko"),
    ("s3", "ko", "고마워요", "thanks", "none", "ko"),
    ("s3", "ko", "감사합니다", "thanks", "none", "ko"),
    ("s3", "ko", "ㄱㅅ", "thanks", "none", "ko"),
    ("s3", "ko", "안녕하세요", "greeting", "none", "ko"),
    ("s3", "ko", "지금 몇 단계야?", "status", "none", "ko"),
    ("s3", "ko", "어디까지 했죠?", "status", "none", "ko"),
    ("s3", "ko", "상태", "status", "none", "ko"),
    ("s3", "ko", "다음", "next", "none", "ko"),
    ("s3", "ko", "뭐 해야 돼요?", "next", "none", "ko"),
    ("s3", "ko", "도와주세요", "help", "none", "ko"),
    ("s3", "ko", "도움말", "help", "none", "ko"),
    ("s3", "ko", "되돌려 줘", "undo", "undo:citi_training", "ko"),
    ("s3", "ko", "실수로 완료했어요", "undo", "undo:citi_training", "ko"),
    ("s3", "ko", "아이디 바꿀래요", "change_answer", "undo:physionet_account", "ko"),
    ("s3", "ko", "취소", "cancel", "none", "ko"),
    ("s3", "ko", "영어로 해 주세요", "language", "lang:en", "en"),
    ("s3", "ko", "한국어", "language", "none", "ko"),
    ("s3", "ko", "연구 요약에 뭘 써야 하나요?", "question", "none", "ko"),
    ("s3", "ko", "어떤 CITI 과정을 들어야 하나요?", "question", "none", "ko"),
    ("s3", "ko", "보고서가 왜 거절됐나요?", "question", "none", "ko"),
    ("s3", "ko", "갱신은 어떻게 하나요?", "question", "none", "ko"),
    ("s3", "ko", "담당자가 누구예요?", "question", "none", "ko"),
    ("s3", "ko", "얼마나 기다려야 하나요?", "question", "none", "ko"),
    ("s3", "ko", "질문이 있어요", "question", "none", "ko"),
    ("s3", "ko", "ㅁㄴㅇㄹ", "unknown", "none", "ko"),
    ("s3", "ko", "I don't speak Korean", "language", "lang:en", "en"),
    # -- mixed languages: one message in the other language does not switch ------------------------
    ("s3", "en", "완료", "done", "done:citi_on_physionet", "en"),
    ("s3", "en", "아직이요", "not_yet", "none", "en"),
    ("s3", "en", "CITI 보고서 올렸어요", "done", "done:citi_on_physionet", "en"),
    ("s3", "ko", "done", "done", "done:citi_on_physionet", "ko"),
    ("s3", "ko", "not yet", "not_yet", "none", "ko"),
    ("s3", "ko", "status please", "status", "none", "ko"),
    ("streak", "en", "상태", "status", "lang:ko", "ko"),
    ("streak", "en", "아직 안 했어요", "not_yet", "lang:ko", "ko"),
    ("streak", "en", "status", "status", "none", "en"),
    ("streak", "en", "what step am I on?", "status", "none", "en"),
    # -- the bot asked "Did you finish ...? yes / no" ------------------------------------------------
    ("s3?", "en", "yes", "yes", "done:citi_on_physionet", "en"),
    ("s3?", "en", "yep", "yes", "done:citi_on_physionet", "en"),
    ("s3?", "en", "done", "done", "done:citi_on_physionet", "en"),
    ("s3?", "en", "no", "no", "clear", "en"),
    ("s3?", "en", "not yet", "not_yet", "clear", "en"),
    ("s3?", "en", "cancel", "cancel", "clear", "en"),
    ("s3?", "en", "status", "status", "none", "en"),
    ("s3?", "ko", "네", "yes", "done:citi_on_physionet", "ko"),
    ("s3?", "ko", "아니요", "no", "clear", "ko"),
    ("s3?", "ko", "아직이요", "not_yet", "clear", "ko"),
    # -- the credentialing step: "I applied" is a date, the step stays open -------------------------
    ("s4", "en", "I applied", "applied", "applied", "en"),
    ("s4", "en", "I've applied on PhysioNet", "applied", "applied", "en"),
    ("s4", "en", "I submitted my application", "applied", "applied", "en"),
    ("s4", "en", "it's under review", "applied", "applied", "en"),
    ("s4", "en", "I haven't applied yet", "not_yet", "none", "en"),
    ("s4", "en", "done", "done", "done:credentialing", "en"),
    ("s4", "en", "I'm credentialed", "done", "done:credentialing", "en"),
    ("s4", "en", "still waiting for PhysioNet", "question", "none", "en"),
    ("s4", "en", "why is it taking so long?", "question", "none", "en"),
    ("s4", "en", "undo", "undo", "undo:citi_on_physionet", "en"),
    ("s4", "ko", "신청했어요", "applied", "applied", "ko"),
    ("s4", "ko", "신청 완료", "applied", "applied", "ko"),
    ("s4", "ko", "심사 중이에요", "applied", "applied", "ko"),
    ("s4", "ko", "아직 신청 안 했어요", "not_yet", "none", "ko"),
    ("s4", "ko", "내일 신청할게요", "not_yet", "none", "ko"),
    ("s4", "ko", "인증 받았어요", "done", "done:credentialing", "ko"),
    ("s4", "ko", "심사 얼마나 걸려요?", "question", "none", "ko"),
    ("s4", "ko", "추천인이 답이 없어요", "question", "none", "ko"),
    ("s4", "ko", "추천인은 누구로 해야 하나요?", "question", "none", "ko"),
    ("s4a", "en", "I applied", "applied", "none", "en"),
    ("s4a", "en", "status", "status", "none", "en"),
    ("s4a", "en", "done", "done", "done:credentialing", "en"),
    ("s4a", "ko", "신청했어요", "applied", "none", "ko"),
    # -- under review: nothing can be undone or changed ----------------------------------------------
    ("review", "en", "undo", "undo", "none", "en"),
    ("review", "en", "change my username", "change_answer", "none", "en"),
    ("review", "en", "done", "done", "none", "en"),
    ("review", "en", "status", "status", "none", "en"),
    ("review", "ko", "되돌려 줘", "undo", "none", "ko"),
    # -- reviewers and admins are never recorded as applicants by what they say ---------------------
    ("rev", "", "cancel", "cancel", "none", "en"),
    ("rev", "", "approve", "unknown", "none", "en"),
    ("rev", "", "lgtm", "yes", "none", "en"),
    ("rev", "", "done", "done", "none", "en"),
    ("rev", "", "yes", "yes", "none", "en"),
    ("rev", "", "kim_j", "unknown", "none", "en"),
    ("rev", "", "hi", "greeting", "none", "en"),
    ("rev", "", "help", "help", "none", "en"),
    ("rev", "", "pending", "status", "none", "en"),
    ("rev", "", "도와주세요", "help", "none", "ko"),
    ("rev", "", "안녕", "greeting", "none", "ko"),
    ("rev", "", "how long does the review take?", "question", "none", "en"),
    ("rev", "", "한국어로", "language", "none", "ko"),
    ("rev", "", "I want to apply", "unknown", "apply", "en"),
    ("rev", "", "how do applicants apply?", "question", "none", "en"),
    ("rev", "", "신청하고 싶어요", "unknown", "apply", "ko"),
    ("adm", "", "show", "unknown", "none", "en"),
    ("adm", "", "forget", "unknown", "none", "en"),
    ("adm", "", "approve", "unknown", "none", "en"),
    ("adm", "", "stats", "status", "none", "en"),
    ("adm", "", "pending", "status", "none", "en"),
    ("adm", "", "done", "done", "none", "en"),
    ("adm", "", "kim_j", "unknown", "none", "en"),
    ("adm", "", "hi", "greeting", "none", "en"),
    ("adm", "", "undo", "undo", "none", "en"),
    ("adm", "", "아이디 바꿀래요", "change_answer", "none", "ko"),
    ("adm", "", "I would like to apply for access", "question", "apply", "en"),
]

_STAFF = 40


@pytest.fixture(scope="module")
def table_bot(tmp_path_factory: pytest.TempPathFactory, validator: Validator) -> Iterator[Application]:
    folder = tmp_path_factory.mktemp("table")
    text = RULES.read_text(encoding="utf-8")
    reviewers = ", ".join(f'"console:rev{n}"' for n in range(_STAFF))
    admins = ", ".join(f'"console:adm{n}"' for n in range(_STAFF))
    text = text.replace('admins: ["console:admin"]', f'admins: ["console:admin", {admins}]')
    text = text.replace('"console:reviewer2"]', f'"console:reviewer2", {reviewers}]')
    rules = folder / "rules.yaml"
    rules.write_text(text, encoding="utf-8")
    bot = make_bot(folder / "data", validator, Clock(), rules)
    yield bot
    bot.close()


_names = itertools.count()
_staff = {"rev": itertools.count(), "adm": itertools.count()}


def _mark_done(bot: Application, key: str, steps: int) -> None:
    now = bot.store.now()

    def mark(a: Applicant) -> None:
        for step in bot.rules.steps[:steps]:
            evidence = {"answer": "alice_kim"} if step.id == "physionet_account" else {}
            a.steps[step.id] = StepState("done", now, evidence, by=key)

    bot.store.update(key, mark)


def _start(driver: Driver, bot: Application, start: str, lang: str) -> str:
    if start in _staff:
        name = f"{start}{next(_staff[start])}"
        driver.as_(name)
        return name
    name = f"t{next(_names)}"
    driver.as_(name)
    if start == "new":
        return name
    ko = lang == "ko"
    driver.say("안녕" if ko else "hi")
    key = f"console:{name}"
    if start == "s1?":
        driver.say("kim_j")
    elif start in ("s3", "s3?"):
        _mark_done(bot, key, 2)
        if start == "s3?":
            driver.say("끝난 것 같아요" if ko else "I think I'm done")
    elif start in ("s4", "s4a"):
        _mark_done(bot, key, 3)
        if start == "s4a":
            driver.say("신청했어요" if ko else "I applied")
    elif start == "review":
        _mark_done(bot, key, 6)
        driver.say("완료" if ko else "done")  # step 7: the package goes to the reviewers
    elif start == "streak":
        driver.say("안녕")  # one Korean message: still English
    return name


def _snapshot(applicant: Applicant | None) -> dict[str, object] | None:
    if applicant is None:
        return None
    pending = applicant.pending
    return {
        "done": {
            s: str(st.evidence.get("answer", "")) for s, st in applicant.steps.items() if st.status == "done"
        },
        "pending": (pending.kind, pending.step, pending.answer) if pending else None,
        "applied": set(applicant.applied),
        "lang": applicant.lang,
        "applying": applicant.applying,
    }


def _changes(before: dict[str, object] | None, after: dict[str, object] | None) -> str:
    if after is None:
        return "none" if before is None else "forgotten"
    out: list[str] = []
    if before is None:
        out.append("apply" if after["applying"] else "record")
        before = {
            "done": {},
            "pending": None,
            "applied": set(),
            "lang": after["lang"],
            "applying": after["applying"],
        }
    done_before, done_after = before["done"], after["done"]
    assert isinstance(done_before, dict) and isinstance(done_after, dict)
    for step in done_after:
        if step not in done_before:
            out.append(f"done:{step}" + (f"={done_after[step]}" if done_after[step] else ""))
    out += [f"undo:{step}" for step in done_before if step not in done_after]
    pending = after["pending"]
    if pending != before["pending"]:
        if isinstance(pending, tuple):
            out.append(f"confirm:{pending[2]}" if pending[0] == "answer" else f"ask:{pending[1]}")
        elif not any(c.startswith(("done:", "undo:")) for c in out):
            out.append("clear")
    if after["applied"] != before["applied"]:
        out.append("applied")
    if after["lang"] != before["lang"]:
        out.append(f"lang:{after['lang']}")
    if after["applying"] and not before["applying"] and "apply" not in out:
        out.append("apply")
    return ",".join(out) or "none"


_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_LATIN = re.compile(r"[A-Za-z]")
_QUOTED = re.compile(r"\"[^\"]*\"|\*\*[^*]*\*\*|`[^`]*`")


def reply_language(texts: list[str]) -> str:
    """ko when the reply is mostly Hangul (quoted words, such as an echoed answer, left out)."""
    text = _QUOTED.sub("", "\n".join(texts))
    hangul, latin = len(_HANGUL.findall(text)), len(_LATIN.findall(text))
    return "ko" if hangul > latin / 3 else "en"


def _ids(row: Row) -> str:
    return f"{row[0]}-{row[1] or 'x'}-{row[2]}"


def test_the_table_is_big_and_covers_every_intent() -> None:
    assert len(ROWS) >= 150
    assert {Intent(r[3]) for r in ROWS} == set(Intent)
    assert {r[5] for r in ROWS} == {"en", "ko"}
    assert any(r[0] in ("rev", "adm") for r in ROWS)


@pytest.mark.parametrize("row", ROWS, ids=[_ids(r) for r in ROWS])
def test_conversation_row(row: Row, table_bot: Application) -> None:
    start, lang, text, intent, change, reply_lang = row
    bot = table_bot
    driver = Driver(bot)
    name = _start(driver, bot, start, lang)
    key = f"console:{name}"
    before = _snapshot(bot.store.get(key))
    replies = driver.say(text)
    after = _snapshot(bot.store.get(key))
    conversation = "\n".join(f"[{s.where}] {s.text}" for s in driver.console.sent)
    got_intent = understand(text, faq=bot.rules.faq_entries()).intent.value
    got_change = _changes(before, after)
    mine = [r.text for r in replies if r.where == f"DM → {name}"]
    got_lang = reply_language(mine) if mine else "-"
    assert (got_intent, got_change, got_lang) == (intent, change, reply_lang), (
        f"\n{text!r} from {start}/{lang or '-'}: expected {(intent, change, reply_lang)}, got"
        f" {(got_intent, got_change, got_lang)}\n--- the whole conversation ---\n{conversation}"
    )
    if start in _staff and change == "none":
        assert bot.store.get(key) is None, "staff are never recorded as applicants by what they say"


def test_reply_language_reads_hangul_and_latin() -> None:
    assert reply_language(['"완료"라고 말해 주세요.']) == "ko"
    assert reply_language(['"김철수" does not look like a PhysioNet username.']) == "en"
