"""The candidate's feedback page in a real browser, in Russian, at desktop and phone width
(issue 19): it fits a 390 px screen, the strips are drawn, a hidden comment is not there."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from recruit.domain import decisions, matching
from recruit.models import Answer, Decision, JobRole, Review, Submission, User
from tests.e2e.conftest import PHONE, serving
from tests.factories import PASSWORD
from tests.report_world import build_report_world

pytestmark = pytest.mark.e2e

expect = pytest.importorskip("playwright.sync_api").expect

SHOWN = "Спокойный, доброжелательный тон; хорошо бы короче и с ясным следующим шагом."
HIDDEN = "СКРЫТО: Иван Петрович считает, что это списано."


def _world(db) -> dict:
    """The report world, with comments for the candidates (one of Maria's hidden) and a
    rejected candidate whose answers matched the moderator role."""
    world = build_report_world(db)
    # Twelve candidates were scored at stage 1 and seven at stage 2: compare from ten.
    world.campaign.feedback_min_pool = 10
    stage1, stage2, _stage3 = world.campaign.stages
    reviews = db.execute(
        sa.select(Review, Submission.candidacy_id, Submission.stage_id)
        .join(Answer, Answer.id == Review.answer_id)
        .join(Submission, Submission.id == Answer.submission_id)
        .order_by(Review.id)).all()
    maria = world.maria_candidacy.id
    hidden_done = False
    for n, (review, candidacy_id, _stage_id) in enumerate(reviews):
        review.candidate_comment = SHOWN if n % 3 else (
            "Ответ по делу, правило объяснено без нравоучений. Не хватило сочувствия "
            "в первой фразе.")
        if candidacy_id == maria and not hidden_done:
            review.candidate_comment = HIDDEN
            review.candidate_comment_hidden_at = review.submitted_at
            hidden_done = True
    # Whoever did not pass but meets the moderator's requirements, as the matcher found.
    roles = matching.role_specs(db.scalars(sa.select(JobRole).where(JobRole.key == "moderator")))
    rejected = [c for c in world.candidacies
                if db.scalar(sa.select(Decision.id).where(Decision.candidacy_id == c.id,
                                                          Decision.outcome == "reject"))]
    profiles = decisions.criterion_profiles(db, candidacy_ids=[c.id for c in rejected])
    matched = next(c for c in rejected if matching.match_roles(profiles[c.id], roles))
    decision = db.scalar(sa.select(Decision).where(Decision.candidacy_id == matched.id,
                                                   Decision.outcome == "reject"))
    decision.alternate_roles = ["moderator"]
    user = db.get(User, matched.user_id)
    user.locale = "ru"
    db.flush()
    return {"maria": world.maria.email, "maria_candidacy": maria,
            "stages": [stage1.id, stage2.id], "rejected": user.email,
            "rejected_candidacy": matched.id, "rejected_stage": decision.stage_id}


@pytest.fixture(scope="module")
def feedback_server(new_database, tmp_path_factory):
    with serving(new_database, tmp_path_factory.mktemp("feedback")) as server:
        yield server, server.run(_world)


def _log_in(browser, server, email: str, viewport: dict):
    context = browser.new_context(viewport=viewport, locale="ru-RU",
                                  extra_http_headers={"Accept-Language": "ru"})
    context.set_default_timeout(60_000)
    page = context.new_page()
    page.goto(server.url + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form [type=submit]")
    page.wait_for_load_state()
    return context, page


_WIDER = "() => document.documentElement.scrollWidth > document.documentElement.clientWidth + 1"


def test_the_feedback_page_in_russian_fits_a_phone_and_hides_what_was_hidden(
        feedback_server, browser, screenshots):
    server, world = feedback_server
    context, page = _log_in(browser, server, world["maria"], PHONE)
    page.goto(f"{server.url}/me/candidacies/{world['maria_candidacy']}")
    page.get_by_role("link", name="Обратная связь по этому этапу").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Обратная связь")
    # Stage 1 has twelve scored candidates: compared with them, every criterion drawn.
    expect(page.locator("figure.chart.strip svg")).not_to_have_count(0)
    expect(page.locator("svg rect.bar").first).to_be_attached()
    assert not page.evaluate(_WIDER)
    assert HIDDEN not in page.content()
    expect(page.get_by_text(SHOWN).first).to_be_visible()
    screenshots(page, "feedback-stage1-ru")
    page.set_viewport_size(PHONE)
    # Stage 2 had seven: ranges, no other candidate drawn, still no sideways scroll.
    page.goto(f"{server.url}/me/candidacies/{world['maria_candidacy']}/stages/"
              f"{world['stages'][1]}/feedback")
    expect(page.locator("svg rect.band").first).to_be_attached()
    expect(page.locator("svg rect.bar")).to_have_count(0)
    assert not page.evaluate(_WIDER)
    screenshots(page, "feedback-stage2-small-pool-ru")
    context.close()


def test_a_rejected_candidate_reads_the_strengths_another_role_needs(feedback_server, browser,
                                                                      screenshots):
    server, world = feedback_server
    context, page = _log_in(browser, server, world["rejected"], PHONE)
    page.goto(f"{server.url}/me/candidacies/{world['rejected_candidacy']}/stages/"
              f"{world['rejected_stage']}/feedback")
    expect(page.get_by_role("heading", name="Сильные стороны для другой роли")).to_be_visible()
    assert not page.evaluate(_WIDER)
    screenshots(page, "feedback-rejected-ru")
    context.close()
