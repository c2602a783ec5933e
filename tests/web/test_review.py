"""The reviewer's pages: queue, hand-out, review page, drafts, recusal, independence."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from recruit.models import Answer, Criterion, Review, ReviewAssignment
from tests.reviewing import add_answers, add_reviewer
from tests.world import build_world


@pytest.fixture
def world(db):
    return build_world(db)


@pytest.fixture
def task(db, world):
    """Stage 1's second task, with one answer that has a name and a phone redacted."""
    for answer in db.scalars(select(Answer)):
        answer.reviews_wanted = 0
    task = world.campaign.stages[0].tasks[1]
    add_answers(db, campaign=world.campaign, count=1, tasks=[task],
                text="Hello, I am ⟦name⟧, call me at ⟦phone⟧. I would apologise first.")
    return task


@pytest.fixture
def reviewer(db, world):
    return add_reviewer(db, campaign=world.campaign)


def criteria_of(db, task):
    return db.scalars(select(Criterion.id).where(Criterion.task_id == task.id)
                      .order_by(Criterion.position)).all()


def take(client, task) -> str:
    """Ask for the next answer of ``task``; return the review page URL."""
    response = client.post_form(f"/review/tasks/{task.id}/next")
    assert response.status_code == 302, response.status_code
    assert "/review/answers/" in response.location
    return response.location


def scores_form(db, task, value=4, comment="") -> dict:
    return {**{f"c-{cid}": str(value) for cid in criteria_of(db, task)}, "comment": comment}


def test_home_lists_the_tasks_of_the_reviewers_campaigns_with_what_needs_review(client, reviewer,
                                                                              task):
    client.login(reviewer)
    page = client.get("/review/").get_data(as_text=True)
    assert "Get next answer" in page
    assert "1 answer needs a review" in page
    assert f"/review/tasks/{task.id}/next" in page


def test_a_reviewer_outside_the_pool_cannot_take_answers(client, db, world, task):
    from recruit.models import Role
    from tests.factories import make_user

    outsider = make_user(db, role=Role.REVIEWER)
    client.login(outsider)
    assert "Get next answer" not in client.get("/review/").get_data(as_text=True)
    # A task of a campaign whose pool they are not in does not exist for them.
    assert client.post_form(f"/review/tasks/{task.id}/next").status_code == 404


def test_the_review_page_shows_prompt_redacted_answer_and_rubric_but_no_identity(
        client, db, world, reviewer, task):
    client.login(reviewer)
    url = take(client, task)
    html = client.get(url).get_data(as_text=True)
    assert task.prompt_en.split("\n")[0][:40] in html
    assert '<mark class="redacted"' in html and "[name hidden]" in html
    assert "[phone hidden]" in html and "⟦" not in html
    criterion = db.scalar(select(Criterion).where(Criterion.task_id == task.id)
                          .order_by(Criterion.position))
    assert criterion.descriptors["5"]["en"][:30] in html
    assert html.count('type="radio"') == 5 * len(criteria_of(db, task))
    assert 'src="/static/review.js"' in html and "<script>" not in html
    for code in db.scalars(select(world.candidacy.__class__.code)):
        assert code not in html  # no candidacy code, ever
    assert world.users["applicant"].email not in html


def test_review_urls_use_the_answer_token_never_the_candidacy_code(client, db, reviewer, task):
    client.login(reviewer)
    url = take(client, task)
    token = url.rsplit("/", 1)[1]
    assert db.scalar(select(Answer.id).where(Answer.token == token)) is not None


def test_submitting_stores_the_review_and_hands_out_the_next_answer(client, db, world, reviewer,
                                                                     task):
    add_answers(db, campaign=world.campaign, count=1, tasks=[task])
    client.login(reviewer)
    url = take(client, task)
    response = client.post_form(url + "/submit", scores_form(db, task, 4, "Kind and clear."))
    assert response.status_code == 302
    assert "/review/answers/" in response.location and response.location != url
    review = db.scalar(select(Review).where(Review.reviewer_id == reviewer.id))
    assert review.score_raw == pytest.approx(4.0) and review.comment == "Kind and clear."
    assert len(review.scores) == len(criteria_of(db, task))
    # The last one sends the reviewer home.
    response = client.post_form(response.location + "/submit", scores_form(db, task, 3))
    assert response.status_code == 302 and response.location.endswith("/review/")


