"""The review page in a real browser (issue 16, item 6): keyboard work from the first key.

Focus starts on the first criterion without a score; keys 1–5 score the criterion in focus
and move on; after the last one the comment has focus, and Ctrl+Enter submits.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from recruit.db import utcnow
from recruit.domain import tracks
from recruit.models import Answer, Criterion, Review
from tests.factories import PASSWORD
from tests.reviewing import add_answers, add_reviewer

pytestmark = pytest.mark.e2e

expect = pytest.importorskip("playwright.sync_api").expect


def reviewing_world(server) -> tuple[str, int]:
    """A wave with two released answers of task 2 and a reviewer in its pool."""
    def work(db):
        tracks.load_shipped(db)
        now = utcnow()
        campaign = tracks.create_campaign(db, track_key="support-agent", key="e2e-review",
                                          opens_at=now - timedelta(days=1),
                                          closes_at=now + timedelta(days=30))
        task = campaign.stages[0].tasks[1]
        add_answers(db, campaign=campaign, count=2, tasks=[task],
                    text="Hello! I am sorry about the delay; I will check your order today.")
        reviewer = add_reviewer(db, campaign=campaign)
        return reviewer.email, task.id
    return server.run(work)


def log_in(page, server, email: str) -> None:
    page.goto(server.url + "/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()


def test_keys_score_from_the_first_criterion_and_move_on_to_the_comment(page, live_server,
                                                                        screenshots):
    email, task_id = reviewing_world(live_server)
    log_in(page, live_server, email)
    page.get_by_role("button", name="Get next answer").click()
    expect(page.get_by_text("left for you in this task")).to_be_visible()
    criteria = live_server.run(lambda db: db.scalars(
        sa.select(Criterion.id).where(Criterion.task_id == task_id)
        .order_by(Criterion.position)).all())
    focused = "document.activeElement && document.activeElement.name"
    # Nothing to click first: the first criterion has focus on load.
    assert page.evaluate(focused) == f"c-{criteria[0]}"
    keys = ["4", "2", "5", "3", "1", "4", "2"][:len(criteria)]
    for n, key in enumerate(keys):
        page.keyboard.press(key)
        expected = f"c-{criteria[n + 1]}" if n + 1 < len(criteria) else "comment"
        assert page.evaluate(focused) == expected
    for criterion, key in zip(criteria, keys, strict=True):
        expect(page.locator(f"input[name='c-{criterion}'][value='{key}']")).to_be_checked()
    screenshots(page, "review-keyboard")
    page.keyboard.type("Polite and clear.")
    page.keyboard.press("Control+Enter")
    expect(page.get_by_text("Review saved.")).to_be_visible()

    def stored(db):
        review = db.scalar(sa.select(Review))
        return review.comment, sorted((s.criterion_id, s.value) for s in review.scores)
    comment, scores = live_server.run(stored)
    assert comment == "Polite and clear."
    assert scores == sorted(zip(criteria, map(int, keys), strict=True))


def test_a_key_outside_any_criterion_scores_the_first_one_without_a_score(page, live_server):
    email, _task_id = reviewing_world(live_server)
    log_in(page, live_server, email)
    page.get_by_role("button", name="Get next answer").click()
    page.locator(".answer-text").click()  # focus leaves the rubric
    page.keyboard.press("3")
    first = page.locator("fieldset.criterion").first
    expect(first.locator("input[value='3']")).to_be_checked()
    # A digit typed in the comment is text, not a score.
    page.locator("textarea[name=comment]").click()
    page.keyboard.type("5")
    expect(page.locator("fieldset.criterion").nth(1).locator("input:checked")).to_have_count(0)
    assert page.locator("textarea[name=comment]").input_value() == "5"


def test_put_back_from_the_page_frees_the_answer_at_once(page, live_server):
    email, _task_id = reviewing_world(live_server)
    log_in(page, live_server, email)
    page.get_by_role("button", name="Get next answer").click()
    token = page.url.rsplit("/", 1)[1]
    page.get_by_role("button", name="Put back unreviewed").click()
    expect(page.get_by_text("went back to the queue")).to_be_visible()
    leased = live_server.run(lambda db: db.scalar(
        sa.select(Answer.reviews_leased).where(Answer.token == token)))
    assert leased == 0
