"""Identity custody: the custodian's check of redacted answers, reveals, contact requests.

Every function here changes state for the one custodian (or asks them for something) and
leaves a trace: releases and reveals are written to the hash-chained audit log.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from recruit import vault
from recruit.domain import accounts, assignment, audit
from recruit.domain.redaction import KINDS, Span, apply_spans
from recruit.models import (
    Answer,
    Campaign,
    CampaignReviewer,
    Candidacy,
    ContactRequest,
    Role,
    Submission,
    User,
)

REASON_MAX = 500
MESSAGE_MAX = 2000
PHRASE_MAX = 200


class CustodyError(Exception):
    """A custody action that cannot be done, with a reason code for the caller."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


# -- the check of redacted answers -----------------------------------------------------------

def _spans_of(answer: Answer) -> list[Span]:
    return [Span.from_json(s) for s in answer.redaction_spans or []]


def _store_spans(answer: Answer, spans: list[Span]) -> None:
    unique = sorted(set(spans), key=lambda s: (s.start, s.end, s.kind, s.flag))
    # A new list object, so the JSON column is seen as changed.
    answer.redaction_spans = [s.to_json() for s in unique]
    answer.redacted_text = apply_spans(answer.text, unique)


def open_flags(answer: Answer) -> int:
    """How many of the automatic pass's suggestions the custodian has not decided on."""
    return sum(1 for s in _spans_of(answer) if s.flag)


def _require_checkable(answer: Answer) -> None:
    if answer.check_status == "draft":
        raise CustodyError("draft", "this answer has not been submitted yet")


def mark_span(*, answer: Answer, kind: str, start: int, end: int) -> Span:
    """Redact one more stretch ``[start, end)`` of an answer's original text."""
    _require_checkable(answer)
    if kind not in KINDS:
        raise CustodyError("bad_kind", f"unknown kind of redaction {kind!r}")
    if not 0 <= start < end <= len(answer.text):
        raise CustodyError("bad_range", f"the stretch {start}–{end} is not inside the answer "
                                        f"(0–{len(answer.text)})")
    span = Span(kind=kind, start=start, end=end)
    _store_spans(answer, [*_spans_of(answer), span])
    return span


def mark_phrase(*, answer: Answer, phrase: str, kind: str) -> int:
    """Redact every occurrence of a phrase (any capitalisation); returns how many were found."""
    _require_checkable(answer)
    phrase = phrase.strip()
    if not phrase:
        raise CustodyError("empty_phrase", "the phrase is empty")
    if len(phrase) > PHRASE_MAX:
        raise CustodyError("long_phrase", f"the phrase is longer than {PHRASE_MAX} characters")
    if kind not in KINDS:
        raise CustodyError("bad_kind", f"unknown kind of redaction {kind!r}")
    found = [Span(kind=kind, start=m.start(), end=m.end())
             for m in re.finditer(re.escape(phrase), answer.text, re.IGNORECASE)]
    if not found:
        raise CustodyError("not_found", "the phrase does not occur in the answer")
    _store_spans(answer, [*_spans_of(answer), *found])
    return len(found)


def confirm_flag(*, answer: Answer, start: int, end: int) -> None:
    """Keep a suggested redaction hidden for good: the custodian agrees it identifies."""
    _require_checkable(answer)
    spans = _spans_of(answer)
    if not any((s.start, s.end) == (start, end) and s.flag for s in spans):
        raise CustodyError("no_flag", f"no suggestion at {start}–{end}")
    _store_spans(answer, [Span(kind=s.kind, start=s.start, end=s.end)
                          if (s.start, s.end) == (start, end) else s for s in spans])


def unmark_span(*, answer: Answer, start: int, end: int) -> None:
    """Take back a redaction the custodian judged wrong, while the answer still waits."""
    if answer.check_status != "pending":
        # Reviewers may already have read the redacted text; showing them more now would
        # reveal after the fact what the redaction hid.
        raise CustodyError("released", "a released answer can only be redacted further")
    spans = _spans_of(answer)
    kept = [s for s in spans if (s.start, s.end) != (start, end)]
    if len(kept) == len(spans):
        raise CustodyError("no_span", f"no redaction at {start}–{end}")
    _store_spans(answer, kept)