def test_a_missing_score_is_explained_and_what_was_typed_is_kept(client, db, reviewer, task):
    client.login(reviewer)
    url = take(client, task)
    data = scores_form(db, task, 2, "Half done")
    del data[f"c-{criteria_of(db, task)[-1]}"]
    response = client.post_form(url + "/submit", data)
    html = response.get_data(as_text=True)
    assert "Give every criterion a score from 1 to 5." in html
    assert "Half done" in html
    assert db.scalar(select(Review)) is None
    draft = db.scalar(select(ReviewAssignment.draft)
                      .where(ReviewAssignment.reviewer_id == reviewer.id))
    assert draft["comment"] == "Half done" and len(draft["scores"]) == len(data) - 1


def test_a_half_done_review_survives_a_reload(client, db, reviewer, task):
    client.login(reviewer)
    url = take(client, task)
    first = criteria_of(db, task)[0]
    response = client.post(url + "/draft", json={"scores": {str(first): 5}, "comment": "So far"},
                           headers={"X-CSRFToken": client.csrf_token()})
    assert response.status_code == 200 and response.get_json()["ok"] is True
    html = client.get(url).get_data(as_text=True)
    assert re.search(rf'name="c-{first}" value="5" checked', html)
    assert "So far" in html


def test_a_draft_with_an_impossible_score_is_refused(client, db, reviewer, task):
    client.login(reviewer)
    url = take(client, task)
    response = client.post(url + "/draft", json={"scores": {"1": 9}, "comment": ""},
                           headers={"X-CSRFToken": client.csrf_token()})
    assert response.status_code == 400 and response.get_json()["ok"] is False


def test_recusing_records_the_reason_and_frees_the_slot(client, db, world, reviewer, task):
    client.login(reviewer)
    url = take(client, task)
    response = client.post_form(url + "/recuse", {"reason": "I know this writing style"})
    assert response.status_code == 302
    row = db.scalar(select(ReviewAssignment).where(ReviewAssignment.reviewer_id == reviewer.id))
    assert (row.status, row.recuse_reason) == ("recused", "I know this writing style")
    other = add_reviewer(db, campaign=world.campaign)
    client.login(other)
    assert take(client, task) == url


def test_another_reviewers_answer_page_does_not_exist_for_you(client, db, world, reviewer, task):
    client.login(reviewer)
    url = take(client, task)
    client.login(add_reviewer(db, campaign=world.campaign))
    assert client.get(url).status_code == 404
    assert client.post_form(url + "/submit", scores_form(db, task)).status_code == 404


def test_reviewer_pages_never_show_another_reviewers_score_or_comment(client, db, world, reviewer,
                                                                      task):
    client.login(reviewer)
    url = take(client, task)
    client.post_form(url + "/submit", scores_form(db, task, 1, "SECRET-COMMENT-OF-A"))
    second = add_reviewer(db, campaign=world.campaign)
    client.login(second)
    assert take(client, task) == url  # the same answer, second slot
    pages = [client.get(url), client.get("/review/"), client.get("/review/mine")]
    for response in pages:
        html = response.get_data(as_text=True)
        assert "SECRET-COMMENT-OF-A" not in html
        assert "1.00" not in html and "1,00" not in html
    client.post_form(url + "/submit", scores_form(db, task, 5, "B's view"))
    mine = client.get("/review/mine").get_data(as_text=True)
    assert "B&#39;s view" in mine and "5.00" in mine
    assert "SECRET-COMMENT-OF-A" not in mine and "1.00" not in mine
    # The submitted page shows the reviewer's own scores only.
    html = client.get(url).get_data(as_text=True)
    assert "SECRET-COMMENT-OF-A" not in html
    assert html.count("checked") == len(criteria_of(db, task))
    assert 'value="5" checked' in html and 'value="1" checked' not in html


