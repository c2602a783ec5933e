"""Intake: a submitted stage is redacted, then goes to the custodian or straight to review."""

from datetime import timedelta

import pytest

from recruit.db import utcnow
from recruit.domain.intake import accept_submission, normalise_newlines
from recruit.domain.redaction import MARK_CLOSE, MARK_OPEN
from recruit.models import Answer, Candidacy, Role, Submission
from tests.factories import make_user
from tests.world import build_world

IDENTITY = {"first": "Евлампий", "middle": "Онуфриевич", "last": "Зюзюкин",
            "email": "zyuzyukin@mail.ru", "phone": "+7 912 345-67-89"}
CLEAN = "Я бы извинился перед клиентом, объяснил причину задержки и предложил решение."


@pytest.fixture
def submit(db):
    """Make a submitted stage 1 whose answers have the given texts, and run intake on it."""
    world = build_world(db)
    stage = world.campaign.stages[0]
    now = utcnow()

    def run(*texts: str, identity=IDENTITY) -> list[Answer]:
        user = make_user(db, role=Role.APPLICANT)
        candidacy = Candidacy(user_id=user.id, campaign_id=world.campaign.id, state="in_stage",
                              current_stage_id=stage.id)
        db.add(candidacy)
        db.flush()
        submission = Submission(candidacy_id=candidacy.id, stage_id=stage.id, started_at=now,
                                deadline_at=now + timedelta(hours=1), submitted_at=now)
        db.add(submission)
        db.flush()
        for task, text in zip(stage.tasks, texts, strict=False):
            db.add(Answer(submission_id=submission.id, task_id=task.id, text=text, version=1,
                          saved_at=now))
        db.flush()
        db.refresh(submission)
        return accept_submission(db, submission=submission, identity=identity,
                                 reviews_per_answer=3, now=now)

    run.now = now
    return run


def test_an_answer_with_nothing_to_hide_goes_to_review_at_once(submit):
    (answer,) = submit(CLEAN)
    assert answer.check_status == "released"
    assert answer.released_at == submit.now
    assert answer.redacted_text == CLEAN
    assert answer.redaction_spans == []
    assert answer.reviews_wanted == 3


@pytest.mark.parametrize("text, kind", [
    pytest.param(f"{CLEAN} Меня зовут Евлампий Зюзюкин.", "name", id="own-name"),
    pytest.param(f"{CLEAN} Передайте привет Зюзюкину.", "name", id="surname-dative"),
    pytest.param(f"{CLEAN} Пишите на zyuzyukin@mail.ru.", "email", id="email"),
    pytest.param(f"{CLEAN} Звоните 8 (912) 345 67 89.", "phone", id="phone"),
])
def test_an_answer_naming_its_author_waits_for_the_custodian_redacted(submit, text, kind):
    (answer,) = submit(text)
    assert answer.check_status == "pending"
    assert answer.released_at is None
    assert f"{MARK_OPEN}{kind}{MARK_CLOSE}" in answer.redacted_text
    assert {s["kind"] for s in answer.redaction_spans} == {kind}
    assert answer.text == text  # the original is kept for the custodian


def test_a_signed_answer_waits_even_when_nothing_was_redacted(submit):
    (answer,) = submit(f"{CLEAN}\n\nС уважением,\nЕ. О.", identity=None)
    assert answer.check_status == "pending"


def test_each_answer_of_a_stage_is_judged_on_its_own(submit):
    answers = submit(CLEAN, f"{CLEAN} Пишите на zyuzyukin@mail.ru.", CLEAN)
    assert [a.check_status for a in answers] == ["released", "pending", "released"]


def test_contacts_are_redacted_without_an_identity_too(submit):
    (answer,) = submit(f"{CLEAN} Пишите на someone.else@yandex.ru.", identity=None)
    assert "someone.else" not in answer.redacted_text
    assert answer.check_status == "pending"


def test_line_ends_are_stored_as_on_the_page_so_offsets_match(submit):
    (answer,) = submit("Первая строка.\r\nЗвоните 8 (912) 345 67 89.\rКонец.")
    assert "\r" not in answer.text
    (span,) = answer.redaction_spans
    assert answer.text[span["start"]:span["end"]] == "8 (912) 345 67 89"


@pytest.mark.parametrize("raw, expected", [
    pytest.param("a\r\nb", "a\nb", id="crlf"),
    pytest.param("a\rb", "a\nb", id="lone-cr"),
    pytest.param("a\nb", "a\nb", id="lf-kept"),
    pytest.param("a\r\n\r\nb", "a\n\nb", id="blank-line"),
])
def test_normalise_newlines(raw, expected):
    assert normalise_newlines(raw) == expected
