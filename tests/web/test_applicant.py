"""The applicant's pages through the test client: profile and eligibility, waves and waitlist,
stages with autosave, deadlines, status, and the applicant's own data."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from recruit import clock, vault
from recruit.domain import applications, tracks
from recruit.models import (
    Answer,
    Campaign,
    Candidacy,
    Decision,
    EligibilityCheck,
    Identity,
    OutboxMessage,
    Submission,
    User,
    WaitlistEntry,
)
from tests.factories import PASSWORD, make_user

NOW = datetime(2026, 5, 20, 9, 0, tzinfo=UTC)  # 12:00 in Moscow


@pytest.fixture
def frozen(monkeypatch):
    """Stop the application's clock at NOW; ``frozen.set(dt)`` moves it."""

    class Clock:
        at = NOW

        def set(self, when: datetime) -> None:
            self.at = when

        def advance(self, **delta) -> None:
            self.at = self.at + timedelta(**delta)

    state = Clock()
    monkeypatch.setattr(clock, "now", lambda: state.at)
    return state


@pytest.fixture
def campaign(db, frozen) -> Campaign:
    tracks.load_shipped(db)
    return tracks.create_campaign(db, track_key="support-agent", key="test-wave",
                                  opens_at=NOW - timedelta(days=1),
                                  closes_at=NOW + timedelta(days=30))


@pytest.fixture
def applicant(db, client) -> User:
    user = make_user(db)
    client.login(user)
    return user


