"""Calibration answers (issue 16, item 8) and the campaign's review settings (items 5 and 7).

Calibration answers are mixed into reviewers' queues indistinguishably, show each reviewer's
drift to coordinators, and never count towards any candidate.
"""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from recruit.db import utcnow
from recruit.domain import assignment, calibration, review_stats
from recruit.models import Answer, CalibrationAnswer, Criterion, Review, ReviewAssignment
from recruit.reports import data as report_data
from tests.reviewing import add_answers, add_reviewer
from tests.world import build_world


@pytest.fixture
def world(db):
    world = build_world(db)
    for answer in db.scalars(select(Answer)):
        answer.reviews_wanted = 0  # the world's own answers leave the pool
    db.flush()
    return world


@pytest.fixture
def task(world):
    return world.campaign.stages[0].tasks[1]


def criteria_of(db, task) -> list[int]:
    return db.scalars(select(Criterion.id).where(Criterion.task_id == task.id)
                      .order_by(Criterion.position)).all()


def base(world) -> str:
    return f"/coordinate/campaigns/{world.campaign.id}"


def write(db, world, task, *, value=3, text="Здравствуйте! Разберусь и отвечу до вечера."):
    return calibration.write_answer(db, task=task, text=text,
                                    reference=dict.fromkeys(criteria_of(db, task), value),
                                    note="", by=world.users["coordinator"], now=utcnow())


def hand_out(db, reviewer, task, *, rate=0, rng=None):
    return assignment.next_answer(db, reviewer=reviewer, task=task, lease_minutes=30,
                                  now=utcnow(), calibration_rate=rate, rng=rng)


def submit(db, reviewer, handout, value):
    work = assignment.load_work(db, token=handout.token, reviewer_id=reviewer.id)
    criteria = db.scalars(select(Criterion.id).join(Answer, Answer.task_id == Criterion.task_id)
                          .where(Answer.token == handout.token)).all()
    values = value if isinstance(value, dict) else dict.fromkeys(criteria, value)
    return assignment.submit_review(db, assignment=work.assignment, stage=work.stage,
                                    scores=values, comment="", now=utcnow())


# -- coordinators add them ----------------------------------------------------------------------

def test_a_coordinator_writes_a_calibration_answer_redacted_like_an_applicants(
        client, db, world, task):
    client.login(world.users["coordinator"])
    url = f"{base(world)}/calibration/tasks/{task.id}/new"
    assert "Reference scores" in client.get(url).get_data(as_text=True)
    form = {f"r-{cid}": "4" for cid in criteria_of(db, task)}
    form.update(text="Напишите мне на anna.k@example.org, разберёмся.", note="Образец")
    response = client.post_form(url, form)
    assert response.status_code == 302
    answer = db.scalar(select(Answer).where(Answer.submission_id.is_(None)))
    assert "example.org" not in answer.redacted_text and answer.text == ""
    assert answer.check_status == "released" and answer.reviews_wanted == 0
    stored = db.get(CalibrationAnswer, answer.id)
    assert set(stored.reference.values()) == {4} and stored.note == "Образец"
    overview = client.get(f"{base(world)}/calibration").get_data(as_text=True)
    assert "Written by a coordinator" in overview and "[e-mail hidden]" in overview


def test_a_missing_reference_score_is_explained_and_the_text_kept(client, db, world, task):
    client.login(world.users["coordinator"])
    form = {f"r-{cid}": "4" for cid in criteria_of(db, task)[1:]}
    form.update(text="Мой черновик ответа", note="")
    response = client.post_form(f"{base(world)}/calibration/tasks/{task.id}/new", form)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Give every criterion a reference score from 1 to 5." in html
    assert "Мой черновик ответа" in html
    assert db.scalar(select(CalibrationAnswer)) is None


def test_the_custodian_may_look_but_never_sets_reference_scores(client, db, world, task):
    client.login(world.users["custodian"])
    assert client.get(f"{base(world)}/calibration").status_code == 200
    assert client.get(f"{base(world)}/calibration/tasks/{task.id}/new").status_code == 403


