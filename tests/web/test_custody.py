"""The custodian's desk: redaction check, release, reveals, contact requests, handover, audit."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask.cli import ScriptInfo

from recruit.cli import cli
from recruit.db import utcnow
from recruit.domain import audit, intake
from recruit.domain.redaction import IDENTITY_KEYS, MARK_CLOSE, MARK_OPEN
from recruit.models import (
    Answer,
    AuditEvent,
    CampaignReviewer,
    Candidacy,
    ContactRequest,
    OutboxMessage,
    Role,
    Submission,
)
from recruit.vault import store_identity
from tests.factories import make_user
from tests.world import build_world

PERSON = {"first": "Евлампий", "middle": "Онуфриевич", "last": "Зюзюкин",
          "birth_date": "1987-03-14", "citizenship": "RU", "phone": "+7 912 345-67-89",
          "city": "Тверь", "vk": "https://vk.com/zyuzya_e", "handle": "@evl_zz"}
EMAIL = "zyuzyukin.e@mail.ru"
FLAGGED = "Клиенту я бы ответил спокойно и по делу. Меня зовут Евлампий, пишите мне."
CLEAN = "Клиенту я бы ответил спокойно и по делу, без шаблонных фраз."


def run(app, *args):
    """Invoke the ``recruit`` command against ``app``."""
    return CliRunner().invoke(cli, list(args), obj=ScriptInfo(create_app=lambda: app),
                              catch_exceptions=False)


def submit_stage(db, world, *texts, submitted_at=None):
    """A new applicant with a sealed identity submits stage 1; intake runs on the answers."""
    now = utcnow()
    submitted_at = submitted_at or now
    user = make_user(db, role=Role.APPLICANT, email=f"{len(texts)}-{now.timestamp()}{EMAIL}")
    store_identity(db, user=user, fields=PERSON)
    stage = world.campaign.stages[0]
    candidacy = Candidacy(user_id=user.id, campaign_id=world.campaign.id, state="submitted",
                          current_stage_id=stage.id)
    db.add(candidacy)
    db.flush()
    submission = Submission(candidacy_id=candidacy.id, stage_id=stage.id,
                            started_at=submitted_at - timedelta(minutes=30),
                            deadline_at=submitted_at + timedelta(hours=1),
                            submitted_at=submitted_at)
    db.add(submission)
    db.flush()
    for task, text in zip(stage.tasks, texts, strict=False):
        db.add(Answer(submission_id=submission.id, task_id=task.id, text=text, version=1,
                      saved_at=submitted_at))
    db.flush()
    db.refresh(submission)
    answers = intake.accept_submission(db, submission=submission,
                                       identity={k: v for k, v in {**PERSON, "email": EMAIL}
                                                 .items() if k in IDENTITY_KEYS},
                                       reviews_per_answer=2, now=submitted_at)
    return candidacy, answers


def events(db, action):
    return db.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)
                      .order_by(AuditEvent.id)).all()


@pytest.fixture
def world(db):
    return build_world(db)


@pytest.fixture
def custodian(world):
    return world.users["custodian"]


@pytest.fixture
def pending(db, world):
    """A candidacy whose first answer waits for the custodian (it names its author)."""
    candidacy, answers = submit_stage(db, world, FLAGGED, CLEAN)
    assert [a.check_status for a in answers] == ["pending", "released"]
    return candidacy, answers[0]


# -- the redaction CLI -----------------------------------------------------------------------

def test_redact_command_prints_the_redacted_text_and_spans_as_json(tmp_path):
    identity = tmp_path / "identity.json"
    identity.write_text(json.dumps({"first": "Евлампий", "last": "Зюзюкин",
                                    "email": EMAIL}), encoding="utf-8")
    text = tmp_path / "answer.txt"
    text.write_text(f"Пишите Зюзюкину на {EMAIL}.", encoding="utf-8")
    result = CliRunner().invoke(cli, ["redact", "--identity", str(identity),
                                      "--text", str(text)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["text"] == f"Пишите {MARK_OPEN}name{MARK_CLOSE} на {MARK_OPEN}email{MARK_CLOSE}."
    assert data["spans"] == [
        {"kind": "name", "start": 7, "end": 15, "text": "Зюзюкину"},
        {"kind": "email", "start": 19, "end": 38, "text": EMAIL},
    ]


@pytest.mark.parametrize("content, message", [
    pytest.param('{"name": "Иван"}', "unknown keys name", id="unknown-key"),
    pytest.param('["Иван"]', "must hold a JSON object", id="not-an-object"),
    pytest.param('{"first": ', "not valid JSON", id="broken-json"),
    pytest.param('{"first": 5}', "values must be strings: first", id="not-a-string"),
])
def test_redact_command_explains_a_bad_identity_file(tmp_path, content, message):
    identity = tmp_path / "identity.json"
    identity.write_text(content, encoding="utf-8")
    text = tmp_path / "answer.txt"
    text.write_text("Текст", encoding="utf-8")
    result = CliRunner().invoke(cli, ["redact", "--identity", str(identity),
                                      "--text", str(text)])
    assert result.exit_code == 2
    assert message in result.output


# -- the queue -------------------------------------------------------------------------------

def test_the_queue_lists_answers_waiting_for_the_check_and_nothing_else(client, custodian,
                                                                       pending, world):
    _, answer = pending
    client.login(custodian)
    page = client.get("/custody/").get_data(as_text=True)
    assert f"/custody/answers/{answer.token}" in page
    assert world.answers[0].token not in page  # released answers are not in the queue


def test_the_answer_page_shows_original_and_redacted_side_by_side(client, custodian, pending):
    _, answer = pending
    client.login(custodian)
    response = client.get(f"/custody/answers/{answer.token}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "Евлампий" in page  # the original, for the custodian only
    assert '<mark class="redacted k-name">[name]</mark>' in page
    assert 'src="/static/custody.js"' in page and "<script>" not in page


def test_an_unknown_answer_is_not_found(client, custodian):
    client.login(custodian)
    assert client.get("/custody/answers/no-such-token").status_code == 404


def test_marking_a_stretch_redacts_it(client, db, custodian, pending):
    _, answer = pending
    start = answer.text.index("спокойно")
    client.login(custodian)
    response = client.post_form(f"/custody/answers/{answer.token}/spans",
                                {"start": start, "end": start + len("спокойно"),
                                 "kind": "name"})
    assert response.status_code == 302
    db.refresh(answer)
    assert "спокойно" not in answer.redacted_text
    assert {"kind": "name", "start": start, "end": start + 8} in answer.redaction_spans


@pytest.mark.parametrize("data", [
    pytest.param({"start": 5, "end": 5000, "kind": "name"}, id="past-the-end"),
    pytest.param({"start": 9, "end": 3, "kind": "name"}, id="end-before-start"),
    pytest.param({"start": 1, "end": 3, "kind": "shoe-size"}, id="unknown-kind"),
    pytest.param({"start": "", "end": 3, "kind": "name"}, id="missing-start"),
])
def test_a_bad_stretch_is_refused_and_nothing_changes(client, db, custodian, pending, data):
    _, answer = pending
    before = (answer.redacted_text, list(answer.redaction_spans))
    client.login(custodian)
    response = client.post_form(f"/custody/answers/{answer.token}/spans", data)
    assert response.status_code == 400
    assert 'class="error"' in response.get_data(as_text=True)
    db.refresh(answer)
    assert (answer.redacted_text, answer.redaction_spans) == before


def test_a_phrase_is_redacted_at_every_occurrence(client, db, custodian, world):
    _, (answer,) = submit_stage(db, world, "Офис на Садовой. Садовой улицей я хожу. "
                                           "Меня зовут Евлампий.")
    client.login(custodian)
    response = client.post_form(f"/custody/answers/{answer.token}/phrase",
                                {"phrase": "садовой", "kind": "city"})
    assert response.status_code == 302
    db.refresh(answer)
    assert "Садовой" not in answer.redacted_text
    assert answer.redacted_text.count(f"{MARK_OPEN}city{MARK_CLOSE}") == 2


def test_a_phrase_that_does_not_occur_is_reported(client, custodian, pending):
    _, answer = pending
    client.login(custodian)
    response = client.post_form(f"/custody/answers/{answer.token}/phrase",
                                {"phrase": "нет такого", "kind": "name"})
    assert response.status_code == 400
    assert "The phrase does not occur in the answer." in response.get_data(as_text=True)


def test_a_wrong_redaction_can_be_undone_while_the_answer_waits(client, db, custodian,
                                                                pending):
    _, answer = pending
    (span,) = answer.redaction_spans
    client.login(custodian)
    client.post_form(f"/custody/answers/{answer.token}/unmark",
                     {"start": span["start"], "end": span["end"]})
    db.refresh(answer)
    assert answer.redaction_spans == []
    assert answer.redacted_text == answer.text


def test_a_released_answer_can_only_be_redacted_further(client, db, custodian, pending):
    _, answer = pending
    (span,) = answer.redaction_spans
    client.login(custodian)
    client.post_form(f"/custody/answers/{answer.token}/release")
    response = client.post_form(f"/custody/answers/{answer.token}/unmark",
                                {"start": span["start"], "end": span["end"]},
                                follow_redirects=True)
    assert "it can only be redacted further" in response.get_data(as_text=True)
    db.refresh(answer)
    assert answer.redaction_spans == [span]


def test_releasing_sends_the_answer_to_review_and_is_audited(client, db, custodian, pending):
    _, answer = pending
    client.login(custodian)
    response = client.post_form(f"/custody/answers/{answer.token}/release")
    assert response.status_code == 302
    db.refresh(answer)
    assert answer.check_status == "released" and answer.released_at is not None
    (event,) = events(db, "answer.release")
    assert event.subject == f"answer:{answer.token}" and event.actor_id == custodian.id
    again = client.post_form(f"/custody/answers/{answer.token}/release",
                             follow_redirects=True)
    assert "not waiting for the check" in again.get_data(as_text=True)


# -- automatic release -----------------------------------------------------------------------

def test_opening_the_queue_releases_answers_waiting_too_long(client, db, custodian, world):
    world.campaign.auto_release_hours = 6
    _, (late,) = submit_stage(db, world, FLAGGED, submitted_at=utcnow() - timedelta(hours=7))
    _, (recent,) = submit_stage(db, world, FLAGGED, submitted_at=utcnow() - timedelta(hours=5))
    client.login(custodian)
    page = client.get("/custody/").get_data(as_text=True)
    assert "went to review unchecked" in page
    db.refresh(late)
    db.refresh(recent)
    assert (late.check_status, recent.check_status) == ("released", "pending")
    (event,) = events(db, "answer.auto_release")
    assert event.details == {"count": 1, "campaigns": {world.campaign.key: 1}}


def test_without_a_campaign_setting_nothing_is_released_automatically(client, db, custodian,
                                                                      world):
    assert world.campaign.auto_release_hours is None
    _, (old,) = submit_stage(db, world, FLAGGED, submitted_at=utcnow() - timedelta(days=60))
    client.login(custodian)
    client.get("/custody/")
    db.refresh(old)
    assert old.check_status == "pending"


def test_the_auto_release_command(fresh_app):
    from recruit.db import get_db

    with fresh_app.app_context():
        db = get_db()
        world = build_world(db)
        world.campaign.auto_release_hours = 1
        submit_stage(db, world, FLAGGED, submitted_at=utcnow() - timedelta(hours=2))
        db.commit()
    result = run(fresh_app, "custody", "auto-release")
    assert result.exit_code == 0, result.output
    assert "Released 1 answer(s) to review." in result.output
    with fresh_app.app_context():
        assert get_db().scalar(sa.select(sa.func.count()).select_from(Answer)
                               .where(Answer.check_status == "pending")) == 0


# -- reveals ---------------------------------------------------------------------------------

def test_opening_an_identity_needs_a_reason_and_is_audited_every_time(client, db, custodian,
                                                                     pending):
    candidacy, _ = pending
    client.login(custodian)
    refused = client.post_form("/custody/identity", {"code": candidacy.code, "reason": "  "})
    assert refused.status_code == 400
    assert "Зюзюкин" not in refused.get_data(as_text=True)
    assert events(db, "identity.view") == []

    for _ in range(2):
        response = client.post_form("/custody/identity",
                                    {"code": candidacy.code.lower(),
                                     "reason": "Договориться о собеседовании"})
        page = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "Евлампий Онуфриевич Зюзюкин" in page and EMAIL.split("@")[0] in page
        assert response.headers["Cache-Control"] == "no-store"
    views = events(db, "identity.view")
    assert len(views) == 2
    assert {(e.subject, e.actor_id, e.details["reason"]) for e in views} == {
        (f"candidacy:{candidacy.code}", custodian.id, "Договориться о собеседовании")}
    assert audit.verify(db)[1] is None


def test_an_unknown_code_reveals_nothing(client, db, custodian):
    client.login(custodian)
    response = client.post_form("/custody/identity", {"code": "ZZ-ZZZZ", "reason": "Проверка"})
    assert response.status_code == 400
    assert "No candidacy has this code." in response.get_data(as_text=True)
    assert events(db, "identity.view") == []


def test_other_coordinators_cannot_open_identities(client, world, pending):
    candidacy, _ = pending
    client.login(world.users["coordinator"])
    response = client.post_form("/custody/identity", {"code": candidacy.code,
                                                      "reason": "Любопытство"})
    assert response.status_code == 403


# -- contact requests ------------------------------------------------------------------------

def test_a_coordinator_asks_the_custodian_to_contact_a_candidate_blind(client, db, world,
                                                                      custodian, pending):
    candidacy, _ = pending
    coordinator = world.users["coordinator"]
    client.login(coordinator)
    url = f"/coordinate/candidacies/{candidacy.code}/contact"
    form = client.get(url).get_data(as_text=True)
    assert candidacy.code in form and "Зюзюкин" not in form and EMAIL not in form
    response = client.post_form(url, {"message": "Можно ли перенести собеседование?"})
    assert response.status_code == 302
    request = db.scalar(sa.select(ContactRequest).where(
        ContactRequest.candidacy_id == candidacy.id))
    assert request.requested_by_id == coordinator.id and request.handled_at is None
    mail = db.scalars(sa.select(OutboxMessage).where(OutboxMessage.audience == "staff")).all()
    assert [m.to_address for m in mail] == [custodian.email]
    assert candidacy.code in mail[0].subject
    assert "Зюзюкин" not in mail[0].body_text + (mail[0].body_html or "")
    after = client.get(url).get_data(as_text=True)
    assert "Можно ли перенести собеседование?" in after and "Зюзюкин" not in after

    client.login(custodian)
    desk = client.get("/custody/").get_data(as_text=True)
    assert "Можно ли перенести собеседование?" in desk
    client.post_form(f"/custody/contact-requests/{request.id}/handled")
    db.refresh(request)
    assert request.handled_at is not None and request.handled_by_id == custodian.id
    again = client.post_form(f"/custody/contact-requests/{request.id}/handled",
                             follow_redirects=True)
    assert "already handled" in again.get_data(as_text=True)


def test_an_empty_contact_request_is_refused(client, db, world, pending):
    candidacy, _ = pending
    client.login(world.users["coordinator"])
    response = client.post_form(f"/coordinate/candidacies/{candidacy.code}/contact",
                                {"message": "   "})
    assert response.status_code == 400
    assert db.scalar(sa.select(sa.func.count()).select_from(ContactRequest)
                     .where(ContactRequest.candidacy_id == candidacy.id)) == 0


def test_a_contact_request_for_an_unknown_code_is_not_found(client, world):
    client.login(world.users["coordinator"])
    assert client.get("/coordinate/candidacies/ZZ-ZZZZ/contact").status_code == 404


# -- handover --------------------------------------------------------------------------------

def test_the_custodian_hands_the_flag_over_after_confirming(client, db, world, custodian):
    successor = world.users["coordinator"]
    pooled = make_user(db, role=Role.COORDINATOR, email="pooled@example.org")
    db.add(CampaignReviewer(campaign_id=world.campaign.id, user_id=pooled.id))
    db.flush()
    client.login(custodian)
    page = client.get("/custody/handover").get_data(as_text=True)
    assert successor.email in page and "pooled@example.org" not in page

    unconfirmed = client.post_form("/custody/handover", {"successor": successor.id})
    assert unconfirmed.status_code == 400
    assert "Confirm the handover." in unconfirmed.get_data(as_text=True)
    db.refresh(custodian)
    assert custodian.is_custodian

    done = client.post_form("/custody/handover", {"successor": successor.id, "confirm": "y"})
    assert done.status_code == 302
    db.refresh(custodian)
    db.refresh(successor)
    assert (custodian.is_custodian, successor.is_custodian) == (False, True)
    event = events(db, "custodian.handover")[-1]
    assert event.actor_id == custodian.id
    assert event.details == {"from": custodian.id, "to": successor.id}
    # The former custodian lost identity access at once: the handover ended their session,
    # and logged in again as a coordinator they are refused.
    assert done.headers["Location"] == "/login"
    assert client.get("/custody/").status_code == 302
    db.refresh(custodian)
    client.login(custodian)
    assert client.get("/custody/").status_code == 403


def test_the_flag_cannot_go_to_someone_not_offered(client, db, world, custodian):
    reviewer = world.users["reviewer"]
    client.login(custodian)
    response = client.post_form("/custody/handover", {"successor": reviewer.id,
                                                      "confirm": "y"})
    assert response.status_code == 400
    db.refresh(reviewer)
    assert not reviewer.is_custodian


# -- the audit log ---------------------------------------------------------------------------

def test_the_audit_log_page_lists_events_newest_first_page_by_page(client, db, custodian):
    for n in range(60):
        audit.record(db, action="test.event", actor_id=custodian.id, subject=f"n:{n:02d}")
    db.commit()  # the checkpoint follows commits
    client.login(custodian)
    first = client.get("/custody/audit").get_data(as_text=True)
    assert "The hash chain is intact" in first
    assert first.index("n:59") < first.index("n:58")
    assert "n:05" not in first and "?page=2" in first
    second = client.get("/custody/audit?page=2").get_data(as_text=True)
    assert "n:05" in second and "n:59" not in second


def test_the_audit_log_page_reports_an_edited_event(client, db, custodian):
    event = audit.record(db, action="test.event", actor_id=custodian.id, subject="x")
    db.execute(sa.update(AuditEvent).where(AuditEvent.id == event.id).values(subject="y"))
    client.login(custodian)
    page = client.get("/custody/audit").get_data(as_text=True)
    assert f"The hash chain is broken at event {event.id}" in page


def test_staff_without_the_flag_never_reach_the_custody_pages(client, world, pending):
    _, answer = pending
    for role in ("coordinator", "reviewer"):
        client.login(world.users[role])
        for url in ("/custody/", f"/custody/answers/{answer.token}", "/custody/identity",
                    "/custody/audit", "/custody/handover"):
            assert client.get(url).status_code == 403, (role, url)



# -- Redaction II: suggestions, kinds and the CLI's identity keys ----------------------------

SUGGESTING = "Клиенту я бы ответил спокойно. Коротко о себе: мне 23 года, живу на ул. Ленина, д. 5."


@pytest.fixture
def suggested(db, world):
    """An answer whose only redactions are the automatic pass's suggestions."""
    _, (answer,) = submit_stage(db, world, SUGGESTING)
    assert answer.check_status == "pending"
    assert [s.get("flag") for s in answer.redaction_spans] == [True, True]
    return answer


