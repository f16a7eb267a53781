"""The conversation table: what people write, in English and Korean, what the bot takes it to mean,
and which language the message is written in (None: neutral, the conversation's language stays).

Rows are (text, intent, message language). The lead extends rows with the state change when the
handlers are wired; here they pin the pure reading of each message.
"""

from __future__ import annotations

import pytest

from bot.intents import Intent, understand

In = Intent
EN, KO = "en", "ko"

TABLE: list[tuple[str, Intent, str | None]] = [
    # --- DONE: unambiguous completion
    ("done", In.DONE, None),
    ("Done!", In.DONE, None),
    ("I'm done", In.DONE, EN),
    ("I finished this step", In.DONE, EN),
    ("okay I signed the DUA", In.DONE, EN),
    ("I uploaded it", In.DONE, EN),
    ("all done", In.DONE, EN),
    ("completed", In.DONE, EN),
    ("finished the CITI course", In.DONE, EN),
    ("yes I did", In.DONE, EN),
    ("I got credentialed!", In.DONE, EN),
    ("Hi! I finished the CITI course. What now?", In.DONE, EN),
    ("Done! What's next?", In.DONE, EN),
    ("완료", In.DONE, KO),
    ("완료했어요", In.DONE, KO),
    ("이 단계 완료했어요", In.DONE, KO),
    ("끝났어요", In.DONE, KO),
    ("다 했어요", In.DONE, KO),
    ("했어요", In.DONE, KO),
    ("제출했습니다", In.DONE, KO),
    ("업로드했어요", In.DONE, KO),
    ("PhysioNet에 올렸어요", In.DONE, KO),
    ("DUA 서명했어요", In.DONE, KO),
    ("다 됐어요", In.DONE, KO),
    ("인증 받았어요!", In.DONE, KO),
    ("done 했어요", In.DONE, KO),
    ("CITI 완료", In.DONE, KO),
    # --- MAYBE_DONE: perhaps; the bot asks "Did you finish X? yes / no"
    ("I think I'm done", In.MAYBE_DONE, EN),
    ("probably finished", In.MAYBE_DONE, EN),
    ("I'm not sure I finished", In.MAYBE_DONE, EN),
    ("dnoe", In.MAYBE_DONE, None),
    ("I got approved", In.MAYBE_DONE, EN),
    ("Done. Wait, not yet.", In.MAYBE_DONE, EN),
    ("done but I can't find the next page", In.MAYBE_DONE, EN),
    ("끝난 것 같아요", In.MAYBE_DONE, KO),
    ("아마 다 했을 거예요", In.MAYBE_DONE, KO),
    ("확인했어요", In.MAYBE_DONE, KO),
    ("됐어요", In.MAYBE_DONE, KO),
    ("가입했어요", In.MAYBE_DONE, KO),
    # --- NOT_YET: negation and tense
    ("not yet", In.NOT_YET, EN),
    ("I haven't done it", In.NOT_YET, EN),
    ("I did not finish yet", In.NOT_YET, EN),
    ("didn't finish", In.NOT_YET, EN),
    ("I will do it tomorrow", In.NOT_YET, EN),
    ("I'll send it tonight", In.NOT_YET, EN),
    ("later", In.NOT_YET, EN),
    ("I can't do it today", In.NOT_YET, EN),
    ("still working on it", In.NOT_YET, EN),
    ("almost done", In.NOT_YET, EN),
    ("I finished the course but haven't uploaded the report yet", In.NOT_YET, EN),
    ("no, not yet", In.NOT_YET, EN),
    ("I haven't applied yet", In.NOT_YET, EN),
    ("I started the course", In.NOT_YET, EN),
    ("아직 안 했어요", In.NOT_YET, KO),
    ("아직이요", In.NOT_YET, KO),
    ("못 했어요", In.NOT_YET, KO),
    ("안했어요", In.NOT_YET, KO),
    ("완료 안 했어요", In.NOT_YET, KO),
    ("끝나지 않았어요", In.NOT_YET, KO),
    ("내일 할게요", In.NOT_YET, KO),
    ("나중에 할게요", In.NOT_YET, KO),
    ("다음 주에 할게요", In.NOT_YET, KO),
    ("지금 하는 중이에요", In.NOT_YET, KO),
    ("아니요 아직이요", In.NOT_YET, KO),
    ("시작했어요", In.NOT_YET, KO),
    ("아직 신청 안 했어요", In.NOT_YET, KO),
    # --- APPLIED: applied for credentialing, not credentialed
    ("I applied", In.APPLIED, EN),
    ("I've applied on PhysioNet", In.APPLIED, EN),
    ("I submitted my application", In.APPLIED, EN),
    ("application submitted", In.APPLIED, EN),
    ("신청했어요", In.APPLIED, KO),
    ("자격 인증 신청했습니다", In.APPLIED, KO),
    ("신청 완료했어요", In.APPLIED, KO),
    ("신청서 제출했어요", In.APPLIED, KO),
    # --- questions are never completions
    ("did I finish?", In.STATUS, EN),
    ("is it done?", In.STATUS, EN),
    ("am I done?", In.STATUS, EN),
    ("done?", In.STATUS, None),
    ("다 했나요?", In.STATUS, KO),
    ("완료됐나요?", In.STATUS, KO),
    ("제출했어요?", In.STATUS, KO),
    # --- YES / NO
    ("yes", In.YES, EN),
    ("yep", In.YES, EN),
    ("ok", In.YES, None),
    ("sure", In.YES, EN),
    ("that's right", In.YES, EN),
    ("lgtm", In.YES, None),
    ("✅", In.YES, None),
    ("네", In.YES, KO),
    ("넵", In.YES, KO),
    ("응", In.YES, KO),
    ("맞아요", In.YES, KO),
    ("네 맞습니다", In.YES, KO),
    ("no", In.NO, EN),
    ("nope", In.NO, EN),
    ("no thanks", In.NO, EN),
    ("wrong", In.NO, EN),
    ("아니요", In.NO, KO),
    ("아뇨", In.NO, KO),
    ("아니에요", In.NO, KO),
    ("틀렸어요", In.NO, KO),
    # --- UNDO
    ("undo", In.UNDO, None),
    ("undo that please", In.UNDO, EN),
    ("I clicked done by mistake", In.UNDO, EN),
    ("go back", In.UNDO, EN),
    ("can I undo the last step?", In.UNDO, EN),
    ("되돌려 줘", In.UNDO, KO),
    ("되돌리고 싶어요", In.UNDO, KO),
    ("실수로 완료라고 했어요", In.UNDO, KO),
    ("완료 취소해 주세요", In.UNDO, KO),
    # --- CHANGE_ANSWER
    ("change my username", In.CHANGE_ANSWER, EN),
    ("I typed the wrong username", In.CHANGE_ANSWER, EN),
    ("can I change my answer?", In.CHANGE_ANSWER, EN),
    ("I made a typo in my username", In.CHANGE_ANSWER, EN),
    ("아이디 바꿀래요", In.CHANGE_ANSWER, KO),
    ("사용자 이름을 잘못 입력했어요", In.CHANGE_ANSWER, KO),
    ("아이디 수정하고 싶어요", In.CHANGE_ANSWER, KO),
    ("username 바꾸고 싶어요", In.CHANGE_ANSWER, KO),
    # --- STATUS
    ("what step am I on?", In.STATUS, EN),
    ("whats my status", In.STATUS, EN),
    ("stauts", In.STATUS, None),
    ("whats my stpe", In.STATUS, EN),
    ("progress pls", In.STATUS, EN),
    ("show my checklist", In.STATUS, EN),
    ("how far am I?", In.STATUS, EN),
    ("pending", In.STATUS, None),
    ("status", In.STATUS, None),
    ("지금 몇 단계야?", In.STATUS, KO),
    ("어디까지 했어?", In.STATUS, KO),
    ("진행 상황 알려줘", In.STATUS, KO),
    ("상태", In.STATUS, KO),
    ("status 보여줘", In.STATUS, KO),
    ("남은 단계가 뭐예요?", In.STATUS, KO),
    # --- NEXT
    ("next", In.NEXT, None),
    ("nxet", In.NEXT, None),
    ("what should I do next", In.NEXT, EN),
    ("what now?", In.NEXT, EN),
    ("how do I get the completion report", In.NEXT, EN),
    ("where do I upload it?", In.NEXT, EN),
    ("다음은 뭐야", In.NEXT, KO),
    ("다음 단계는?", In.NEXT, KO),
    ("어디서 다운로드해요?", In.NEXT, KO),
    ("이제 뭐 해야 돼요?", In.NEXT, KO),
    ("할 일이 뭐예요", In.NEXT, KO),
    # --- HELP
    ("help", In.HELP, None),
    ("hepl", In.HELP, None),
    ("?", In.HELP, None),
    ("what is this bot", In.HELP, EN),
    ("I'm stuck", In.HELP, EN),
    ("I can't find the button", In.HELP, EN),
    ("I don't understand", In.HELP, EN),
    ("도와줘", In.HELP, KO),
    ("도와주세요", In.HELP, KO),
    ("도움말", In.HELP, KO),
    ("잘 모르겠어요", In.HELP, KO),
    ("업로드가 안 돼요", In.HELP, KO),
    ("어떻게 해야 할지 모르겠어요", In.HELP, KO),
    # --- GREETING
    ("hi", In.GREETING, EN),
    ("hello there", In.GREETING, EN),
    ("hey", In.GREETING, EN),
    ("good morning", In.GREETING, EN),
    ("helo", In.GREETING, None),
    ("안녕", In.GREETING, KO),
    ("안녕하세요", In.GREETING, KO),
    ("안녕하세요!", In.GREETING, KO),
    ("처음이에요", In.GREETING, KO),
    # --- THANKS
    ("thanks!", In.THANKS, EN),
    ("thank you so much", In.THANKS, EN),
    ("thx", In.THANKS, EN),
    ("got it", In.THANKS, EN),
    ("no problem", In.THANKS, EN),
    ("great", In.THANKS, EN),
    ("👍", In.THANKS, None),
    ("🙏", In.THANKS, None),
    ("🙏🙏", In.THANKS, None),
    ("고마워요", In.THANKS, KO),
    ("감사합니다", In.THANKS, KO),
    ("알겠습니다", In.THANKS, KO),
    ("넵 감사합니다", In.YES, KO),
    # --- CANCEL
    ("cancel", In.CANCEL, None),
    ("never mind", In.CANCEL, EN),
    ("nvm", In.CANCEL, EN),
    ("canecl", In.CANCEL, None),
    ("취소", In.CANCEL, KO),
    ("그만", In.CANCEL, KO),
    ("취소할게요", In.CANCEL, KO),
    # --- QUESTION (for the FAQ)
    ("how long does the MIT review take?", In.QUESTION, EN),
    ("who should be my reference?", In.QUESTION, EN),
    ("my reference hasn't replied", In.QUESTION, EN),
    ("what should the research summary say?", In.QUESTION, EN),
    ("I have a question", In.QUESTION, EN),
    ("why was my report refused?", In.QUESTION, EN),
    ("Is the CITI course available in Korean?", In.QUESTION, EN),
    ("심사 얼마나 걸려요?", In.QUESTION, KO),
    ("추천인은 누구로 해야 하나요?", In.QUESTION, KO),
    ("질문 있어요", In.QUESTION, KO),
    ("영어로 된 자료 있어요?", In.QUESTION, KO),
    ("왜 이렇게 오래 걸려요?", In.QUESTION, KO),
    # --- staff words: never a completion, never an answer by themselves
    ("approve", In.UNKNOWN, None),
    ("reject", In.UNKNOWN, None),
    ("show", In.UNKNOWN, None),
    ("forget", In.UNKNOWN, None),
    ("stats", In.STATUS, None),
    # --- UNKNOWN
    ("jdoe", In.UNKNOWN, None),
    ("kim_j", In.UNKNOWN, None),
    ("the meaning of life", In.UNKNOWN, EN),
    ("my username is kim_j", In.UNKNOWN, EN),
    ("제 아이디는 kim_j 입니다", In.UNKNOWN, KO),
    ("asdfgh", In.UNKNOWN, None),
    ("", In.UNKNOWN, None),
    # --- more phrasings, found by trying the bot as a new user would
    ("I signed up on physionet", In.MAYBE_DONE, EN),  # an account, not necessarily this step
    ("I registered", In.MAYBE_DONE, EN),
    ("sorry I forgot", In.NOT_YET, EN),
    ("깜빡했어요", In.NOT_YET, KO),
    ("what do I have left", In.STATUS, EN),
    ("제가 지금 어느 단계죠?", In.STATUS, KO),
    ("제출 됐나요?", In.STATUS, KO),
    ("application is under review", In.APPLIED, EN),
    ("심사 중이에요", In.APPLIED, KO),
    ("my username was wrong", In.CHANGE_ANSWER, EN),
    ("뭘 하면 되나요?", In.NEXT, KO),
    ("반갑습니다", In.GREETING, KO),
    ("ㄱㅅ", In.THANKS, KO),
    ("ㅇㅋ", In.YES, KO),
    ("ㅋㅋ", In.UNKNOWN, None),
    ("okay thanks", In.YES, EN),  # agreement first: it answers a pending yes/no question
    ("never mind, I'll do it later", In.CANCEL, EN),
    ("🙂🙂", In.THANKS, None),
]


@pytest.mark.parametrize(("text", "intent", "language"), TABLE)
def test_conversation_table(text: str, intent: Intent, language: str | None) -> None:
    understood = understand(text)
    assert (understood.intent, understood.message_language) == (intent, language)


def test_the_table_is_big_and_covers_every_intent_in_both_languages() -> None:
    assert len(TABLE) >= 150
    seen = {intent for _, intent, _ in TABLE}
    assert seen >= set(Intent) - {Intent.LANGUAGE}  # language requests: test_language_detect.py
    for intent in seen - {Intent.UNKNOWN}:
        langs = {lang for _, i, lang in TABLE if i is intent}
        assert KO in langs, intent
        assert EN in langs or None in langs, intent


def test_unknown_offers_two_or_three_likely_intents() -> None:
    for text in ("asdfgh", "the meaning of life", "jdoe"):
        understood = understand(text)
        assert 2 <= len(understood.alternatives) <= 3
    assert understand("statsu plz thx").intent is Intent.STATUS
    assert Intent.STATUS in understand("stat").alternatives