def test_a_task_of_another_campaign_is_not_found(client, db, world, task):
    from recruit.domain import tracks

    other = tracks.create_campaign(db, track_key="support-agent",
                                   opens_at=utcnow(), closes_at=utcnow() + timedelta(days=9))
    client.login(world.users["coordinator"])
    foreign = other.stages[0].tasks[0].id
    assert client.get(f"{base(world)}/calibration/tasks/{foreign}/new").status_code == 404


def test_a_candidates_answer_becomes_a_calibration_copy_once_its_reviews_are_in(
        client, db, world, task):
    source_id = add_answers(db, campaign=world.campaign, count=1, tasks=[task])[0][task.id]
    first, second = (add_reviewer(db, campaign=world.campaign) for _ in range(2))
    client.login(world.users["coordinator"])
    url = f"{base(world)}/calibration/answers/{source_id}/copy"
    # Still in review: the page says why it cannot be used yet, and a POST is refused.
    assert "still being reviewed" in client.get(url).get_data(as_text=True)
    form = {f"r-{cid}": "2" for cid in criteria_of(db, task)}
    assert client.post_form(url, form).status_code == 400
    for reviewer in (first, second):
        submit(db, reviewer, hand_out(db, reviewer, task), 4)
    page = client.get(url).get_data(as_text=True)
    # The reviewers' mean (4) is where the reference starts.
    assert re.search(r'name="r-\d+" value="4" checked', page)
    assert client.post_form(url, form).status_code == 302
    copy = db.scalar(select(CalibrationAnswer))
    assert copy.source_answer_id == source_id
    assert db.get(Answer, copy.answer_id).redacted_text == db.get(Answer, source_id).redacted_text
    # The reviewers of the original never get the copy; a third reviewer does.
    for reviewer in (first, second):
        assert hand_out(db, reviewer, task, rate=100) is None
    third = add_reviewer(db, campaign=world.campaign)
    add_answers(db, campaign=world.campaign, count=1, tasks=[task])
    assert hand_out(db, third, task, rate=100).assignment_id is not None
    assert db.scalar(select(ReviewAssignment.answer_id)
                     .where(ReviewAssignment.reviewer_id == third.id)) == copy.answer_id
    # A second copy of the same answer is refused.
    assert client.post_form(url, form).status_code == 400


def test_a_calibration_answer_copy_page_for_a_calibration_answer_is_not_found(client, db,
                                                                             world, task):
    made = write(db, world, task)
    client.login(world.users["coordinator"])
    assert client.get(f"{base(world)}/calibration/answers/{made.id}/copy").status_code == 404


# -- reviewers cannot tell ---------------------------------------------------------------------

def _page_shape(html: str, token: str, text: str, email: str) -> str:
    html = html.replace(token, "TOKEN").replace(token[:8], "TOKEN")
    html = html.replace(text, "TEXT").replace(email, "EMAIL")
    html = re.sub(r"\d{1,2}:\d{2}", "TIME", html)
    html = re.sub(r'name="csrf_token" value="[^"]+"', "", html)
    return re.sub(r"\d+ of \d+ left for you in this task", "PROGRESS", html)


def test_a_calibration_answer_looks_exactly_like_any_other_answer(client, db, world, task):
    text = "Здравствуйте! Разберусь и отвечу до вечера."
    add_answers(db, campaign=world.campaign, count=1, tasks=[task], text=text)
    made = write(db, world, task, text=text)
    reviewer = add_reviewer(db, campaign=world.campaign)
    first = hand_out(db, reviewer, task)  # the candidate's (rate 0)
    assert first.token != made.token
    client.login(reviewer)
    real = client.get(f"/review/answers/{first.token}").get_data(as_text=True)
    work = assignment.load_work(db, token=first.token, reviewer_id=reviewer.id)
    assignment.put_back(db, assignment=work.assignment, now=utcnow())
    other = add_reviewer(db, campaign=world.campaign)
    handed = hand_out(db, other, task, rate=100)
    assert handed.token == made.token
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", made.token)
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", first.token)
    client.login(other)
    fake = client.get(f"/review/answers/{handed.token}").get_data(as_text=True)
    assert (_page_shape(fake, handed.token, text, other.email)
            == _page_shape(real, first.token, text, reviewer.email))
    # The reviewer's history lists it like any other review.
    submit(db, other, handed, 3)
    assert handed.token in client.get("/review/mine").get_data(as_text=True)