def form(**overrides) -> dict:
    """A complete, eligible application form; keys set to None are left out."""
    data = {"first": "Anna", "middle": "Sergeevna", "last": "Ivanova",
            "birth_date": "1995-04-12", "citizenship": "RU", "city": "Kazan",
            "phone": "+7 912 345-67-89", "ack_0": "y", "ack_1": "y"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def visible(response) -> str:
    """The page's text without tags, so class names don't count as words shown."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def apply_url(campaign) -> str:
    return f"/me/campaigns/{campaign.id}/apply"


def candidacy_of(db, user) -> Candidacy | None:
    return db.scalar(sa.select(Candidacy).where(Candidacy.user_id == user.id))


def mails(db, user, template: str) -> list[OutboxMessage]:
    return db.scalars(sa.select(OutboxMessage).where(OutboxMessage.to_address == user.email,
                                                     OutboxMessage.template == template)).all()


# -- eligibility -------------------------------------------------------------------------------

def test_an_eligible_applicant_applies_and_the_identity_is_sealed(client, db, campaign,
                                                                   applicant):
    response = client.post_form(apply_url(campaign), form())
    candidacy = candidacy_of(db, applicant)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/me/candidacies/{candidacy.id}"
    assert candidacy.state == "applied"
    assert candidacy.current_stage_id == campaign.stages[0].id
    sealed = db.scalar(sa.select(Identity.sealed).where(Identity.user_id == applicant.id))
    assert b"Ivanova" not in sealed and b"1995" not in sealed
    identity = vault.open_identity_of(db, user_id=applicant.id)
    assert (identity.full_name, identity.phone, identity.citizenship, identity.birth_date) == (
        "Anna Sergeevna Ivanova", "+79123456789", "RU", "1995-04-12")
    check = db.scalar(sa.select(EligibilityCheck).where(EligibilityCheck.user_id ==
                                                        applicant.id))
    assert (check.passed, check.reasons, check.campaign_id) == (True, [], campaign.id)
    [mail] = mails(db, applicant, "application_received")
    assert "Support agent" in mail.subject and mail.body_html


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"first": ""}, "Enter your first name."),
        ({"last": "  "}, "Enter your last name."),
        ({"birth_date": ""}, "Enter your date of birth."),
        ({"birth_date": "12.04.1995"}, "Not a valid date value."),
        ({"birth_date": "2026-05-21"}, "The date of birth cannot be in the future."),
        ({"birth_date": "1899-12-31"}, "the date of birth must be in 1900 or later"),
        ({"citizenship": ""}, "Choose your citizenship."),
        ({"citizenship": "XX"}, "Choose a country from the list."),
        ({"city": ""}, "Enter the city where you live."),
        ({"phone": ""}, "Enter your phone number."),
        ({"phone": "12345"}, "This does not look like a valid phone number."),
        ({"phone": "+7 000 000-00-00"}, "This does not look like a valid phone number."),
        ({"first": "A" * 101}, "Field cannot be longer than 100 characters."),
    ],
    ids=["no-first", "blank-last", "no-birth-date", "unparseable-date", "born-tomorrow",
         "born-before-1900", "no-citizenship", "unknown-citizenship", "no-city", "no-phone",
         "short-phone", "invalid-phone", "first-too-long"],
)
def test_application_form_errors_are_input_errors_not_ineligibility(
        client, db, campaign, applicant, overrides, message):
    response = client.post_form(apply_url(campaign), form(**overrides))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert "You cannot apply to this wave" not in response.get_data(as_text=True)
    # Nothing judged, nothing stored: a typo is not a reason on record.
    assert db.scalar(sa.select(sa.func.count()).select_from(EligibilityCheck)) == 0
    assert db.scalar(sa.select(Identity.id).where(Identity.user_id == applicant.id)) is None
    assert candidacy_of(db, applicant) is None


def test_form_errors_keep_what_was_typed(client, campaign, applicant):
    response = client.post_form(apply_url(campaign), form(phone="12345", city="Yerevan"))
    assert 'value="Yerevan"' in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("overrides", "reasons", "message"),
    [
        ({"birth_date": "2008-05-21"}, ["too_young"],
         "You must be at least 18 years old on the day you apply. By the date of birth you "
         "gave, you are 17."),
        ({"citizenship": "DE", "phone": "+49 30 901820"}, ["citizenship"],
         "you gave Germany"),
        ({"ack_1": None}, ["acknowledgement_missing"],
         "You did not confirm: “I can visit the office in St Petersburg at least once”."),
        ({"birth_date": "2010-01-01", "citizenship": "UA", "phone": "+380 44 123 4567",
          "ack_0": None}, ["too_young", "citizenship", "acknowledgement_missing"], "you are 16"),
    ],
    ids=["seventeen", "german", "no-office-visit", "everything-at-once"],
)
def test_ineligible_applicants_learn_every_failed_rule_and_it_is_recorded(
        client, db, campaign, applicant, overrides, reasons, message):
    response = client.post_form(apply_url(campaign), form(**overrides))
    text = visible(response)
    assert response.status_code == 200
    assert "You cannot apply to this wave" in text
    assert message in text
    assert candidacy_of(db, applicant) is None
    check = db.scalar(sa.select(EligibilityCheck).where(EligibilityCheck.user_id ==
                                                        applicant.id))
    assert (check.passed, check.reasons) == (False, reasons)
    [mail] = mails(db, applicant, "not_eligible")
    assert message.split(";")[0].strip("“”") in mail.body_text


@pytest.mark.parametrize(
    ("today", "eligible"),
    [(datetime(2026, 2, 28, 9, tzinfo=UTC), False), (datetime(2026, 3, 1, 9, tzinfo=UTC), True),
     # 23:30 UTC on 28 February is already 1 March in Moscow, where the company applies rules.
     (datetime(2026, 2, 28, 23, 30, tzinfo=UTC), True)],
    ids=["28-feb", "1-mar", "1-mar-in-moscow"],
)
def test_someone_born_on_29_february_turns_18_on_1_march(client, db, frozen, applicant, today,
                                                         eligible):
    frozen.set(today)
    tracks.load_shipped(db)
    wave = tracks.create_campaign(db, track_key="support-agent", key="leap",
                                  opens_at=today - timedelta(days=1),
                                  closes_at=today + timedelta(days=9))
    client.post_form(apply_url(wave), form(birth_date="2008-02-29"))
    assert (candidacy_of(db, applicant) is not None) is eligible


def test_the_apply_page_lists_the_campaign_rules_and_acknowledgements(client, campaign,
                                                                      applicant):
    text = visible(client.get(apply_url(campaign)))
    assert "18 years or older" in text
    assert "Russian Federation, Armenia, Belarus, Kazakhstan, Kyrgyzstan" in text
    assert "I hold the documents needed for official employment" in text


def test_applying_twice_leads_to_the_existing_application(client, db, campaign, applicant):
    client.post_form(apply_url(campaign), form())
    again = client.post_form(apply_url(campaign), form(), follow_redirects=True)
    assert "You have already applied to this wave." in again.get_data(as_text=True)
    assert db.scalar(sa.select(sa.func.count()).select_from(Candidacy)) == 1


def test_an_unconfirmed_address_cannot_apply_yet(client, db, campaign):
    user = make_user(db, confirmed=False)
    client.login(user)
    response = client.post_form(apply_url(campaign), form(), follow_redirects=True)
    assert "Please confirm your e-mail address first" in response.get_data(as_text=True)
    assert candidacy_of(db, user) is None


def test_a_closed_wave_takes_no_applications(client, db, campaign, applicant, frozen):
    frozen.set(campaign.closes_at)
    response = client.post_form(apply_url(campaign), form(), follow_redirects=True)
    assert "This wave does not accept applications now." in response.get_data(as_text=True)
    assert candidacy_of(db, applicant) is None


def test_profile_is_prefilled_and_saved_sealed(client, db, campaign, applicant):
    client.post_form(apply_url(campaign), form())
    page = client.get("/me/profile").get_data(as_text=True)
    assert 'value="Ivanova"' in page and 'value="1995-04-12"' in page
    client.post_form("/me/profile", form(city="Tomsk"))
    assert vault.open_identity_of(db, user_id=applicant.id).city == "Tomsk"


@pytest.mark.parametrize(("overrides", "message"),
                         [({"phone": "abc"}, "This does not look like a valid phone number."),
                          ({"birth_date": "2030-01-01"},
                           "The date of birth cannot be in the future.")],
                         ids=["phone", "future"])
def test_profile_form_errors(client, db, applicant, frozen, overrides, message):
    response = client.post_form("/me/profile", form(**overrides))
    assert message in response.get_data(as_text=True)
    assert db.scalar(sa.select(Identity.id).where(Identity.user_id == applicant.id)) is None


# -- waves and the waitlist --------------------------------------------------------------------

def test_home_lists_open_waves_with_an_apply_button(client, campaign, applicant):
    text = visible(client.get("/me/"))
    assert "Support agent" in text and "Apply" in text
    assert "Join the waitlist" not in text


def test_waitlist_asks_for_a_profile_first(client, db, applicant, frozen):
    response = client.post_form("/me/waitlist")
    assert response.headers["Location"] == "/me/profile"
    assert db.scalar(sa.select(WaitlistEntry)) is None


def test_waitlist_refuses_someone_the_usual_rules_exclude(client, db, applicant, frozen):
    client.post_form("/me/profile", form(birth_date="2009-01-01"))
    response = client.post_form("/me/waitlist")
    assert "We cannot put you on the waitlist" in visible(response)
    assert db.scalar(sa.select(EligibilityCheck.reasons)) == ["too_young"]
    assert db.scalar(sa.select(WaitlistEntry)) is None


def test_waitlist_join_then_mail_once_when_a_wave_opens(client, db, applicant, frozen):
    from recruit.domain import notify

    assert "Join the waitlist" in visible(client.get("/me/"))
    client.post_form("/me/profile", form())
    client.post_form("/me/waitlist")
    entry = db.scalar(sa.select(WaitlistEntry).where(WaitlistEntry.user_id == applicant.id))
    assert entry is not None and entry.notified_at is None
    assert "You are on the waitlist" in visible(client.get("/me/"))

    tracks.load_shipped(db)
    later = tracks.create_campaign(db, track_key="support-agent", key="later",
                                   opens_at=NOW + timedelta(days=3),
                                   closes_at=NOW + timedelta(days=20))
    assert notify.notify_waitlist(db, campaign=later, now=NOW) == 0  # not open yet
    assert notify.notify_waitlist(db, campaign=later, now=later.opens_at) == 1
    assert notify.notify_waitlist(db, campaign=later, now=later.opens_at) == 0
    [mail] = mails(db, applicant, "wave_opened")
    assert "A new wave is open" in mail.subject and "http://localhost/me/" in mail.body_text
    assert entry.notified_at == later.opens_at

    frozen.set(later.opens_at + timedelta(hours=1))
    client.post_form(apply_url(later), form())
    assert db.scalar(sa.select(WaitlistEntry)) is None  # applying ends the wait


def test_leave_the_waitlist(client, db, applicant, frozen):
    client.post_form("/me/profile", form())
    client.post_form("/me/waitlist")
    client.post_form("/me/waitlist/leave")
    assert db.scalar(sa.select(WaitlistEntry)) is None


# -- taking a stage ----------------------------------------------------------------------------

@pytest.fixture
def applied(client, db, campaign, applicant) -> Candidacy:
    client.post_form(apply_url(campaign), form())
    return candidacy_of(db, applicant)


def stage_url(candidacy, suffix: str = "") -> str:
    return f"/me/candidacies/{candidacy.id}/stages/{candidacy.campaign.stages[0].id}{suffix}"


@pytest.fixture
def started(client, db, applied) -> Submission:
    client.post_form(stage_url(applied, "/start"))
    return db.scalar(sa.select(Submission).where(Submission.candidacy_id == applied.id))


def autosave(client, answer, text: str, version: int, **kwargs):
    token = client.csrf_token()
    return client.post(f"/me/answers/{answer.id}/autosave", json={"text": text,
                                                                   "version": version},
                       headers={"X-CSRFToken": token, "Accept": "application/json"}, **kwargs)


def words(n: int) -> str:
    return " ".join(["word"] * n)


def test_the_start_page_shows_time_limit_then_start_fixes_the_deadline(client, db, applied):
    text = visible(client.get(stage_url(applied)))
    assert "90 minutes from the moment you press “Start”" in text
    assert "3 tasks" in text
    client.post_form(stage_url(applied, "/start"))
    submission = db.scalar(sa.select(Submission))
    assert submission.deadline_at == NOW + timedelta(minutes=90)
    assert [a.version for a in submission.answers] == [0, 0, 0]
    db.refresh(applied)
    assert applied.state == "in_stage"
    page = client.get(stage_url(applied))
    assert 'data-remaining="5400"' in page.get_data(as_text=True)
    assert "autosave.js" in page.get_data(as_text=True)


def test_the_deadline_never_passes_the_campaign_close(client, db, applied, campaign, frozen):
    frozen.set(campaign.closes_at - timedelta(minutes=30))
    text = visible(client.get(stage_url(applied)))
    assert "less than the full time" in text
    client.post_form(stage_url(applied, "/start"))
    assert db.scalar(sa.select(Submission.deadline_at)) == campaign.closes_at


def test_autosave_answers_with_version_and_time(client, db, started):
    answer = started.answers[0]
    response = autosave(client, answer, "Hello there, this is my draft.", 0)
    assert response.status_code == 200
    assert response.json["version"] == 1
    assert response.json["saved_label"] == "Saved at 12:00:00"
    assert response.json["words"] == 6
    db.refresh(answer)
    assert (answer.text, answer.version, answer.saved_at) == (
        "Hello there, this is my draft.", 1, NOW)
    assert autosave(client, answer, "Hello again.", 1).json["version"] == 2


def test_a_save_from_a_stale_tab_never_overwrites(client, db, started):
    answer = started.answers[0]
    autosave(client, answer, "Written in tab A", 0)
    response = autosave(client, answer, "Written in tab B", 0)
    assert response.status_code == 409
    assert response.json["error"] == "conflict" and response.json["version"] == 1
    assert "saved from another tab or device" in response.json["message"]
    db.refresh(answer)
    assert answer.text == "Written in tab A"


@pytest.mark.parametrize("payload", [{"text": "x"}, {"text": 5, "version": 0},
                                     {"text": "x", "version": "0"}, ["x", 0]],
                         ids=["no-version", "text-not-string", "version-not-int", "list"])
def test_autosave_refuses_a_malformed_body(client, db, started, payload):
    response = client.post(f"/me/answers/{started.answers[0].id}/autosave", json=payload,
                           headers={"X-CSRFToken": client.csrf_token()})
    assert response.status_code == 400
    assert response.json["error"] == "bad_request"
    db.refresh(started.answers[0])
    assert started.answers[0].version == 0


def test_autosave_without_a_session_says_so_in_json(client, started):
    token = client.csrf_token()
    client.logout()
    response = client.post(f"/me/answers/{started.answers[0].id}/autosave",
                           json={"text": "typed while logged out", "version": 0},
                           headers={"X-CSRFToken": token, "Accept": "application/json"})
    assert response.status_code in (400, 401)
    assert "Log in again; your text is kept in this browser." in response.json["message"]


def test_autosave_of_someone_elses_answer_answers_like_a_missing_one(client, db, started):
    other = make_user(db)
    client.login(other)
    assert autosave(client, started.answers[0], "not mine", 0).status_code == 404


def test_a_too_long_text_is_refused_whole_never_cut(client, db, started):
    answer = started.answers[0]
    response = autosave(client, answer, "x" * (applications.MAX_ANSWER_CHARS + 1), 0)
    assert response.status_code == 413
    assert "Nothing was cut" in response.json["message"]
    db.refresh(answer)
    assert answer.version == 0


def test_save_draft_works_without_javascript(client, db, started):
    answer = started.answers[1]
    response = client.post_form(stage_url(started.candidacy, "/save"),
                                {f"text-{answer.id}": "Saved by the button",
                                 f"version-{answer.id}": "0", "action": "save"},
                                follow_redirects=True)
    assert "Draft saved at 12:00." in visible(response)
    db.refresh(answer)
    assert (answer.text, answer.version) == ("Saved by the button", 1)
    assert "Saved at 12:00" in visible(client.get(stage_url(started.candidacy)))


def test_save_draft_with_a_stale_version_keeps_the_typed_text_and_warns(client, db, started):
    answer = started.answers[0]
    autosave(client, answer, "Saved elsewhere", 0)
    response = client.post_form(stage_url(started.candidacy, "/save"),
                                {f"text-{answer.id}": "Typed here", f"version-{answer.id}": "0"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "saved from another tab or device" in page
    assert ">Typed here</textarea>" in page  # what was typed is still in the form
    assert f'name="version-{answer.id}" value="1"' in page  # a second save replaces on purpose
    db.refresh(answer)
    assert answer.text == "Saved elsewhere"


def test_word_limits_flag_drafts_and_block_only_submission(client, db, started):
    first = started.answers[0]  # 80–500 words
    response = autosave(client, first, words(501), 0)
    assert response.status_code == 200 and response.json["problem"] == "too_long"
    db.refresh(first)
    assert applications.word_count(first.text) == 501  # saved in full
    page = visible(client.get(stage_url(started.candidacy)))
    assert "Over the limit of 500 words" in page and "nothing is cut" in page
    confirm = client.get(stage_url(started.candidacy, "/submit"))
    assert "cannot be submitted" in visible(confirm)
    assert "too long" in visible(confirm) and "too short" in visible(confirm)
    client.post_form(stage_url(started.candidacy, "/submit"))
    db.refresh(started)
    assert started.submitted_at is None


def fill(client, db, submission) -> None:
    for answer in submission.answers:
        autosave(client, answer, words(max(answer.task.min_words, 1) + 5), answer.version)
    db.expire_all()


def test_submit_asks_for_confirmation_then_makes_answers_read_only(client, db, started, frozen):
    fill(client, db, started)
    button = client.post_form(stage_url(started.candidacy, "/save"), {"action": "submit"})
    assert button.headers["Location"].endswith("/submit")
    confirm = client.get(stage_url(started.candidacy, "/submit"))
    assert "After you submit, your answers cannot be changed." in visible(confirm)
    db.refresh(started)
    assert started.submitted_at is None  # the confirmation page changes nothing

    frozen.advance(minutes=10)
    done = client.post_form(stage_url(started.candidacy, "/submit"), follow_redirects=True)
    assert "Stage submitted." in visible(done)
    db.expire_all()
    assert started.submitted_at == NOW + timedelta(minutes=10)
    assert not started.auto_submitted
    assert started.candidacy.state == "submitted"
    assert {a.check_status for a in started.answers} <= {"pending", "released"}
    assert all(a.reviews_wanted == started.candidacy.campaign.reviews_per_answer
               for a in started.answers)

    again = client.post_form(stage_url(started.candidacy, "/submit"), follow_redirects=True)
    assert "This stage is submitted." in visible(again)  # idempotent
    late = autosave(client, started.answers[0], "changed", started.answers[0].version)
    assert late.status_code == 409 and late.json["error"] == "submitted"
    page = visible(client.get(stage_url(started.candidacy)))
    assert "The answers are read-only now." in page


def test_after_the_deadline_saved_drafts_are_submitted_and_late_saves_refused(
        client, db, started, frozen):
    answer = started.answers[0]
    autosave(client, answer, "My last saved draft", 0)
    frozen.set(started.deadline_at + timedelta(seconds=1))
    late = autosave(client, answer, "Typed after the bell", 1)
    assert late.status_code == 409
    assert late.json["error"] == "deadline"
    assert "Time is up" in late.json["message"] and "stays in this browser" in late.json["message"]

    page = visible(client.get(stage_url(started.candidacy)))  # opening the stage closes it
    assert "Submitted automatically when the time ran out" in page
    assert "My last saved draft" in page
    db.expire_all()
    assert started.auto_submitted and started.submitted_at == started.deadline_at
    assert answer.text == "My last saved draft"
    assert started.candidacy.state == "submitted"


def test_a_form_save_after_the_deadline_shows_the_refused_text(client, db, started, frozen):
    answer = started.answers[0]
    frozen.set(started.deadline_at + timedelta(minutes=1))
    response = client.post_form(stage_url(started.candidacy, "/save"),
                                {f"text-{answer.id}": "Too late but precious",
                                 f"version-{answer.id}": "0"})
    text = visible(response)
    assert "Time is up" in text and "Too late but precious" in text
    db.expire_all()
    assert answer.text == "" and started.submitted_at is not None


def run_cli(app, *args):
    from click.testing import CliRunner
    from flask.cli import ScriptInfo

    from recruit.cli import cli

    return CliRunner().invoke(cli, list(args), obj=ScriptInfo(create_app=lambda: app),
                              catch_exceptions=False)


def test_stages_close_expired_command_submits_every_expired_stage(fresh_app):
    from recruit.db import get_db
    from recruit.models import Role
    from tests.factories import make_user as factory_user

    now = clock.now()
    with fresh_app.app_context():
        db = get_db()
        tracks.load_shipped(db)
        wave = tracks.create_campaign(db, track_key="support-agent", key="cli",
                                      opens_at=now - timedelta(days=1),
                                      closes_at=now + timedelta(days=1))
        user = factory_user(db, role=Role.APPLICANT)
        candidacy = applications.apply(db, user=user, campaign=wave, now=now)
        submission = applications.start_stage(db, candidacy=candidacy, stage=wave.stages[0],
                                              now=now - timedelta(hours=2))
        applications.save_answer(db, answer=submission.answers[0], text="kept", base_version=0,
                                 now=now - timedelta(hours=1, minutes=50))
        db.commit()
        submission_id = submission.id
    result = run_cli(fresh_app, "stages", "close-expired")
    assert result.exit_code == 0, result.output
    assert "Submitted 1 expired stage(s)." in result.output
    with fresh_app.app_context():
        submission = get_db().get(Submission, submission_id)
        assert submission.auto_submitted
        assert "kept" in [a.text for a in submission.answers]


def test_waitlist_notify_command_mails_waiting_applicants(fresh_app):
    from recruit.db import get_db
    from tests.factories import make_user as factory_user

    now = clock.now()
    with fresh_app.app_context():
        db = get_db()
        user = factory_user(db)
        applications.join_waitlist(db, user=user, now=now)
        tracks.load_shipped(db)
        tracks.create_campaign(db, track_key="support-agent", key="opened",
                               opens_at=now - timedelta(hours=1),
                               closes_at=now + timedelta(days=5))
        db.commit()
        email = user.email
    assert "Told 1 waiting" in run_cli(fresh_app, "waitlist", "notify").output
    assert "Told 0 waiting" in run_cli(fresh_app, "waitlist", "notify").output
    with fresh_app.app_context():
        subjects = get_db().scalars(sa.select(OutboxMessage.subject)
                                    .where(OutboxMessage.to_address == email)).all()
    assert len(subjects) == 1 and "A new wave is open" in subjects[0]


# -- status ------------------------------------------------------------------------------------

def test_status_timeline_uses_human_labels_and_no_scores(client, db, started):
    fill(client, db, started)
    client.post_form(stage_url(started.candidacy, "/submit"))
    text = visible(client.get(f"/me/candidacies/{started.candidacy_id}"))
    assert "Applied" in text and "Stage 1: getting to know you — submitted" in text
    assert "Under review" in text
    for code in ("in_stage", "submitted ", "on_hold", "not_passed", "score"):
        assert code not in text.replace("— submitted", "")


def test_passing_a_stage_shows_the_next_tasks(client, db, started, frozen):
    fill(client, db, started)
    client.post_form(stage_url(started.candidacy, "/submit"))
    candidacy = started.candidacy
    stage_two = candidacy.campaign.stages[1]
    db.add(Decision(candidacy_id=candidacy.id, stage_id=started.stage_id, outcome="advance",
                    reason="", decided_at=NOW + timedelta(days=2)))
    candidacy.state = "advanced"
    db.flush()
    text = visible(client.get(f"/me/candidacies/{candidacy.id}"))
    assert "You passed stage 1 — here are your next tasks" in text
    assert stage_two.title_en in text
    home = client.get("/me/").get_data(as_text=True)
    assert f"/stages/{stage_two.id}" in home
    client.post_form(f"/me/candidacies/{candidacy.id}/stages/{stage_two.id}/start")
    db.refresh(candidacy)
    assert candidacy.state == "in_stage" and candidacy.current_stage_id == stage_two.id


def test_a_later_stage_cannot_be_started_early(client, db, applied):
    stage_two = applied.campaign.stages[1]
    response = client.post_form(f"/me/candidacies/{applied.id}/stages/{stage_two.id}/start",
                                follow_redirects=True)
    assert "This stage cannot be started now." in visible(response)
    assert db.scalar(sa.select(Submission)) is None


def test_another_applicants_candidacy_answers_like_a_missing_one(client, db, applied):
    client.login(make_user(db))
    assert client.get(f"/me/candidacies/{applied.id}").status_code == 404
    assert client.get(stage_url(applied)).status_code == 404
    assert client.get("/me/candidacies/999999").status_code == 404


# -- own data ----------------------------------------------------------------------------------

def test_withdraw_is_confirmed_first(client, db, started):
    url = f"/me/candidacies/{started.candidacy_id}/withdraw"
    assert "Withdraw my application?" in visible(client.get(url))
    db.refresh(started.candidacy)
    assert started.candidacy.state == "in_stage"
    client.post_form(url)
    db.refresh(started.candidacy)
    assert started.candidacy.state == "withdrawn"
    # A withdrawn stage is dropped, not submitted when its time runs out.
    assert applications.close_expired(db, now=started.deadline_at + timedelta(hours=1)) == 0


def test_export_holds_my_identity_and_answers_but_no_scores(client, db, started):
    autosave(client, started.answers[0], "My own words", 0)
    response = client.post_form("/me/data/export")
    assert response.headers["Content-Disposition"] == 'attachment; filename="my-data.json"'
    data = json.loads(response.get_data(as_text=True))
    assert data["identity"]["last"] == "Ivanova"
    assert data["candidacies"][0]["stages"][0]["answers"][0]["text"] == "My own words"
    assert data["eligibility_checks"][0]["passed"] is True
    assert "score" not in response.get_data(as_text=True)


@pytest.mark.parametrize(("data", "message"),
                         [({"password": "wrong password", "understood": "y"},
                           "The password is wrong."),
                          ({"password": PASSWORD}, "Tick the box to confirm."),
                          ({"understood": "y"}, "Enter your password to confirm.")],
                         ids=["wrong-password", "no-tick", "no-password"])
def test_erasing_needs_password_and_tick(client, db, applicant, data, message):
    response = client.post_form("/me/data/erase", data)
    assert message in response.get_data(as_text=True)
    assert db.get(User, applicant.id) is not None


def test_erasing_removes_identity_and_login_but_keeps_pseudonymous_answers(client, db,
                                                                           started):
    user_id, email = started.candidacy.user_id, db.get(User, started.candidacy.user_id).email
    # By id: `answers` has no order, and on PostgreSQL a row moves in the heap when updated,
    # so after expire_all() answers[0] may be another answer.
    answer_id = started.answers[0].id
    autosave(client, started.answers[0], "Kept for statistics", 0)
    response = client.post_form("/me/data/erase", {"password": PASSWORD, "understood": "y"})
    assert response.status_code == 302
    db.expire_all()
    assert db.get(User, user_id) is None
    assert db.scalar(sa.select(Identity).where(Identity.user_id == user_id)) is None
    assert db.scalar(sa.select(sa.func.count()).select_from(Identity)) == 0
    candidacy = db.get(Candidacy, started.candidacy_id)
    assert candidacy.user_id is None and candidacy.state == "withdrawn"
    assert db.scalar(sa.select(Answer.text).where(Answer.id == answer_id)) == \
        "Kept for statistics"
    assert db.scalar(sa.select(OutboxMessage).where(OutboxMessage.to_address == email)) is None
    assert client.get("/me/").status_code == 302
    login = client.post_form("/login", {"email": email, "password": PASSWORD})
    assert "The e-mail or the password is wrong." in login.get_data(as_text=True)


# -- notifications -----------------------------------------------------------------------------

def test_stage_results_are_mailed_in_the_applicants_language(client, db, applied):
    from recruit.domain import notify

    user = db.get(User, applied.user_id)
    user.locale = "ru"
    stages = applied.campaign.stages
    passed = notify.stage_passed(db, candidacy=applied, stage=stages[0], next_stage=stages[1])
    assert passed.locale == "ru" and passed.body_html
    assert f"/me/candidacies/{applied.id}/stages/{stages[1].id}" in passed.body_text
    assert stages[1].title_ru in passed.body_text
    role = applied.campaign.job_role
    failed = notify.stage_not_passed(db, candidacy=applied, stage=stages[0], alternate=role)
    assert role.title_ru in failed.body_text
    final = notify.stage_passed(db, candidacy=applied, stage=stages[-1], next_stage=None)
    assert final is not None and final.template == "stage_passed"


def test_notifications_skip_erased_accounts(db, applied):
    from recruit.domain import notify

    applied.user_id = None
    stage = applied.campaign.stages[0]
    assert notify.stage_passed(db, candidacy=applied, stage=stage, next_stage=None) is None
    assert notify.stage_not_passed(db, candidacy=applied, stage=stage) is None
    assert notify.application_received(db, candidacy=applied) is None

