"""Paste counters (issue 18, item 2): counted by the stage page, sent with saves, added in the
save's compare-and-set, so two tabs neither lose nor double-count; the applicant is told."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from recruit.models import Answer, Submission
from tests.web import test_applicant as journey

# The applicant journey's fixtures: a campaign, an applicant who applied and started stage 1.
frozen, campaign, applicant = journey.frozen, journey.campaign, journey.applicant
applied, started = journey.applied, journey.started
stage_url, visible = journey.stage_url, journey.visible


def save(client, answer, text: str, version: int, counts: dict | None = None):
    body = {"text": text, "version": version}
    if counts is not None:
        body["input"] = counts
    return client.post(f"/me/answers/{answer.id}/autosave", json=body,
                       headers={"X-CSRFToken": client.csrf_token(),
                                "Accept": "application/json"})


def counters(db, answer) -> tuple[int, int, int]:
    db.expire_all()
    row = db.get(Answer, answer.id)
    return row.typed_chars, row.pasted_chars, row.longest_paste


def test_the_stage_page_tells_the_applicant_what_is_counted(client, started, applied):
    page = client.get(stage_url(applied))
    text = visible(page)
    assert "how many characters were typed and how many were pasted" in text
    assert "never what you pasted" in text
    html = page.get_data(as_text=True)
    for name in ("typed", "pasted", "longest"):
        assert f'name="{name}-{started.answers[0].id}"' in html


def test_autosave_adds_the_counts_it_carries(client, db, started):
    answer = started.answers[0]
    assert save(client, answer, "abc", 0, {"typed": 3, "pasted": 0, "longest": 0}).status_code \
        == 200
    assert save(client, answer, "abc" + "x" * 500, 1,
                {"typed": 0, "pasted": 500, "longest": 500}).status_code == 200
    assert save(client, answer, "abc" + "x" * 520, 2,
                {"typed": 0, "pasted": 20, "longest": 20}).status_code == 200
    assert counters(db, answer) == (3, 520, 500)


def test_two_tabs_neither_lose_nor_double_count(client, db, started):
    """Tab A and tab B both start from version 0. A's save wins; B's is refused and adds
    nothing, then goes through on the newer version and adds B's counts; A's request sent
    again (a lost answer, a retry) is refused and adds nothing a second time."""
    answer = started.answers[0]
    tab_a = {"typed": 40, "pasted": 0, "longest": 0}
    tab_b = {"typed": 5, "pasted": 300, "longest": 300}
    assert save(client, answer, "A" * 40, 0, tab_a).status_code == 200
    refused = save(client, answer, "B" * 305, 0, tab_b)
    assert refused.status_code == 409 and refused.json["version"] == 1
    assert counters(db, answer) == (40, 0, 0)
    assert save(client, answer, "B" * 305, 1, tab_b).status_code == 200
    assert counters(db, answer) == (45, 300, 300)
    assert save(client, answer, "A" * 40, 0, tab_a).status_code == 409
    assert counters(db, answer) == (45, 300, 300)


def test_a_save_after_the_deadline_adds_no_counts(client, db, started, frozen):
    answer = started.answers[0]
    frozen.set(started.deadline_at)
    response = save(client, answer, "late", 0, {"typed": 4, "pasted": 0, "longest": 0})
    assert response.status_code == 409
    assert counters(db, answer) == (0, 0, 0)


@pytest.mark.parametrize("counts", [
    {"typed": -1, "pasted": 0, "longest": 0}, {"typed": "3", "pasted": 0, "longest": 0},
    {"typed": 0, "pasted": 10, "longest": 11}, {"typed": True, "pasted": 0, "longest": 0},
    {"typed": 10**12, "pasted": 0, "longest": 0}, [1, 2, 3]],
    ids=["negative", "string", "longest-above-pasted", "bool", "huge", "list"])
def test_nonsense_counts_are_refused_with_a_message_and_nothing_saved(client, db, started,
                                                                      counts):
    answer = started.answers[0]
    response = save(client, answer, "kept in the browser", 0, counts)
    assert response.status_code == 400
    assert response.json["error"] == "bad_counts"
    assert "kept in this browser" in response.json["message"]
    db.expire_all()
    assert db.get(Answer, answer.id).version == 0


def test_the_form_without_script_saves_text_and_the_counts_it_carries(client, db, started,
                                                                      applied):
    first, second = sorted(started.answers, key=lambda a: a.task.position)[:2]
    client.post_form(stage_url(applied, "/save"), {
        f"text-{first.id}": "typed in the form", f"version-{first.id}": "0",
        f"typed-{first.id}": "17", f"pasted-{first.id}": "0", f"longest-{first.id}": "0",
        # Nonsense counts lose the counts, never the text.
        f"text-{second.id}": "second answer", f"version-{second.id}": "0",
        f"typed-{second.id}": "lots", "action": "save"})
    assert counters(db, first) == (17, 0, 0)
    assert counters(db, second) == (0, 0, 0)
    assert db.get(Answer, second.id).text == "second answer"


def test_submitting_stores_the_highest_pasted_share(client, db, started, applied):
    answers = sorted(started.answers, key=lambda a: a.task.position)
    for answer, (typed, pasted) in zip(answers, [(100, 900), (500, 50), (0, 0)], strict=True):
        text = " ".join(["слово"] * 120)
        assert save(client, answer, text, 0, {"typed": typed, "pasted": pasted,
                                              "longest": pasted}).status_code == 200
    client.post_form(stage_url(applied, "/submit"))
    db.expire_all()
    submission = db.scalar(sa.select(Submission).where(Submission.id == started.id))
    assert submission.submitted_at is not None
    # 90 % pasted in answer 1; answer 2 pasted under 100 characters, so it counts as none.
    assert submission.pasted_share == pytest.approx(0.9)