def test_calibration_answers_come_at_the_set_rate_and_never_into_an_empty_queue(db, world,
                                                                                task):
    for _ in range(4):
        write(db, world, task)
    add_answers(db, campaign=world.campaign, count=60, reviews_wanted=1, tasks=[task])
    reviewer = add_reviewer(db, campaign=world.campaign)
    rng = random.Random(8)
    kinds = []
    while (handout := hand_out(db, reviewer, task, rate=10, rng=rng)) is not None:
        calibrating = db.scalar(select(Answer.submission_id).where(
            Answer.token == handout.token)) is None
        kinds.append(calibrating)
        submit(db, reviewer, handout, 3)
    # 60 real answers, each calibration answer at most once, none after the last real one.
    assert kinds.count(False) == 60 and 1 <= kinds.count(True) <= 4
    assert kinds[-1] is False
    retired = db.scalars(select(CalibrationAnswer)).all()
    for item in retired:
        calibration.retire(db, calibration=item, now=utcnow())
    add_answers(db, campaign=world.campaign, count=5, reviews_wanted=1, tasks=[task])
    fresh = add_reviewer(db, campaign=world.campaign)
    for _ in range(5):
        handout = hand_out(db, fresh, task, rate=100)
        assert db.scalar(select(Answer.submission_id).where(Answer.token == handout.token))
        submit(db, fresh, handout, 3)


# -- never for a candidate -----------------------------------------------------------------------

def _rounded(value):
    """Floats to 9 places, through containers: rows may come back in another order, and a sum
    in another order differs in its last bits."""
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_rounded(v) for v in value)
    return value


def _candidate_view(db, world):
    """Everything that speaks of candidates: ranking, progress, report data, export."""
    stage = world.campaign.stages[0]
    review_stats.renormalise_campaign(db, campaign=world.campaign)
    total, rows = review_stats.stage_scores(db, stage=stage)
    progress = review_stats.campaign_progress(db, campaign=world.campaign)
    normalised = dict(db.execute(select(Review.id, Review.score_normalised)
                                 .join(Answer, Answer.id == Review.answer_id)
                                 .where(Answer.submission_id.is_not(None))).all())
    header, table = report_data.campaign_results_table(db, campaign=world.campaign)
    report = report_data.campaign_report_context(db, campaign=world.campaign, locale="en")
    return _rounded({
        "ranking": (total, [(r.code, r.score, r.raw, r.criteria, r.reviews, r.spread)
                            for r in rows]),
        "progress": [(s.reviews, s.alpha, [(t.in_review, t.done, t.reviews, t.extra_asked)
                                           for t in s.tasks]) for s in progress.stages],
        "reviewers": [(r.email, r.submitted, r.mean_raw, r.severity) for r in progress.reviewers],
        "normalised": normalised,
        "export": (header, table),
        "report": [(s["candidacies"], s["alpha"], s["reviewers"])
                   for s in report["stage_sections"]],
    })


