"""From a submitted stage to the review pool: redaction, then custodian check or release.

Intake runs in the request that hands a stage in, or — with ``INTAKE = "worker"`` — in
``recruit intake worker``: the hand-in then only records the stage (a short write), and the
worker redacts, indexes and confirms it moments later. A handed-in stage whose answers are
still drafts is *queued*; :func:`queued` finds them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from recruit.domain import assignment, integrity, redaction
from recruit.models import Answer, Candidacy, Submission


def normalise_newlines(text: str) -> str:
    """Turn CR LF and lone CR line ends into LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


@dataclass(frozen=True)
class Prepared:
    """What intake works out for one answer before it writes anything: pure computation, so
    a worker can do it without holding the write lock."""

    text: str
    # The redactor's keys it was worked out with: a profile changed since means redo it.
    identity: Mapping[str, str | None] | None
    redaction: redaction.Redaction
    check: bool
    signature: integrity.Signature


def prepare(answers: Sequence[Answer], *, identity: Mapping[str, str | None] | None,
            now: datetime) -> dict[int, Prepared]:
    """Redact and sign each answer (answer id → what to store); reads nothing from the
    database."""
    prepared = {}
    for answer in answers:
        # Browsers send textarea lines ending in CR LF, but a page shows them as LF only: with
        # one convention the custodian's offsets (picked on the page) match the stored text.
        text = normalise_newlines(answer.text or "")
        result = redaction.redact(text, identity=identity, today=now.date())
        prepared[answer.id] = Prepared(
            text=text, identity=identity, redaction=result,
            check=redaction.needs_custodian_check(result, original=text, identity=identity),
            signature=integrity.Signature.of(answer_id=answer.id, task_id=answer.task_id,
                                             text=result.text))
    return prepared


def accept_submission(db: Session, *, submission: Submission, identity: dict[str, str] | None,
                      reviews_per_answer: int, now: datetime,
                      prepared: Mapping[int, Prepared] | None = None) -> list[Answer]:
    """Redact every answer of a submitted stage; flagged answers wait for the custodian,
    the rest enter the review pool at once. ``identity`` holds the redactor's keys. The
    redacted answers are then compared with other applicants' (integrity flags).

    ``prepared`` (from :func:`prepare`) is used for every answer whose text and identity it
    was worked out from; anything else is redacted here."""
    answers = list(submission.answers)
    ready = dict(prepared or {})
    stale = [a for a in answers
             if a.id not in ready or ready[a.id].text != normalise_newlines(a.text or "")
             or ready[a.id].identity != identity]
    ready.update(prepare(stale, identity=identity, now=now))
    for answer in answers:
        done = ready[answer.id]
        answer.text = done.text
        answer.redacted_text = done.redaction.text
        answer.redaction_spans = done.redaction.to_json()
        answer.reviews_wanted = reviews_per_answer
        if done.check:
            answer.check_status = "pending"
        else:
            answer.check_status = "released"
            answer.released_at = now
            answer.draw_key = assignment.pool_entry_key(task_id=answer.task_id)
    db.flush()
    # Flags for coordinators only; nothing here holds an answer back from review.
    integrity.record_paste_share(db, submission=submission)
    integrity.index_answers(db, answers=answers, now=now,
                            signatures={a.id: ready[a.id].signature for a in answers})
    return answers


def queued(*, user_id: int | None = None) -> sa.Select:
    """The ids of handed-in stages not yet taken in, oldest first (a select to add a limit
    and a lock to)."""
    waiting = (sa.select(Answer.id).where(Answer.submission_id == Submission.id,
                                          Answer.check_status == "draft").exists())
    query = (sa.select(Submission.id)
             .where(Submission.submitted_at.is_not(None), waiting)
             .order_by(Submission.submitted_at, Submission.id))
    if user_id is not None:
        query = query.where(Submission.candidacy_id.in_(
            sa.select(Candidacy.id).where(Candidacy.user_id == user_id)))
    return query
