"""The applicant's journey in a real browser: register, confirm, apply, take a stage with
autosave, submit; refusals; the deadline with a stopped clock; an expired session."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from recruit.domain import tracks
from recruit.models import Answer, Candidacy, OutboxMessage, Submission
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.e2e

expect = pytest.importorskip("playwright.sync_api").expect

LONG_ANSWER = " ".join(["Helping people is the part of the job I look forward to."] * 12)


def open_wave(server, *, now):
    """The shipped tracks and one wave open around ``now``."""
    def work(db):
        tracks.load_shipped(db)
        return tracks.create_campaign(db, track_key="support-agent", key="e2e-wave",
                                      opens_at=now - timedelta(days=1),
                                      closes_at=now + timedelta(days=30)).id
    return server.run(work)


def confirmed_applicant(server) -> str:
    return server.run(lambda db: make_user(db).email)


def log_in(page, server, email: str) -> None:
    page.goto(server.url + "/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="My applications")).to_be_visible()


def fill_application(page, *, birth_date="1995-04-12", citizenship="RU",
                     phone="+7 912 345-67-89", acknowledge=True) -> None:
    page.get_by_label("First name").fill("Anna")
    page.get_by_label("Middle name").fill("Sergeevna")
    page.get_by_label("Last name").fill("Ivanova")
    page.get_by_label("Date of birth").fill(birth_date)
    page.get_by_label("Citizenship").select_option(citizenship)
    page.get_by_label("City where you live").fill("Kazan")
    page.get_by_label("Phone").fill(phone)
    if acknowledge:
        page.get_by_label("I hold the documents needed for official employment").check()
        page.get_by_label("I can visit the office in St Petersburg at least once").check()


def apply_and_start(page, server) -> None:
    page.get_by_role("link", name="Apply").click()
    fill_application(page)
    page.get_by_role("button", name="Check eligibility and apply").click()
    expect(page.get_by_text("your application is in")).to_be_visible()
    page.get_by_role("link", name="Open the stage").click()
    page.get_by_role("button", name="Start the stage").click()
    expect(page.locator("#countdown")).to_contain_text("Time left:")


def first_answer(page):
    return page.locator("textarea[data-autosave-url]").first


def saved_text(server, answer_id: int) -> str:
    return server.run(lambda db: db.get(Answer, answer_id).text)


def test_register_confirm_apply_autosave_submit(page, live_server, frozen_clock, screenshots):
    server = live_server
    open_wave(server, now=frozen_clock.at)
    page.goto(server.url + "/")
    screenshots(page, "01-index")
    page.get_by_role("link", name="Apply").first.click()
    page.get_by_label("E-mail").fill("anna@example.org")
    page.get_by_label("Password", exact=True).fill("a long password")
    page.get_by_label("Repeat the password").fill("a long password")
    page.get_by_role("button", name="Create account").click()
    # The same answer whether or not the address had an account: the link in the e-mail
    # goes on (and logs a new applicant in).
    expect(page.get_by_text("Almost done: we sent a message to anna@example.org")).to_be_visible()
    screenshots(page, "02-check-your-mail")

    body = server.run(lambda db: db.scalar(
        sa.select(OutboxMessage.body_text).where(OutboxMessage.to_address == "anna@example.org",
                                                 OutboxMessage.template == "confirm")))
    link = re.search(r"http://\S+/confirm/\S+", body).group(0)
    page.goto(link)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("Your e-mail address is confirmed.")).to_be_visible()
    screenshots(page, "03-home")

    page.get_by_role("link", name="Apply").click()
    screenshots(page, "04-apply")
    fill_application(page)
    page.get_by_role("button", name="Check eligibility and apply").click()
    expect(page.get_by_text("your application is in")).to_be_visible()
    screenshots(page, "05-status-applied")

    page.get_by_role("link", name="Open the stage").click()
    screenshots(page, "06-stage-start")
    page.get_by_role("button", name="Start the stage").click()
    expect(page.locator("#countdown")).to_contain_text("Time left: 1:30:00")

    answer = first_answer(page)
    answer_id = int(answer.get_attribute("data-answer-id"))
    answer.fill("My first thoughts about the Russian language.")
    state = page.locator(f'[data-state-for="{answer_id}"]')
    expect(state).to_contain_text("Saved at", timeout=10_000)
    expect(page.locator(f'[data-limit-for="{answer_id}"]')).to_contain_text(
        "Below the minimum of 80 words")
    screenshots(page, "07-stage-autosaved")
    assert saved_text(server, answer_id) == "My first thoughts about the Russian language."

    page.reload()
    expect(first_answer(page)).to_have_value("My first thoughts about the Russian language.")

    areas = page.locator("textarea[data-autosave-url]")
    for i in range(areas.count()):
        areas.nth(i).fill(LONG_ANSWER)
    for i in range(areas.count()):
        expect(page.locator("[data-state-for]").nth(i)).to_contain_text("Saved at",
                                                                        timeout=10_000)
    page.get_by_role("button", name="Submit stage…").click()
    expect(page.get_by_role("heading", name=re.compile("Submit .*\\?"))).to_be_visible()
    screenshots(page, "08-submit-confirm")
    page.get_by_role("button", name="Yes, submit the stage").click()
    expect(page.get_by_text("Stage submitted.")).to_be_visible()
    expect(page.get_by_role("heading", name="Under review")).to_be_visible()
    screenshots(page, "09-status-submitted")

    def check(db):
        candidacy = db.scalar(sa.select(Candidacy))
        submission = db.scalar(sa.select(Submission))
        return candidacy.state, submission.submitted_at is not None, submission.auto_submitted
    assert server.run(check) == ("submitted", True, False)

    page.get_by_role("link", name="see my answers").click()
    expect(page.get_by_text("The answers are read-only now.")).to_be_visible()
    assert page.locator("textarea[data-autosave-url]").count() == 0
    screenshots(page, "10-stage-done")

    page.goto(server.url + "/me/data")
    screenshots(page, "11-my-data")
    page.get_by_role("link", name="Erase my account…").click()
    screenshots(page, "12-erase")


@pytest.mark.parametrize(
    ("fields", "reason"),
    [({"birth_date": "seventeen"}, "You must be at least 18 years old"),
     ({"citizenship": "DE", "phone": "+49 30 901820"}, "you gave Germany")],
    ids=["seventeen-year-old", "german-citizen"],
)
def test_ineligible_applicants_are_refused_with_the_reason(page, live_server, frozen_clock,
                                                          screenshots, fields, reason):
    server = live_server
    open_wave(server, now=frozen_clock.at)
    log_in(page, server, confirmed_applicant(server))
    if fields.get("birth_date") == "seventeen":
        today = frozen_clock.at.date()
        fields = {"birth_date": today.replace(year=today.year - 17).isoformat()}
    page.get_by_role("link", name="Apply").click()
    fill_application(page, **fields)
    page.get_by_role("button", name="Check eligibility and apply").click()
    result = page.locator("#eligibility-result")
    expect(result).to_contain_text("You cannot apply to this wave")
    expect(result).to_contain_text(reason)
    screenshots(page, "13-not-eligible")
    assert server.run(lambda db: db.scalar(sa.select(sa.func.count())
                                           .select_from(Candidacy))) == 0


def test_at_the_deadline_saved_drafts_are_submitted_and_later_typing_is_kept(
        page, live_server, frozen_clock):
    server = live_server
    open_wave(server, now=frozen_clock.at)
    log_in(page, server, confirmed_applicant(server))
    apply_and_start(page, server)
    answer = first_answer(page)
    answer_id = int(answer.get_attribute("data-answer-id"))
    answer.fill("Saved before the bell.")
    expect(page.locator(f'[data-state-for="{answer_id}"]')).to_contain_text("Saved at",
                                                                            timeout=10_000)

    frozen_clock.advance(minutes=91)
    answer.fill("Saved before the bell. Typed after it.")
    expect(page.locator(f'[data-state-for="{answer_id}"]')).to_contain_text(
        "Time is up", timeout=10_000)
    assert saved_text(server, answer_id) == "Saved before the bell."

    page.reload()  # opening the stage closes it: the saved drafts are submitted
    expect(page.get_by_text("Submitted automatically when the time ran out")).to_be_visible()
    expect(page.locator(f'[data-submitted-for="{answer_id}"]')).to_have_text(
        "Saved before the bell.")
    expect(page.locator(".late textarea")).to_have_value("Saved before the bell. Typed after it.")
    assert server.run(lambda db: db.scalar(sa.select(Submission.auto_submitted))) is True


def test_text_typed_after_the_session_expired_is_saved_after_logging_in(
        page, live_server, frozen_clock):
    server = live_server
    open_wave(server, now=frozen_clock.at)
    email = confirmed_applicant(server)
    log_in(page, server, email)
    apply_and_start(page, server)
    answer = first_answer(page)
    answer_id = int(answer.get_attribute("data-answer-id"))
    state = page.locator(f'[data-state-for="{answer_id}"]')
    answer.fill("Before the session ended.")
    expect(state).to_contain_text("Saved at", timeout=10_000)

    page.context.clear_cookies()
    answer.fill("Before the session ended. And after it, still typing.")
    expect(state).to_contain_text("Log in again", timeout=10_000)
    assert saved_text(server, answer_id) == "Before the session ended."

    state.get_by_role("link", name="Log in again").click()
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(first_answer(page)).to_have_value(
        "Before the session ended. And after it, still typing.")
    expect(page.locator(f'[data-state-for="{answer_id}"]')).to_contain_text("Saved at",
                                                                            timeout=10_000)
    assert saved_text(server, answer_id) == \
        "Before the session ended. And after it, still typing."
