"""Integrity flags for coordinators (issue 18, items 3 and 4): the ranking's Flags column,
the candidacy page, two answers side by side, the campaign's integrity page and report
section; cut-offs leave flagged candidacies alone and decisions keep the flags."""

from __future__ import annotations

import random
import re

import pytest
import sqlalchemy as sa

from bench.integrity_corpus import LIGHT, edited_copy, independent_answer
from recruit.db import utcnow
from recruit.domain import integrity
from recruit.models import Candidacy, Decision, Role, SimilarPair
from recruit.reports import data as report_data
from tests.decision_data import applicant, hand_in, reviewers, two_stage_campaign
from tests.factories import make_user
from tests.reviewing import count_queries

NAMES = [("Анна", "Орлова"), ("Борис", "Щукин"), ("Вера", "Ершова"), ("Глеб", "Карпов"),
         ("Дарья", "Лунина"), ("Егор", "Минин")]


def _flagged_world(db):
    campaign = two_stage_campaign(db)
    stage = campaign.stages[0]
    by = reviewers(db, 2)
    rng = random.Random(18)
    original = independent_answer(rng)
    texts = [original, edited_copy(original, rng, LIGHT)] + [
        independent_answer(rng) for _ in range(len(NAMES) - 2)]
    candidacies, answers = [], []
    for n, ((first, last), text) in enumerate(zip(NAMES, texts, strict=True)):
        candidacy = applicant(db, campaign=campaign, first=first, last=last)
        submission = hand_in(db, candidacy=candidacy, stage=stage, by=by,
                             scores={}, default=3 + n % 3)
        first_answer = min(submission.answers, key=lambda a: a.task_id)
        first_answer.redacted_text = text
        if n == 2:
            first_answer.typed_chars, first_answer.pasted_chars = 100, 900
            first_answer.longest_paste = 850
        candidacies.append(candidacy)
        answers.append(first_answer)
        db.flush()
        integrity.record_paste_share(db, submission=submission)
        integrity.index_answers(db, answers=[first_answer], now=utcnow())
    coordinator = make_user(db, role=Role.COORDINATOR, locale="en")
    return campaign, stage, candidacies, answers, coordinator


@pytest.fixture
def world(db):
    return _flagged_world(db)


def _ranking(client, campaign, stage, **args) -> str:
    response = client.get(f"/coordinate/campaigns/{campaign.id}/stages/{stage.id}/decisions",
                          query_string=args)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _row(page: str, code: str) -> str:
    match = re.search(rf"<tr>\s*<td class=\"num\">\d+</td>\s*<td><a [^>]*><code>{code}</code>"
                      r"(.*?)</tr>", page, re.S)
    assert match, code
    return match.group(1)


def test_the_ranking_flags_the_alike_and_the_pasted_and_nobody_else(client, db, world):
    campaign, stage, candidacies, _answers, coordinator = world
    client.login(coordinator)
    page = _ranking(client, campaign, stage)
    a, b, c, *rest = (x.code for x in candidacies)
    assert re.search(r"similar \d\d%", _row(page, a))
    assert re.search(r"similar \d\d%", _row(page, b))
    assert "pasted 90%" in _row(page, c) and "similar" not in _row(page, c)
    for code in rest:
        assert "similar" not in _row(page, code) and "pasted" not in _row(page, code)


def test_the_flags_cost_the_ranking_no_query_per_row(client, app, db, world):
    campaign, stage, _candidacies, _answers, coordinator = world
    client.login(coordinator)
    engine = app.extensions["recruit.engine"]
    _ranking(client, campaign, stage)
    with count_queries(engine) as before:
        _ranking(client, campaign, stage)
    # Four more flagged candidacies on the same page.
    by = reviewers(db, 2)
    text = independent_answer(random.Random(99))
    for n in range(4):
        candidacy = applicant(db, campaign=campaign, first="Ян", last=f"Копия{n}")
        submission = hand_in(db, candidacy=candidacy, stage=stage, by=by, scores={})
        answer = min(submission.answers, key=lambda a: a.task_id)
        answer.redacted_text = text
        db.flush()
        integrity.index_answers(db, answers=[answer], now=utcnow())
    _ranking(client, campaign, stage)
    with count_queries(engine) as after:
        page = _ranking(client, campaign, stage)
    assert page.count("similar 100%") == 4
    assert len(after) == len(before)