def test_suggestions_are_shown_in_their_own_colour_and_hidden_until_decided(client, custodian,
                                                                           suggested):
    client.login(custodian)
    page = client.get(f"/custody/answers/{suggested.token}").get_data(as_text=True)
    assert 'class="span k-age suggested"' in page and 'class="span k-address suggested"' in page
    assert "мне 23 года" not in suggested.redacted_text
    assert "Keep hidden" in page and "Show to reviewers" in page
    # The marking form offers every kind, dates and quasi-identifiers included.
    for kind in ("date", "age", "affiliation", "address"):
        assert f'<option value="{kind}">' in page


def test_a_confirmed_suggestion_stays_hidden_and_cannot_be_dismissed_after_release(
        client, db, custodian, suggested):
    age = suggested.redaction_spans[0]
    client.login(custodian)
    response = client.post_form(f"/custody/answers/{suggested.token}/confirm",
                                {"start": age["start"], "end": age["end"]})
    assert response.status_code == 302
    db.refresh(suggested)
    assert suggested.redaction_spans[0] == {"kind": "age", "start": age["start"],
                                            "end": age["end"]}
    again = client.post_form(f"/custody/answers/{suggested.token}/confirm",
                             {"start": age["start"], "end": age["end"]}, follow_redirects=True)
    assert "no such suggestion" in again.get_data(as_text=True)