def test_calibration_reviews_never_count_towards_any_candidate(db, world, task):
    # Three slots per answer for three reviewers: each can always draw, whatever the order.
    add_answers(db, campaign=world.campaign, count=12, reviews_wanted=3, tasks=[task])
    reviewers = [add_reviewer(db, campaign=world.campaign) for _ in range(3)]
    rng = random.Random(3)
    for reviewer in reviewers:
        for _ in range(8):
            handout = hand_out(db, reviewer, task, rng=rng)
            submit(db, reviewer, handout, rng.randint(2, 4))
    before = _candidate_view(db, world)
    # Extreme calibration scores, far from everything: they would move any average.
    for value in (1, 5):
        made = write(db, world, task, value=3)
        for reviewer in reviewers:
            lease = assignment.next_answer(db, reviewer=reviewer, task=task, lease_minutes=30,
                                           now=utcnow(), calibration_rate=100)
            if lease is not None and lease.token == made.token:
                submit(db, reviewer, lease, value)
    calibrated = db.scalar(select(Review.id).join(CalibrationAnswer, CalibrationAnswer.answer_id
                                                  == Review.answer_id).limit(1))
    assert calibrated is not None
    assert _candidate_view(db, world) == before


# -- drift ----------------------------------------------------------------------------------------

def score_calibration(db, reviewer, task, scores: dict) -> int:
    """Work through the task at calibration rate 100; score calibration answers ``scores``."""
    done = 0
    while (handout := hand_out(db, reviewer, task, rate=100)) is not None:
        calibrating = db.scalar(select(Answer.submission_id).where(
            Answer.token == handout.token)) is None
        submit(db, reviewer, handout, scores if calibrating else 3)
        done += calibrating
    return done


def test_drift_per_reviewer_and_criterion_is_shown_and_flagged_beyond_the_bound(
        client, db, world, task):
    world.campaign.calibration_bound = 1
    criteria = criteria_of(db, task)
    for _ in range(3):
        write(db, world, task, value=3)
    add_answers(db, campaign=world.campaign, count=6, reviews_wanted=2, tasks=[task])
    steady, harsh = (add_reviewer(db, campaign=world.campaign) for _ in range(2))
    # The harsh reviewer gets the first criterion right and is two points low on the others.
    assert score_calibration(db, steady, task, dict.fromkeys(criteria, 3)) == 3
    assert score_calibration(db, harsh, task, {**dict.fromkeys(criteria, 1),
                                               criteria[0]: 3}) == 3
    drift = {d.reviewer_id: d for d in calibration.reviewer_drift(db, campaign=world.campaign)}
    assert drift[steady.id].overall == pytest.approx(0) and not drift[steady.id].flagged
    assert drift[harsh.id].flagged and drift[harsh.id].overall < -1
    keys = db.scalars(select(Criterion.key).where(Criterion.task_id == task.id)
                      .order_by(Criterion.position)).all()
    assert drift[harsh.id].by_criterion[keys[0]] == 0
    assert drift[harsh.id].by_criterion[keys[1]] == -2
    assert len(drift[harsh.id].series) == 3
    client.login(world.users["coordinator"])
    page = client.get(f"{base(world)}/reviews").get_data(as_text=True)
    assert "Calibration drift" in page and harsh.email in page and "drifting" in page
    assert page.count('class="flagged"') == 1 and "<svg" in page


def test_the_campaign_report_shows_calibration_drift(client, db, world, task):
    from tests.web.test_reports import pdf_text

    criteria = criteria_of(db, task)
    for _ in range(calibration.DRIFT_MIN_REVIEWS):
        write(db, world, task, value=5)
    add_answers(db, campaign=world.campaign, count=4, tasks=[task])
    reviewer = add_reviewer(db, campaign=world.campaign)
    assert score_calibration(db, reviewer, task, dict.fromkeys(criteria, 2)) == 3
    client.login(world.users["coordinator"])
    response = client.get(f"{base(world)}/report.pdf?lang=en")
    text = pdf_text(response.data)
    assert "Calibration" in text and "drifting" in text and reviewer.email not in text


def test_one_odd_calibration_score_does_not_flag_a_reviewer(db, world, task):
    write(db, world, task, value=5)
    add_answers(db, campaign=world.campaign, count=2, tasks=[task])
    reviewer = add_reviewer(db, campaign=world.campaign)
    assert score_calibration(db, reviewer, task, dict.fromkeys(criteria_of(db, task), 1)) == 1
    (drift,) = calibration.reviewer_drift(db, campaign=world.campaign)
    assert drift.overall == -4 and not drift.flagged


