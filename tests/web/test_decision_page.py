"""The candidacy decision page: each task's redacted answer beside its reviews."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from recruit.models import Answer, Review, Submission
from tests.report_world import build_report_world


@pytest.fixture
def world(db):
    world = build_report_world(db)
    stage = world.campaign.stages[0]
    answers = db.scalars(sa.select(Answer).join(Submission)
                         .where(Submission.candidacy_id == world.maria_candidacy.id,
                                Submission.stage_id == stage.id)
                         .order_by(Answer.task_id)).all()
    answers[0].text = "Меня зовут Мария Иванова, я люблю русский язык."
    answers[0].redacted_text = "Меня зовут ⟦name⟧, я люблю русский язык."
    answers[1].text = answers[1].redacted_text = "Уважаемый пользователь, ваша страница цела."
    answers[2].text = answers[2].redacted_text = "Гуси, конечно. Их хотя бы видно издалека."
    answers[2].check_status = "pending"
    db.flush()
    return world


def _page(client, world, lang="en") -> str:
    world.coordinator.locale = lang
    sa.orm.object_session(world.coordinator).flush()
    client.login(world.coordinator)
    stage = world.campaign.stages[0]
    response = client.get(f"/coordinate/campaigns/{world.campaign.id}/stages/{stage.id}"
                          f"/candidacies/{world.maria_candidacy.code}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_decision_page_shows_each_released_answer_as_reviewers_read_it(client, world):
    page = _page(client, world)
    assert 'Меня зовут <mark class="redacted">[name hidden]</mark>, я люблю русский язык.' in page
    assert "⟦" not in page
    assert "Уважаемый пользователь, ваша страница цела." in page
    assert "Мария" not in page and "Иванова" not in page


def test_an_answer_the_custodian_has_not_released_is_not_shown(client, world):
    page = _page(client, world)
    assert "Гуси, конечно." not in page
    assert "The custodian has not checked this answer yet" in page


def test_each_review_shows_its_criteria_by_title_and_its_comment(client, world, db):
    page = _page(client, world, lang="ru")
    reviews = re.findall(r'<ul class="reviews-of-answer">(.*?)</ul>', page, re.S)
    assert len(reviews) == 3
    first = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", reviews[0]))
    assert "R1" in first and "R2" in first
    assert "Грамотность" in first and "literacy" not in first
    comments = db.scalars(sa.select(Review.comment).join(Answer, Answer.id == Review.answer_id)
                          .join(Submission).where(
                              Submission.candidacy_id == world.maria_candidacy.id,
                              Submission.stage_id == world.campaign.stages[0].id,
                              Review.comment != "")).all()
    assert comments and all(html.escape(c) in page for c in comments)
    # The criterion averages are titled too, never by key.
    assert "<td>literacy</td>" not in page and "<td>Грамотность</td>" in page


def test_the_decision_is_a_fieldset_of_radio_buttons_with_a_legend(client, world, db):
    world.maria_candidacy.state = "submitted"
    world.maria_candidacy.current_stage_id = world.campaign.stages[0].id
    db.flush()
    page = _page(client, world)
    group = re.search(r'<fieldset class="field choices">\s*<legend>Decision</legend>'
                      r"(.*?)</fieldset>", page, re.S)
    assert group, "the outcome is a fieldset with a legend"
    assert len(re.findall(r'type="radio"', group.group(1))) == 3