def test_a_dismissed_suggestion_is_shown_to_reviewers(client, db, custodian, suggested):
    address = suggested.redaction_spans[1]
    client.login(custodian)
    response = client.post_form(f"/custody/answers/{suggested.token}/unmark",
                                {"start": address["start"], "end": address["end"]},
                                follow_redirects=True)
    assert "Suggestion dismissed" in response.get_data(as_text=True)
    db.refresh(suggested)
    assert "ул. Ленина, д. 5" in suggested.redacted_text
    assert "мне 23 года" not in suggested.redacted_text


def test_releasing_with_undecided_suggestions_keeps_them_hidden_and_says_so(client, db,
                                                                            custodian,
                                                                            suggested):
    client.login(custodian)
    response = client.post_form(f"/custody/answers/{suggested.token}/release",
                                follow_redirects=True)
    assert "2 suggestions you did not decide on stay hidden" in response.get_data(as_text=True)
    db.refresh(suggested)
    assert suggested.check_status == "released"
    assert "23" not in suggested.redacted_text and "Ленина" not in suggested.redacted_text
    (event,) = events(db, "answer.release")
    assert event.details == {"spans": 2, "open_flags": 2}


def test_a_stretch_can_be_marked_as_a_date(client, db, custodian, pending):
    _, answer = pending
    client.login(custodian)
    response = client.post_form(f"/custody/answers/{answer.token}/spans",
                                {"start": 0, "end": 7, "kind": "date"})
    assert response.status_code == 302
    db.refresh(answer)
    assert {"kind": "date", "start": 0, "end": 7} in answer.redaction_spans