# -- settings -------------------------------------------------------------------------------

def settings_form(world, **changes) -> dict:
    form = {"title_en": world.campaign.title_en, "title_ru": world.campaign.title_ru,
            "lease_minutes": "30", "calibration_rate": "10", "calibration_bound": "1.00"}
    form.update(changes)
    return form


def test_the_campaign_page_offers_names_and_review_settings(client, db, world):
    client.login(world.users["coordinator"])
    page = client.get(base(world)).get_data(as_text=True)
    assert f'action="{base(world)}/settings#settings"' in page
    assert 'name="lease_minutes"' in page and 'name="title_ru"' in page


def test_renaming_and_a_longer_lease_take_effect(client, db, world, task):
    client.login(world.users["coordinator"])
    response = client.post_form(f"{base(world)}/settings", settings_form(
        world, title_en="Spring wave, evening shift", title_ru="Весенняя волна, вечер",
        lease_minutes="90"))
    assert response.status_code == 302
    db.refresh(world.campaign)
    assert world.campaign.title_ru == "Весенняя волна, вечер"
    assert world.campaign.lease_minutes == 90
    add_answers(db, campaign=world.campaign, count=1, tasks=[task])
    reviewer = add_reviewer(db, campaign=world.campaign)
    client.login(reviewer)
    assert "Spring wave, evening shift" in client.get("/review/").get_data(as_text=True)
    client.post_form(f"/review/tasks/{task.id}/next")
    lease = db.scalar(select(ReviewAssignment).where(ReviewAssignment.reviewer_id == reviewer.id))
    assert lease.lease_expires_at - lease.leased_at == timedelta(minutes=90)


def test_the_drift_bound_takes_a_decimal_comma(client, db, world):
    client.login(world.users["coordinator"])
    response = client.post_form(f"{base(world)}/settings",
                                settings_form(world, calibration_bound="1,5"))
    assert response.status_code == 302
    db.refresh(world.campaign)
    assert float(world.campaign.calibration_bound) == 1.5


def test_a_name_another_campaign_has_is_refused_and_the_typing_kept(client, db, world):
    from recruit.domain import tracks

    other = tracks.create_campaign(db, track_key="support-agent", opens_at=utcnow(),
                                   closes_at=utcnow() + timedelta(days=9))
    client.login(world.users["coordinator"])
    response = client.post_form(f"{base(world)}/settings", settings_form(
        world, title_en=f"  {other.title_en.upper()} ", lease_minutes="45"))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Another campaign already has this name" in html and 'value="45"' in html
    db.refresh(world.campaign)
    assert world.campaign.lease_minutes == 30


@pytest.mark.parametrize(("field", "value"), [
    ("lease_minutes", "0"), ("lease_minutes", "99999999999999999999999"),
    ("lease_minutes", "half an hour"), ("calibration_rate", "80"),
    ("calibration_bound", "NaN"), ("calibration_bound", "Infinity"), ("title_en", " "),
], ids=["lease-zero", "lease-huge", "lease-words", "rate-80", "bound-nan", "bound-inf",
        "blank-title"])
def test_bad_settings_get_a_clear_400(client, db, world, field, value):
    client.login(world.users["coordinator"])
    response = client.post_form(f"{base(world)}/settings", settings_form(world, **{field: value}))
    assert response.status_code == 400
    assert 'class="error"' in response.get_data(as_text=True)


def test_a_calibration_answer_is_nobodys_draft_and_has_no_original_to_check(client, db,
                                                                           world, task):
    made = write(db, world, task)
    client.login(world.users["applicant"])
    response = client.post(f"/me/answers/{made.id}/autosave", json={"text": "x", "version": 1},
                           headers={"X-CSRFToken": client.csrf_token(),
                                    "Accept": "application/json"})
    assert response.status_code == 404
    client.login(world.users["custodian"])
    assert client.get(f"/custody/answers/{made.token}").status_code == 404
