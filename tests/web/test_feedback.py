"""Candidates' feedback (issue 19): what the candidate sees on their feedback page, when, and
what coordinators control (comments hidden, feedback per stage, openings counted)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from recruit import access
from recruit.db import utcnow
from recruit.domain import applications, decisions, feedback, matching, notify
from recruit.models import (
    Answer,
    Candidacy,
    Decision,
    JobRole,
    OutboxMessage,
    Review,
    Role,
    StageFeedback,
    Submission,
    User,
)
from recruit.reports import data
from tests.report_world import build_report_world

SHOWN = "Тон тёплый, но следующий шаг для пользователя стоит назвать в первой фразе."
HIDDEN = "Совсем слабо, автор явно списал у Петрова."


@pytest.fixture
def world(db):
    world = build_report_world(db)
    # Twelve candidates were scored at stage 1, seven at stage 2: compare from ten.
    world.campaign.feedback_min_pool = 10
    db.flush()
    return world


def _url(candidacy, stage) -> str:
    return f"/me/candidacies/{candidacy.id}/stages/{stage.id}/feedback"


def _reviews_of(db, candidacy, stage) -> list[Review]:
    return db.scalars(
        sa.select(Review).join(Answer, Answer.id == Review.answer_id)
        .join(Submission, Submission.id == Answer.submission_id)
        .where(Submission.candidacy_id == candidacy.id, Submission.stage_id == stage.id)
        .order_by(Review.id)).all()


def _page(client, user, url, lang="ru"):
    client.login(user)
    return client.get(url, headers={"Accept-Language": lang})


def _text(response) -> str:
    return response.get_data(as_text=True)


# -- what the candidate sees -------------------------------------------------------------------

def test_the_candidate_sees_each_criterion_against_the_pass_line_with_its_descriptors(
        client, db, world):
    stage = world.campaign.stages[0]
    response = _page(client, world.maria, _url(world.maria_candidacy, stage))
    assert response.status_code == 200
    html = _text(response)
    titles = {c.title_ru for task in stage.tasks for c in task.criteria}
    for title in titles:
        assert title in html
    # One strip for the stage score and one per criterion, others drawn as bars.
    assert html.count("<svg") == len(titles) + 1
    assert '<rect class="bar"' in html and 'class="pass-line"' in html and 'class="you"' in html
    descriptor = next(c.descriptors["5"]["ru"] for task in stage.tasks for c in task.criteria
                      if c.descriptors)
    assert descriptor in html
    assert "проходн" in html
    world.maria.locale = "en"
    db.flush()
    english = _text(_page(client, world.maria, _url(world.maria_candidacy, stage), "en"))
    assert next(iter(c.title_en for task in stage.tasks for c in task.criteria)) in english
    assert "the pass line" in english


def test_in_a_pool_below_the_minimum_the_page_shows_ranges_and_nobody_else(client, db, world):
    world.campaign.feedback_min_pool = 20
    db.flush()
    stage = world.campaign.stages[0]
    view = feedback.candidate_feedback(db, candidacy=world.maria_candidacy, stage=stage,
                                       now=utcnow(), shuffle_key=b"k")
    assert not view.compared and view.pool == 12
    for standing in [view.overall, *(c.standing for c in view.criteria)]:
        assert standing.value is None and standing.bins is None and standing.rank is None
        assert standing.pool == 0 and standing.band[1] - standing.band[0] == 1
    # The pass line only to the quarter point.
    assert view.pass_line is None or (view.pass_line * 4) == int(view.pass_line * 4)
    html = _text(_page(client, world.maria, _url(world.maria_candidacy, stage)))
    assert '<rect class="bar"' not in html and '<rect class="band"' in html
    assert "Меньше 20" in html or "20" in html
    # No exact average anywhere: "x,y из 5" is how exact values read in Russian.
    assert not re.search(r"\d,\d из 5", html)


def test_the_page_compares_with_the_stage_but_carries_no_other_candidacy_or_reviewer(
        client, db, world):
    stage = world.campaign.stages[0]
    html = _text(_page(client, world.maria, _url(world.maria_candidacy, stage)))
    for other in world.candidacies[1:]:
        assert other.code not in html
    assert world.maria_candidacy.code not in html  # codes are for coordinators
    for email in world.reviewer_emails:
        assert email not in html and email.split("@")[0] not in html
    # Reviewer labels as coordinators see them ("R1"), not the same two characters inside a
    # random token on the page (the CSRF token contains "R1" in about one page in fifty).
    assert not re.search(r"(?<![\w.-])R[12](?![\w.-])", html)


def test_another_candidates_feedback_is_not_found(client, db, world):
    stage = world.campaign.stages[0]
    other = world.candidacies[1]
    assert _page(client, world.maria, _url(other, stage)).status_code == 404
    assert _page(client, world.other_applicant,
                 _url(world.maria_candidacy, stage)).status_code == 404
    # A stage of another campaign, or none at all, is not found either.
    assert _page(client, world.maria,
                 f"/me/candidacies/{world.maria_candidacy.id}/stages/999999/feedback"
                 ).status_code == 404


def test_hidden_comments_never_reach_the_candidate_and_the_rest_come_without_names(
        client, db, world):
    stage = world.campaign.stages[0]
    first, second, *_rest = _reviews_of(db, world.maria_candidacy, stage)
    first.candidate_comment, second.candidate_comment = SHOWN, HIDDEN
    db.flush()
    client.login(world.coordinator)
    decision_page = (f"/coordinate/campaigns/{world.campaign.id}/stages/{stage.id}"
                     f"/candidacies/{world.maria_candidacy.code}")
    assert HIDDEN in _text(client.get(decision_page))
    response = client.post_form(decision_page + "/comment", {"review": second.id, "hide": "1"})
    assert response.status_code == 302
    db.refresh(second)
    assert second.candidate_comment_hidden_at is not None
    assert second.candidate_comment_hidden_by_id == world.coordinator.id
    html = _text(_page(client, world.maria, _url(world.maria_candidacy, stage)))
    assert SHOWN in html and HIDDEN not in html and "Петров" not in html
    # Shown again, it is back.
    client.login(world.coordinator)
    client.post_form(decision_page + "/comment", {"review": second.id, "hide": "0"})
    assert HIDDEN in _text(_page(client, world.maria, _url(world.maria_candidacy, stage)))


def test_a_comment_of_another_candidacy_cannot_be_hidden_through_this_one(client, db, world):
    stage = world.campaign.stages[0]
    foreign = _reviews_of(db, world.candidacies[1], stage)[0]
    client.login(world.coordinator)
    url = (f"/coordinate/campaigns/{world.campaign.id}/stages/{stage.id}"
           f"/candidacies/{world.maria_candidacy.code}/comment")
    assert client.post_form(url, {"review": foreign.id, "hide": "1"}).status_code == 404
    assert client.post_form(url, {"review": "1e9", "hide": "1"}).status_code == 400
    assert client.post_form(url, {"review": "9999999999", "hide": "1"}).status_code == 404
    assert client.post_form(url, {"review": foreign.id, "hide": "yes"}).status_code == 400
    db.refresh(foreign)
    assert foreign.candidate_comment_hidden_at is None


def test_comments_come_in_an_order_of_the_candidates_own_the_same_on_every_visit(db, world):
    stage = world.campaign.stages[0]
    reviews = _reviews_of(db, world.maria_candidacy, stage)
    for n, review in enumerate(reviews):
        review.candidate_comment = f"comment {n}"
    db.flush()

    def order(key: bytes) -> list[str]:
        view = feedback.candidate_feedback(db, candidacy=world.maria_candidacy, stage=stage,
                                           now=utcnow(), shuffle_key=key)
        return [text for task in view.comments for text in task.comments]

    assert order(b"maria") == order(b"maria")
    assert sorted(order(b"maria")) == sorted(f"comment {n}" for n in range(len(reviews)))
    # Another candidate's key orders the same reviews differently (for some key).
    assert any(order(bytes([n])) != order(b"maria") for n in range(8))


# -- when --------------------------------------------------------------------------------------

def test_no_feedback_before_the_final_decision_nor_on_hold(client, db, world):
    stage = world.campaign.stages[0]
    candidacy = world.candidacies[1]
    db.execute(sa.delete(Decision).where(Decision.candidacy_id == candidacy.id))
    candidacy.state, candidacy.current_stage_id = "submitted", stage.id
    db.flush()
    user = db.get(User, candidacy.user_id)
    response = _page(client, user, _url(candidacy, stage), "en")
    assert response.status_code == 404
    assert "once the decision on it is final" in _text(response)
    decisions.decide(db, candidacy=candidacy, stage=stage, outcome="hold", reason="Wait.",
                     by=world.coordinator, now=utcnow())
    assert feedback.availability(db, candidacy=candidacy, stage=stage) == "not_final"
    assert _page(client, user, _url(candidacy, stage)).status_code == 404
    candidacy_page = _text(client.get(f"/me/candidacies/{candidacy.id}"))
    assert _url(candidacy, stage) not in candidacy_page


def test_an_applied_cutoff_makes_feedback_final_and_its_line_the_pass_line(client, db, world):
    stage = world.campaign.stages[0]
    undecided = world.candidacies[1:4]
    db.execute(sa.delete(Decision).where(Decision.candidacy_id.in_([c.id for c in undecided])))
    for candidacy in undecided:
        candidacy.state, candidacy.current_stage_id = "submitted", stage.id
    db.flush()
    assert all(feedback.availability(db, candidacy=c, stage=stage) == "not_final"
               for c in undecided)
    rule = decisions.make_rule(kind="min_score", value="3.2")
    decisions.apply_cutoff(db, stage=stage, rule=rule, by=world.coordinator, now=utcnow())
    assert all(feedback.availability(db, candidacy=c, stage=stage) == "available"
               for c in undecided)
    view = feedback.candidate_feedback(db, candidacy=undecided[0], stage=stage, now=utcnow(),
                                       shuffle_key=b"k")
    assert view.pass_line == pytest.approx(3.2)


def test_an_erased_applicant_has_no_feedback(client, db, world):
    stage = world.campaign.stages[0]
    candidacy = world.maria_candidacy
    applications.erase_account(db, user=world.maria, now=utcnow())
    db.refresh(candidacy)
    assert feedback.availability(db, candidacy=candidacy, stage=stage) == "erased"
    assert feedback.stages_with_feedback(db, candidacy=candidacy) == set()
    with pytest.raises(feedback.FeedbackError):
        feedback.candidate_feedback(db, candidacy=candidacy, stage=stage, now=utcnow(),
                                    shuffle_key=b"k")


# -- links: the candidacy page and the outcome e-mails ----------------------------------------

def test_the_candidacy_page_links_each_stage_with_feedback(client, db, world):
    html = _text(_page(client, world.maria, f"/me/candidacies/{world.maria_candidacy.id}"))
    for stage in world.campaign.stages:
        assert _url(world.maria_candidacy, stage) in html


def test_the_outcome_emails_link_to_the_feedback_from_the_public_url(client, db, world, app):
    stage = world.campaign.stages[0]
    candidacy = Candidacy(user_id=world.other_applicant.id, campaign_id=world.campaign.id,
                          state="submitted", current_stage_id=stage.id)
    db.add(candidacy)
    db.flush()
    decisions.decide(db, candidacy=candidacy, stage=stage, outcome="reject", reason="Below.",
                     by=world.coordinator, now=utcnow())
    message = db.scalar(sa.select(OutboxMessage).where(
        OutboxMessage.to_address == world.other_applicant.email,
        OutboxMessage.template == "stage_not_passed"))
    link = f"{app.config['PUBLIC_URL']}{_url(candidacy, stage)}"
    assert link in message.body_text and link in message.body_html
    passed = notify.stage_passed(db, candidacy=world.maria_candidacy, stage=stage,
                                 next_stage=world.campaign.stages[1], feedback=True)
    assert f"{app.config['PUBLIC_URL']}{_url(world.maria_candidacy, stage)}" in passed.body_text
    # A stage without feedback sends no link.
    quiet = notify.stage_not_passed(db, candidacy=candidacy, stage=stage, feedback=False)
    assert "/feedback" not in quiet.body_text


# -- alternate roles -----------------------------------------------------------------------------

def test_a_rejected_candidate_reads_which_strengths_matched_another_role(client, db, world):
    roles = matching.role_specs(db.scalars(sa.select(JobRole).where(JobRole.key == "moderator")))
    rejected = db.execute(sa.select(Decision).where(
        Decision.stage_id.in_([s.id for s in world.campaign.stages]),
        Decision.outcome == "reject")).scalars().all()
    profiles = decisions.criterion_profiles(db, candidacy_ids=[d.candidacy_id for d in rejected])
    decision = next(d for d in rejected if matching.match_roles(profiles[d.candidacy_id], roles))
    decision.alternate_roles = ["moderator"]
    db.flush()
    candidacy = db.get(Candidacy, decision.candidacy_id)
    stage = next(s for s in world.campaign.stages if s.id == decision.stage_id)
    user = db.get(User, candidacy.user_id)
    user.locale = "ru"
    db.flush()
    html = _text(_page(client, user, _url(candidacy, stage)))
    moderator = db.scalar(sa.select(JobRole).where(JobRole.key == "moderator"))
    assert "Сильные стороны для другой роли" in html and moderator.title_ru in html
    view = feedback.candidate_feedback(db, candidacy=candidacy, stage=stage, now=utcnow(),
                                       shuffle_key=b"k")
    assert view.alternates and view.alternates[0].strengths


# -- coordinators: settings and the report -----------------------------------------------------

def test_turning_feedback_off_for_a_stage_hides_it_and_its_link(client, db, world):
    stage1, stage2, stage3 = world.campaign.stages
    client.login(world.coordinator)
    hub = _text(client.get(f"/coordinate/campaigns/{world.campaign.id}"))
    assert f"/coordinate/campaigns/{world.campaign.id}/feedback" in hub
    response = client.post_form(f"/coordinate/campaigns/{world.campaign.id}/feedback",
                                {"min_pool": "15", f"stage_{stage2.id}": "y",
                                 f"stage_{stage3.id}": "y"})
    assert response.status_code == 302
    for row in (stage1, stage2, world.campaign):
        db.refresh(row)
    assert not stage1.feedback_enabled and stage2.feedback_enabled
    assert world.campaign.feedback_min_pool == 15
    response = _page(client, world.maria, _url(world.maria_candidacy, stage1), "en")
    assert response.status_code == 404
    assert "По этому этапу команда не даёт обратную связь." in _text(response)
    html = _text(client.get(f"/me/candidacies/{world.maria_candidacy.id}"))
    assert _url(world.maria_candidacy, stage1) not in html
    assert _url(world.maria_candidacy, stage2) in html


@pytest.mark.parametrize("value", ["4", "1001", "", "many"])
def test_a_minimum_pool_out_of_bounds_is_refused_and_nothing_changes(client, db, world, value):
    client.login(world.coordinator)
    response = client.post_form(f"/coordinate/campaigns/{world.campaign.id}/feedback",
                                {"min_pool": value}, headers={"Accept-Language": "ru"})
    assert response.status_code == 400
    assert "feedback" in _text(response) or "Обратная связь" in _text(response)
    assert world.campaign.feedback_min_pool == 10
    assert all(stage.feedback_enabled for stage in world.campaign.stages)


def test_the_first_opening_is_recorded_once_and_the_report_counts_it(client, db, world):
    stage = world.campaign.stages[0]
    submission = db.scalar(sa.select(Submission).where(
        Submission.candidacy_id == world.maria_candidacy.id, Submission.stage_id == stage.id))
    assert submission.feedback_opened_at is None
    _page(client, world.maria, _url(world.maria_candidacy, stage))
    db.refresh(submission)
    first = submission.feedback_opened_at
    assert first is not None
    _page(client, world.maria, _url(world.maria_candidacy, stage))
    db.refresh(submission)
    assert submission.feedback_opened_at == first
    numbers = feedback.campaign_numbers(db, campaign=world.campaign)
    assert (numbers[stage.id].decided, numbers[stage.id].opened) == (12, 1)
    exported = applications.export_data(db, user=world.maria)
    assert exported["candidacies"][0]["stages"][0]["feedback_opened_at"] == first.isoformat()
    context = data.campaign_report_context(db, campaign=world.campaign, locale="en")
    assert context["stage_sections"][0]["feedback"] == (
        "Feedback opened by 1 of the 12 candidates with a final decision.")


# -- access predicates ----------------------------------------------------------------------------

@pytest.mark.parametrize(("who", "owner", "expected"), [
    ("applicant", "self", True), ("applicant", "other", False), ("applicant", None, False),
    ("reviewer", "self", False), ("coordinator", "self", False)],
    ids=["own", "someone-elses", "erased", "reviewer", "coordinator"])
def test_only_the_candidate_reads_their_feedback(db, who, owner, expected):
    from tests.factories import make_user

    user = make_user(db, role=Role(who))
    owner_id = {"self": user.id, "other": user.id + 1, None: None}[owner]
    assert access.may_read_feedback(user, owner_user_id=owner_id) is expected
    assert access.may_moderate_feedback(user) is (who == "coordinator")


def test_calibration_answers_reach_no_candidates_feedback_nor_the_stage_statistics(db, world):
    from recruit.domain import calibration, stage_scores
    from recruit.models import CriterionScore, ReviewAssignment

    stage = world.campaign.stages[0]
    task = stage.tasks[0]
    before = feedback.stage_statistics(db, stage=stage, now=utcnow())
    answer = calibration.write_answer(db, task=task, text="Здравствуйте! Проверю и отвечу.",
                                      reference={c.id: 5 for c in task.criteria}, note="",
                                      by=world.coordinator, now=utcnow())
    for reviewer in world.reviewers:
        assignment = ReviewAssignment(answer_id=answer.id, reviewer_id=reviewer.id,
                                      status="submitted", lease_expires_at=utcnow())
        db.add(assignment)
        db.flush()
        review = Review(assignment_id=assignment.id, answer_id=answer.id,
                        reviewer_id=reviewer.id, score_raw=5.0, score_normalised=5.0,
                        candidate_comment="КАЛИБРОВКА: этого не видит ни один кандидат.")
        review.scores = [CriterionScore(criterion_id=c.id, value=5) for c in task.criteria]
        db.add(review)
    db.flush()
    stage_scores.results_changed(db, stage_id=stage.id)
    after = feedback.stage_statistics(db, stage=stage, now=utcnow())
    assert after == before
    for candidacy in world.candidacies[:7]:
        view = feedback.candidate_feedback(db, candidacy=candidacy, stage=stage, now=utcnow(),
                                           shuffle_key=b"k")
        assert all("КАЛИБРОВКА" not in text for t in view.comments for text in t.comments)


def test_the_kept_statistics_follow_a_new_decision(db, world):
    stage = world.campaign.stages[0]
    before = feedback.stage_statistics(db, stage=stage, now=utcnow())
    candidacy = Candidacy(user_id=world.other_applicant.id, campaign_id=world.campaign.id,
                          state="submitted", current_stage_id=stage.id)
    db.add(candidacy)
    db.flush()
    version = stage.results_version
    decisions.decide(db, candidacy=candidacy, stage=stage, outcome="reject", reason="Below.",
                     by=world.coordinator, now=utcnow())
    db.refresh(stage)
    assert stage.results_version > version
    assert feedback.stage_statistics(db, stage=stage, now=utcnow()) == before
    kept = db.get(StageFeedback, stage.id)
    assert kept.version == stage.results_version


def test_without_a_cutoff_the_pass_line_lies_midway_between_those_who_passed_and_not(db, world):
    stage = world.campaign.stages[1]
    statistics = feedback.stage_statistics(db, stage=stage, now=utcnow())
    scored = db.execute(sa.select(Decision.outcome, Submission.score)
                        .join(Submission, sa.and_(Submission.candidacy_id == Decision.candidacy_id,
                                                  Submission.stage_id == Decision.stage_id))
                        .where(Decision.stage_id == stage.id)).all()
    lowest = min(score for outcome, score in scored if outcome == "advance")
    highest = max(score for outcome, score in scored if outcome == "reject")
    assert statistics.pass_line == pytest.approx((lowest + highest) / 2, abs=1e-4)
    assert statistics.pool == 7 and sum(statistics.score) == 7


def test_a_candidate_decided_before_any_review_reads_only_that_nothing_was_scored(client, db):
    """A stage rejected with no review (an empty answer handed in by the deadline, say): the
    page says there is nothing to compare, without a rubric story, legend or pool notice."""
    from tests.world import build_world

    world = build_world(db)
    stage = world.campaign.stages[0]
    decisions.decide(db, candidacy=world.candidacy, stage=stage, outcome="reject",
                     reason="Nothing to review.", by=world.users["coordinator"], now=utcnow())
    world.users["applicant"].locale = "ru"
    db.flush()
    response = _page(client, world.users["applicant"], _url(world.candidacy, stage))
    assert response.status_code == 200
    text = _text(response)
    assert "не получили оценок" in text
    assert "Несколько рецензентов оценили" not in text
    assert "chart-legend" not in text and 'class="notice"' not in text