def test_my_reviews_lists_only_my_own_work(client, db, reviewer, task):
    client.login(reviewer)
    assert "You have not finished a review yet." in client.get("/review/mine").get_data(
        as_text=True)
    url = take(client, task)
    client.post_form(url + "/submit", scores_form(db, task, 3, "Mine"))
    html = client.get("/review/mine").get_data(as_text=True)
    assert "Mine" in html and "3.00" in html


# -- put back, progress, queue page, moving on (issue 16) ------------------------------------------

def test_put_back_returns_the_answer_at_once_and_says_so(client, db, world, reviewer, task):
    client.login(reviewer)
    url = take(client, task)
    client.post(url + "/draft", json={"scores": {}, "comment": "a start"},
                headers={"X-CSRFToken": client.csrf_token()})
    response = client.post_form(url + "/put-back")
    assert response.status_code == 302 and response.location.endswith("/review/")
    flashed = client.get("/review/").get_data(as_text=True)
    assert "went back to the queue" in flashed
    row = db.scalar(select(ReviewAssignment).where(ReviewAssignment.reviewer_id == reviewer.id))
    assert (row.status, row.draft) == ("returned", {})
    answer = db.scalar(select(Answer).where(Answer.id == row.answer_id))
    assert answer.reviews_leased == 0
    # Another reviewer gets it straight away, not after the lease.
    other = add_reviewer(db, campaign=world.campaign)
    client.login(other)
    assert take(client, task) == url
    # The page of a put-back answer explains itself and offers no form.
    client.login(reviewer)
    html = client.get(url).get_data(as_text=True)
    assert "You put this answer back" in html and "Submit review" not in html


def test_the_review_page_shows_what_is_left_in_the_task(client, db, world, reviewer, task):
    add_answers(db, campaign=world.campaign, count=3, tasks=[task])
    client.login(reviewer)
    url = take(client, task)
    assert "4 of 4 left for you in this task" in client.get(url).get_data(as_text=True)
    nxt = client.post_form(url + "/submit", scores_form(db, task, 3)).location
    assert "3 of 4 left for you in this task" in client.get(nxt).get_data(as_text=True)
    client.post_form(nxt + "/put-back")
    nxt = take(client, task)
    # Put back is not finished: that answer is still left for this reviewer, last.
    assert "3 of 4 left for you in this task" in client.get(nxt).get_data(as_text=True)


def test_the_review_page_starts_keyboard_work_at_the_first_criterion(client, db, reviewer, task):
    client.login(reviewer)
    html = client.get(take(client, task)).get_data(as_text=True)
    hint = re.search(r'<p class="hint keys"[^>]*>([^<]*)</p>', html).group(1)
    assert len(hint) <= 60, hint
    assert 'aria-labelledby="c-' in html


def test_submitting_moves_on_to_another_task_when_this_one_has_only_seen_candidates(
        client, db, world, reviewer, task):
    other = world.campaign.stages[0].tasks[2]
    # The task's one candidate also answered the other task; a second candidate only that.
    add_answers(db, campaign=world.campaign, count=1, tasks=[other])
    client.login(reviewer)
    url = take(client, task)
    response = client.post_form(url + "/submit", scores_form(db, task, 3))
    assert response.status_code == 302 and "/review/answers/" in response.location
    token = response.location.rsplit("/", 1)[1]
    assert db.scalar(select(Answer.task_id).where(Answer.token == token)) == other.id
    assert "another task of the stage" in client.get("/review/").get_data(as_text=True)


def test_the_queue_shows_tasks_with_work_and_folds_the_rest(client, db, world, reviewer, task):
    client.login(reviewer)
    html = client.get("/review/").get_data(as_text=True)
    assert html.count('class="card queue-task"') == 1
    assert "2 tasks with nothing for you right now" in html
    assert world.campaign.title_en in html


def test_waves_of_one_track_in_the_same_month_get_distinct_names(db, world):
    from recruit.domain import tracks

    again = tracks.create_campaign(db, track_key="support-agent",
                                   opens_at=world.campaign.opens_at,
                                   closes_at=world.campaign.closes_at)
    third = tracks.create_campaign(db, track_key="support-agent",
                                   opens_at=world.campaign.opens_at,
                                   closes_at=world.campaign.closes_at)
    titles = {world.campaign.title_en, again.title_en, third.title_en}
    assert len(titles) == 3 and again.title_en.endswith("(wave 2)")
    assert len({world.campaign.title_ru, again.title_ru, third.title_ru}) == 3
    assert third.title_ru.endswith("(волна 3)")