def test_the_candidacy_page_names_the_other_code_and_links_both_answers(client, db, world):
    campaign, stage, candidacies, _answers, coordinator = world
    client.login(coordinator)
    url = f"/coordinate/campaigns/{campaign.id}/stages/{stage.id}/candidacies/"
    page = client.get(url + candidacies[0].code).get_data(as_text=True)
    assert re.search(rf"Answer 1 is \d\d% similar to {candidacies[1].code}'s", page)
    pair = db.scalar(sa.select(SimilarPair))
    link = f"{url}{candidacies[0].code}/similar/{pair.id}"
    assert link in page
    side = client.get(link)
    assert side.status_code == 200
    text = side.get_data(as_text=True)
    assert candidacies[0].code in text and candidacies[1].code in text
    assert text.count('<div class="answer-text">') == 2
    marked = re.findall(r'<mark class="match">(.*?)</mark>', text, re.S)
    assert len(marked) >= 4
    assert all(m.strip() for m in marked)
    # Paste counts on the page of the one who pasted.
    pasted = client.get(url + candidacies[2].code).get_data(as_text=True)
    assert "Answer 1: 90% of the characters entered were pasted" in pasted
    assert "the longest paste 850" in pasted


def test_answers_typed_whole_add_no_lines_and_no_panel(client, db, world):
    """Counts that show nothing pasted say nothing: the page of a candidacy that typed every
    answer has no integrity panel, and the one who pasted sees only that answer's line."""
    campaign, stage, candidacies, _answers, coordinator = world
    typed = candidacies[3]
    for submission in typed.submissions:
        for answer in submission.answers:
            answer.typed_chars = 700
        integrity.record_paste_share(db, submission=submission)
    for answer in candidacies[2].submissions[0].answers:
        answer.typed_chars = answer.typed_chars or 400
    db.flush()
    client.login(coordinator)
    url = f"/coordinate/campaigns/{campaign.id}/stages/{stage.id}/candidacies/"
    page = client.get(url + typed.code).get_data(as_text=True)
    assert "Integrity of the answers" not in page and "were pasted" not in page
    pasted = client.get(url + candidacies[2].code).get_data(as_text=True)
    assert "Answer 1: 90% of the characters entered were pasted" in pasted
    assert not re.search(r"Answer [23]: \d+% of the characters", pasted)


def test_a_pair_is_shown_only_from_the_page_of_one_of_its_candidacies(client, db, world):
    campaign, stage, candidacies, _answers, coordinator = world
    client.login(coordinator)
    pair = db.scalar(sa.select(SimilarPair))
    url = f"/coordinate/campaigns/{campaign.id}/stages/{stage.id}/candidacies/"
    assert client.get(f"{url}{candidacies[3].code}/similar/{pair.id}").status_code == 404
    assert client.get(f"{url}{candidacies[0].code}/similar/99999999").status_code == 404
    assert client.get(f"{url}{candidacies[0].code}/similar/{2**70}").status_code == 404


def test_an_unreleased_answer_is_not_shown_beside_its_match(client, db, world):
    campaign, stage, candidacies, answers, coordinator = world
    answers[1].check_status = "pending"
    db.flush()
    client.login(coordinator)
    pair = db.scalar(sa.select(SimilarPair))
    text = client.get(f"/coordinate/campaigns/{campaign.id}/stages/{stage.id}/candidacies/"
                      f"{candidacies[0].code}/similar/{pair.id}").get_data(as_text=True)
    assert text.count('<div class="answer-text">') == 1
    assert "The custodian has not checked this answer yet" in text


def test_reviewers_are_refused_the_flag_pages_and_their_pages_carry_no_flags(client, db,
                                                                            world):
    campaign, stage, candidacies, _answers, _coordinator = world
    reviewer = make_user(db, role=Role.REVIEWER)
    client.login(reviewer)
    pair = db.scalar(sa.select(SimilarPair))
    assert client.get(f"/coordinate/campaigns/{campaign.id}/stages/{stage.id}/candidacies/"
                      f"{candidacies[0].code}/similar/{pair.id}").status_code == 403
    assert client.get(f"/coordinate/campaigns/{campaign.id}/integrity").status_code == 403
    from pathlib import Path

    import recruit.web.review as review_views
    reviewer_code = Path(review_views.__file__).read_text(encoding="utf-8") + "".join(
        p.read_text(encoding="utf-8") for p in Path("templates/review").glob("*.html"))
    for word in ("integrity", "similar", "pasted", "typed_chars", "SimilarPair"):
        assert word not in reviewer_code


def test_a_cutoff_leaves_flagged_candidacies_to_be_decided_one_by_one(client, db, world):
    campaign, stage, candidacies, _answers, coordinator = world
    client.login(coordinator)
    page = _ranking(client, campaign, stage, kind="top_n", value="10")
    assert "<strong>3</strong> flagged for integrity" in page
    token = client.csrf_token()
    advance = re.search(r'name="expect_advance" type="hidden" value="(\d+)"', page).group(1)
    reject = re.search(r'name="expect_reject" type="hidden" value="(\d+)"', page).group(1)
    assert int(advance) + int(reject) == 3
    response = client.post(f"/coordinate/campaigns/{campaign.id}/stages/{stage.id}/cutoff",
                           data={"csrf_token": token, "kind": "top_n", "value": "10",
                                 "expect_advance": advance, "expect_reject": reject})
    assert response.status_code == 302
    db.expire_all()
    states = {c.code: db.get(Candidacy, c.id).state for c in candidacies}
    assert [states[c.code] for c in candidacies[:3]] == ["submitted"] * 3
    assert all(states[c.code] != "submitted" for c in candidacies[3:])


