"""Reviewers drawing from one task at the same moment, through the real request path.

On PostgreSQL the draw locks its answer with FOR UPDATE SKIP LOCKED and moves the clock past
rows others hold without waiting for them; on SQLite writing requests queue for the lock.
Either way no slot is counted twice, nobody deadlocks, and every request gets an answer.
"""

from __future__ import annotations

import threading
from collections import Counter

import sqlalchemy as sa
from flask_login.utils import _create_identifier

from recruit.db import get_db, utcnow
from recruit.domain import tracks
from recruit.models import Answer, ReviewAssignment, Task
from tests.conftest import Client
from tests.reviewing import add_answers, add_reviewer

REVIEWERS = 6
ROUNDS = 6  # draws per reviewer, on average; the pool has 24 slots for 6 reviewers


def test_concurrent_draws_never_share_a_slot_or_fail(fresh_app):
    with fresh_app.app_context():
        db = get_db()
        tracks.load_shipped(db)
        now = utcnow()
        campaign = tracks.create_campaign(db, track_key="support-agent", key="rush",
                                          opens_at=now, closes_at=now.replace(year=now.year + 1))
        task = campaign.stages[0].tasks[1]
        task_id = task.id
        # Fewer slots than draws: some requests must find the pool empty, not fail.
        add_answers(db, campaign=campaign, count=12, reviews_wanted=2, tasks=[task])
        ids = [add_reviewer(db, campaign=campaign).get_id() for _ in range(REVIEWERS)]
        db.commit()

    statuses: Counter[int] = Counter()
    submitted: Counter[int] = Counter()
    errors: list[BaseException] = []
    start = threading.Barrier(REVIEWERS)

    def work(user_id: str) -> None:
        try:
            # The raw test client: Client's per-request clean-up needs an app context, and
            # each thread's requests push their own.
            client = fresh_app.test_client()
            with fresh_app.test_request_context(environ_base=client.environ_base):
                identifier = _create_identifier()
            with client.session_transaction() as sess:
                sess.update(_user_id=user_id, _fresh=True, _id=identifier)
            page = client.get("/login").get_data(as_text=True)
            match = Client.TOKEN.search(page)
            token = match.group(1) or match.group(2)
            start.wait(timeout=60)
            # Draw until the pool has nothing left for this reviewer (bounded).
            for _ in range(ROUNDS * 4):
                response = client.post(f"/review/tasks/{task_id}/next",
                                       data={"csrf_token": token})
                statuses[response.status_code] += 1
                if "/review/answers/" not in response.location:
                    break
                # Submitting also leases the next answer, which the next round gets back.
                done = client.post(response.location + "/submit",
                                   data={"csrf_token": token, **{f"c-{c}": "3"
                                                                 for c in criteria}})
                submitted[done.status_code] += 1
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    with fresh_app.app_context():
        criteria = [c.id for c in get_db().get(Task, task_id).criteria]
    threads = [threading.Thread(target=work, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert set(statuses) == {302}
    assert set(submitted) == {302}, submitted

    with fresh_app.app_context():
        db = get_db()
        answers = db.scalars(sa.select(Answer).where(Answer.task_id == task_id)).all()
        for answer in answers:
            rows = Counter(db.scalars(sa.select(ReviewAssignment.status)
                                      .where(ReviewAssignment.answer_id == answer.id)))
            assert answer.reviews_leased == rows["leased"]
            assert answer.reviews_done == rows["submitted"]
            assert answer.reviews_done + answer.reviews_leased <= answer.reviews_wanted
        # Every slot was taken, each by a different reviewer per answer.
        assert sum(a.reviews_done for a in answers) == 24
        pairs = db.execute(sa.select(ReviewAssignment.answer_id, ReviewAssignment.reviewer_id)
                           ).all()
        assert len(pairs) == len(set(pairs))