def test_the_reviewer_reads_a_placeholder_for_every_kind():
    from recruit.domain.redaction import KINDS
    from recruit.web.labels import REDACTED, REDACTION_KINDS

    assert set(REDACTED) == set(REDACTION_KINDS) == set(KINDS)


def test_redact_command_accepts_every_key_of_the_profile(tmp_path):
    identity = tmp_path / "identity.json"
    identity.write_text(json.dumps({**PERSON, "email": EMAIL}), encoding="utf-8")
    text = tmp_path / "answer.txt"
    text.write_text("Я родился 14.03.1987, мне тогда было мало лет.", encoding="utf-8")
    result = CliRunner().invoke(cli, ["redact", "--identity", str(identity),
                                      "--text", str(text)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["text"] == f"Я родился {MARK_OPEN}date{MARK_CLOSE}, мне тогда было мало лет."
    assert data["spans"] == [{"kind": "date", "start": 10, "end": 20, "text": "14.03.1987"}]


def test_redact_command_explains_a_birth_date_it_cannot_read(tmp_path):
    identity = tmp_path / "identity.json"
    identity.write_text('{"birth_date": "14 марта"}', encoding="utf-8")
    text = tmp_path / "answer.txt"
    text.write_text("Текст", encoding="utf-8")
    result = CliRunner().invoke(cli, ["redact", "--identity", str(identity),
                                      "--text", str(text)])
    assert result.exit_code == 2
    assert "birth_date must be a date written YYYY-MM-DD" in result.output