def test_a_decision_on_a_flagged_candidacy_keeps_its_reason_and_its_flags(client, db, world):
    campaign, stage, candidacies, _answers, coordinator = world
    client.login(coordinator)
    url = (f"/coordinate/campaigns/{campaign.id}/stages/{stage.id}/candidacies/"
           f"{candidacies[0].code}")
    assert "This candidacy is flagged" in client.get(url).get_data(as_text=True)
    refused = client.post_form(url, {"outcome": "advance", "reason": ""})
    assert refused.status_code == 400
    client.post_form(url, {"outcome": "hold", "reason": "Asked both to explain the match."})
    decision = db.scalar(sa.select(Decision).where(Decision.candidacy_id == candidacies[0].id))
    assert decision.reason == "Asked both to explain the match."
    assert [(f["kind"], f["task"], f["code"]) for f in decision.flags] == [
        ("similar", 1, candidacies[1].code)]
    page = client.get(url).get_data(as_text=True)
    assert "Decided while flagged:" in page
    assert f"similar to {candidacies[1].code}" in page


def test_the_integrity_page_counts_pairs_and_changes_the_thresholds(client, db, world):
    campaign, stage, candidacies, _answers, coordinator = world
    client.login(coordinator)
    url = f"/coordinate/campaigns/{campaign.id}/integrity"
    page = client.get(url).get_data(as_text=True)
    assert re.search(r"Pairs of alike answers</dt><dd>1 ", page)
    bad = client.post_form(url, {"similarity_threshold": "20", "paste_threshold": "50"})
    assert bad.status_code == 400
    assert "Between 25 and 100 per cent." in bad.get_data(as_text=True)
    ok = client.post_form(url, {"similarity_threshold": "100", "paste_threshold": "95"})
    assert ok.status_code == 302
    page = _ranking(client, campaign, stage)
    assert "similar" not in _row(page, candidacies[0].code)
    assert "pasted" not in _row(page, candidacies[2].code)
    client.post_form(url, {"similarity_threshold": "30", "paste_threshold": "90"})
    assert "pasted 90%" in _row(_ranking(client, campaign, stage), candidacies[2].code)


def test_the_campaign_report_has_pairs_a_histogram_and_clusters(db, world, app):
    campaign, stage, candidacies, answers, _coordinator = world
    # A third copy makes a cluster of three.
    third = applicant(db, campaign=campaign, first="Жанна", last="Тройкина")
    submission = hand_in(db, candidacy=third, stage=stage, by=reviewers(db, 2), scores={})
    answer = min(submission.answers, key=lambda a: a.task_id)
    answer.redacted_text = answers[0].redacted_text
    db.flush()
    integrity.index_answers(db, answers=[answer], now=utcnow())
    with app.test_request_context():
        context = report_data.campaign_report_context(db, campaign=campaign, locale="ru")
    section = context["integrity"]
    assert section["pairs"] == 3
    assert section["flagged_similar"] == 3 and section["flagged_pasted"] == 1
    assert "<svg" in section["histogram_svg"] and 'class="bar"' in section["histogram_svg"]
    assert section["clusters"] == [{"task": "Задание 1", "codes": sorted(
        [candidacies[0].code, candidacies[1].code, third.code]),
        "highest": section["clusters"][0]["highest"]}]
    assert section["clusters"][0]["highest"] == "100\xa0%"


def test_answers_from_before_comparison_are_counted_as_not_compared(client, db, world):
    campaign, _stage, _candidacies, answers, coordinator = world
    before = integrity.campaign_integrity(db, campaign=campaign)
    for table in (integrity.AnswerBand, integrity.AnswerSignature):
        db.execute(sa.delete(table).where(table.answer_id == answers[3].id))
    after = integrity.campaign_integrity(db, campaign=campaign)
    assert (after.signed, after.unsigned) == (before.signed - 1, before.unsigned + 1)
    client.login(coordinator)
    page = client.get(f"/coordinate/campaigns/{campaign.id}/integrity").get_data(as_text=True)
    assert f"{after.unsigned} answers handed in before comparison existed" in page
    report = integrity.index_campaign(db, campaign=campaign, now=utcnow())
    assert report.signed == after.unsigned
    assert integrity.campaign_integrity(db, campaign=campaign).unsigned == 0
