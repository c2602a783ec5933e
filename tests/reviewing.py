"""Helpers for review tests: answers in bulk, reviewers in a pool, query counting."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event, insert

from recruit.db import utcnow
from recruit.domain import assignment
from recruit.domain.pseudonyms import new_answer_token, new_candidacy_code
from recruit.models import Answer, Candidacy, Role, Submission
from tests.factories import make_user


def add_answers(db, *, campaign, count: int, reviews_wanted: int = 2, tasks=None,
                text: str = "A calm and clear reply to the customer.") -> list[dict[int, int]]:
    """Insert ``count`` submitted candidacies of stage 1 in bulk, released for review.

    Submissions are one second apart in creation order. Returns, per candidacy in
    submission order, {task_id: answer_id}.
    """
    stage = campaign.stages[0]
    tasks = tasks if tasks is not None else stage.tasks
    now = utcnow()
    codes: set[str] = set()
    while len(codes) < count:
        codes.add(new_candidacy_code())
    candidacy_ids = db.scalars(
        insert(Candidacy).returning(Candidacy.id, sort_by_parameter_order=True),
        [{"code": code, "campaign_id": campaign.id, "state": "submitted",
          "current_stage_id": stage.id} for code in sorted(codes)],
    ).all()
    submission_ids = db.scalars(
        insert(Submission).returning(Submission.id, sort_by_parameter_order=True),
        [{"candidacy_id": cid, "stage_id": stage.id, "started_at": now + timedelta(seconds=i),
          "deadline_at": now + timedelta(hours=2), "submitted_at": now + timedelta(seconds=i)}
         for i, cid in enumerate(candidacy_ids)],
    ).all()
    rows = [{"submission_id": sid, "task_id": task.id, "token": new_answer_token(), "text": text,
             "redacted_text": text, "version": 1, "check_status": "released",
             "released_at": now + timedelta(seconds=i), "reviews_wanted": reviews_wanted}
            for i, sid in enumerate(submission_ids) for task in tasks]
    answer_ids = db.scalars(
        insert(Answer).returning(Answer.id, sort_by_parameter_order=True), rows).all()
    position = {sid: i for i, sid in enumerate(submission_ids)}
    result: list[dict[int, int]] = [{} for _ in submission_ids]
    for row, answer_id in zip(rows, answer_ids, strict=True):
        result[position[row["submission_id"]]][row["task_id"]] = answer_id
    return result


def add_reviewer(db, *, campaign):
    """A new reviewer account in the campaign's pool."""
    user = make_user(db, role=Role.REVIEWER)
    assignment.join_pool(db, campaign=campaign, user=user, by=None)
    return user


@contextmanager
def count_queries(engine) -> Iterator[list[str]]:
    """Collect every SQL statement sent to the database inside the block."""
    statements: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listener)