def release_answer(db: Session, *, answer: Answer, by: User | None, now: datetime) -> None:
    """Let a checked answer into the review pool (audited)."""
    if answer.check_status != "pending":
        raise CustodyError("not_pending", "this answer is not waiting for the check")
    answer.check_status = "released"
    answer.released_at = now
    answer.draw_key = assignment.pool_entry_key(task_id=answer.task_id)
    # Suggestions left undecided stay hidden: releasing never shows more than was checked.
    audit.record(db, action="answer.release", actor_id=by.id if by else None,
                 subject=f"answer:{answer.token}",
                 details={"spans": len(answer.redaction_spans or []),
                          "open_flags": open_flags(answer)})


def auto_release(db: Session, *, now: datetime) -> int:
    """Release answers left unchecked longer than their campaign allows; returns how many."""
    rows = db.execute(
        select(Answer, Submission.submitted_at, Campaign.key, Campaign.auto_release_hours)
        .join(Submission, Submission.id == Answer.submission_id)
        .join(Candidacy, Candidacy.id == Submission.candidacy_id)
        .join(Campaign, Campaign.id == Candidacy.campaign_id)
        .where(Answer.check_status == "pending", Campaign.auto_release_hours.is_not(None))
    ).all()
    released: Counter[str] = Counter()
    for answer, submitted_at, campaign_key, hours in rows:
        since = submitted_at or answer.saved_at
        if since is not None and now - since >= timedelta(hours=hours):
            answer.check_status = "released"
            answer.released_at = now
            answer.draw_key = assignment.pool_entry_key(task_id=answer.task_id)
            released[campaign_key] += 1
    if released:
        audit.record(db, action="answer.auto_release", actor_id=None, subject="answers",
                     details={"count": sum(released.values()), "campaigns": dict(released)})
    return sum(released.values())


# -- reveals ---------------------------------------------------------------------------------

def reveal_identity(db: Session, *, candidacy: Candidacy, by: User,
                    reason: str) -> vault.IdentityData | None:
    """Open the identity behind one candidacy for the custodian; the view is audited first."""
    if not by.is_custodian:
        raise CustodyError("not_custodian", "only the custodian can open an identity")
    reason = " ".join(reason.split())
    if not reason:
        raise CustodyError("no_reason", "give a reason for opening this identity")
    if len(reason) > REASON_MAX:
        raise CustodyError("long_reason", f"the reason is longer than {REASON_MAX} characters")
    audit.record(db, action="identity.view", actor_id=by.id,
                 subject=f"candidacy:{candidacy.code}", details={"reason": reason})
    if candidacy.user_id is None:
        return None
    return vault.open_identity_of(db, user_id=candidacy.user_id)


# -- contact requests ------------------------------------------------------------------------

def request_contact(db: Session, *, candidacy: Candidacy, by: User, message: str,
                    now: datetime) -> ContactRequest:
    """Ask the custodian to contact a candidacy; the asker never learns who it is."""
    message = message.strip()
    if not message:
        raise CustodyError("empty_message", "write what the custodian should tell the candidate")
    if len(message) > MESSAGE_MAX:
        raise CustodyError("long_message",
                           f"the message is longer than {MESSAGE_MAX} characters")
    request = ContactRequest(candidacy_id=candidacy.id, requested_by_id=by.id, message=message,
                             created_at=now)
    db.add(request)
    db.flush()
    return request


def handle_contact_request(*, request: ContactRequest, by: User, now: datetime) -> None:
    """Mark a contact request done."""
    if request.handled_at is not None:
        raise CustodyError("handled", "this request was already handled")
    request.handled_at = now
    request.handled_by_id = by.id


# -- handover --------------------------------------------------------------------------------

def eligible_successors(db: Session, *, current: User | None) -> list[User]:
    """Coordinators who could take the custodian flag (active, never in a reviewer pool)."""
    in_pool = select(CampaignReviewer.user_id)
    query = (select(User).where(User.role == Role.COORDINATOR, User.active.is_(True),
                                User.is_custodian.is_(False), User.id.not_in(in_pool))
             .order_by(User.email))
    if current is not None:
        query = query.where(User.id != current.id)
    return list(db.scalars(query))


def hand_over(db: Session, *, to: User, by: User) -> None:
    """Pass the custodian flag from ``by`` to another coordinator (audited by accounts)."""
    if not by.is_custodian:
        raise CustodyError("not_custodian", "only the custodian can hand the flag over")
    if to.id == by.id:
        raise CustodyError("same_user", "you already are the custodian")
    try:
        accounts.make_custodian(db, user=to, by=by)
    except accounts.AccountError as exc:
        raise CustodyError(exc.code, str(exc)) from exc