def test_past_a_hundred_the_progress_line_stops_counting(client, db, world, reviewer, task):
    from sqlalchemy import insert, update

    from recruit.db import utcnow

    add_answers(db, campaign=world.campaign, count=150, tasks=[task])
    client.login(reviewer)
    url = take(client, task)
    assert "More than 100 answers left for you in this task" in client.get(url).get_data(
        as_text=True)
    client.post_form(url + "/put-back")
    # A reviewer with more than a hundred finished reviews of the task and a short pool.
    for answer in db.scalars(select(Answer).where(Answer.task_id == task.id)):
        answer.reviews_wanted = 0
    done = add_answers(db, campaign=world.campaign, count=102, reviews_wanted=1, tasks=[task])
    now = utcnow()
    db.execute(insert(ReviewAssignment), [
        {"answer_id": a[task.id], "task_id": task.id, "reviewer_id": reviewer.id,
         "status": "submitted", "leased_at": now, "lease_expires_at": now, "draft": {},
         "completed_at": now} for a in done])
    db.execute(update(Answer).where(Answer.id.in_([a[task.id] for a in done]))
               .values(reviews_done=1))
    add_answers(db, campaign=world.campaign, count=3, tasks=[task])
    html = client.get(take(client, task)).get_data(as_text=True)
    assert "3 left for you in this task" in html and " of " not in re.search(
        r'<p class="task-progress[^>]*>([^<]*)</p>', html).group(1)


def test_the_rubric_form_keeps_a_comment_for_the_candidate_apart_from_the_note(client, db, world,
                                                                                reviewer, task):
    add_answers(db, campaign=world.campaign, count=1, tasks=[task])
    client.login(reviewer)
    url = take(client, task)
    html = client.get(url).get_data(as_text=True)
    assert 'name="comment"' in html and 'name="candidate_comment"' in html
    data = {**scores_form(db, task, 4, "Seems copied, check."),
            "candidate_comment": "Kind tone; name the next step first."}
    assert client.post_form(url + "/submit", data).status_code == 302
    review = db.scalar(select(Review).where(Review.reviewer_id == reviewer.id))
    assert review.comment == "Seems copied, check."
    assert review.candidate_comment == "Kind tone; name the next step first."
    assert review.candidate_comment_hidden_at is None


def test_a_too_long_comment_for_the_candidate_is_explained_and_kept(client, db, reviewer, task):
    from recruit.domain.assignment import COMMENT_MAX

    client.login(reviewer)
    url = take(client, task)
    long = "Очень подробно. " * (COMMENT_MAX // 10)
    data = {**scores_form(db, task, 3, "note"), "candidate_comment": long}
    response = client.post_form(url + "/submit", data, headers={"Accept-Language": "en"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "The comment for the candidate is too long" in html
    assert long.strip() in html
    assert db.scalar(select(Review)) is None
    draft = db.scalar(select(ReviewAssignment.draft)
                      .where(ReviewAssignment.reviewer_id == reviewer.id))
    assert draft["candidate_comment"] == long.strip()[:COMMENT_MAX]


def test_a_draft_keeps_the_comment_for_the_candidate_over_a_reload(client, db, reviewer, task):
    client.login(reviewer)
    url = take(client, task)
    response = client.post(url + "/draft", json={"scores": {}, "comment": "",
                                                 "candidate_comment": "Warm start"},
                           headers={"X-CSRFToken": client.csrf_token()})
    assert response.status_code == 200 and response.get_json()["ok"] is True
    assert "Warm start" in client.get(url).get_data(as_text=True)
    response = client.post(url + "/draft", json={"scores": {}, "comment": "",
                                                 "candidate_comment": ["not", "text"]},
                           headers={"X-CSRFToken": client.csrf_token()})
    assert response.status_code == 400 and response.get_json()["ok"] is False
