"""From a submitted stage to the review pool: redaction, then custodian check or release."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from recruit.domain import assignment, integrity, redaction
from recruit.models import Answer, Submission


def normalise_newlines(text: str) -> str:
    """Turn CR LF and lone CR line ends into LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def accept_submission(db: Session, *, submission: Submission, identity: dict[str, str] | None,
                      reviews_per_answer: int, now: datetime) -> list[Answer]:
    """Redact every answer of a submitted stage; flagged answers wait for the custodian,
    the rest enter the review pool at once. ``identity`` holds the redactor's keys. The
    redacted answers are then compared with other applicants' (integrity flags)."""
    answers = list(submission.answers)
    for answer in answers:
        # Browsers send textarea lines ending in CR LF, but a page shows them as LF only: with
        # one convention the custodian's offsets (picked on the page) match the stored text.
        answer.text = normalise_newlines(answer.text or "")
        result = redaction.redact(answer.text, identity=identity, today=now.date())
        answer.redacted_text = result.text
        answer.redaction_spans = result.to_json()
        answer.reviews_wanted = reviews_per_answer
        if redaction.needs_custodian_check(result, original=answer.text, identity=identity):
            answer.check_status = "pending"
        else:
            answer.check_status = "released"
            answer.released_at = now
            answer.draw_key = assignment.pool_entry_key(task_id=answer.task_id)
    db.flush()
    # Flags for coordinators only; nothing here holds an answer back from review.
    integrity.record_paste_share(db, submission=submission)
    integrity.index_answers(db, answers=answers, now=now)
    return answers
