"""The applicant's side of the pipeline: eligibility, applying, waitlist, taking stages,
withdrawing, exporting and erasing one's own data.

Functions take ``db`` and ``now`` and never commit; a refusal raises :class:`ApplicationError`
with a code the web layer turns into a message in the applicant's language.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from recruit import vault
from recruit.domain import audit, intake, notify
from recruit.domain.eligibility import Outcome, Rules, check
from recruit.domain.pipeline import TRANSITIONS, Event, State, transition
from recruit.domain.pseudonyms import new_candidacy_code
from recruit.models import (
    Answer,
    Campaign,
    Candidacy,
    Decision,
    EligibilityCheck,
    Identity,
    Offer,
    OutboxMessage,
    Stage,
    Submission,
    User,
    WaitlistEntry,
)

# A hard cap against pasted megabytes; far above any task's word limit, so never a silent cut
# of real work: a longer text is refused whole with a message, and stays in the browser.
MAX_ANSWER_CHARS = 60_000

# Words are runs of letters or digits, joined by inner hyphens or apostrophes ("e-mail",
# "don't", "из-за"); autosave.js counts with the same rule so both sides agree.
_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")

CODE_ATTEMPTS = 8


class ApplicationError(Exception):
    """A refused applicant action; ``code`` picks the message, ``params`` fill it in."""

    def __init__(self, code: str, message: str, **params) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


# -- words -------------------------------------------------------------------------------------

def word_count(text: str) -> int:
    """Count the words of an answer (letters or digits, inner hyphens and apostrophes kept)."""
    return len(_WORD.findall(text or ""))


def word_limit_problem(*, words: int, min_words: int, max_words: int | None) -> str | None:
    """'too_short', 'too_long' or None when a word count meets a task's limits."""
    if words < (min_words or 0):
        return "too_short"
    if max_words is not None and words > max_words:
        return "too_long"
    return None


# -- eligibility -------------------------------------------------------------------------------

def rules_of(campaign: Campaign | None) -> Rules:
    """The eligibility rules of a campaign; the shipped defaults when there is none (waitlist)."""
    if campaign is None:
        return Rules()
    return Rules(
        min_age=campaign.min_age,
        citizenships=tuple(campaign.citizenships),
        acknowledgements=tuple(a["key"] for a in campaign.acknowledgements or ()),
    )


def check_eligibility(db: Session, *, user: User, campaign: Campaign | None, birth_date: date,
                      citizenship: str, acknowledged: Collection[str], on: date,
                      now: datetime) -> Outcome:
    """Check an applicant against a campaign's rules and record the outcome for statistics."""
    outcome = check(rules=rules_of(campaign), birth_date=birth_date, citizenship=citizenship,
                    acknowledged=acknowledged, on=on)
    db.add(EligibilityCheck(user_id=user.id, campaign_id=campaign.id if campaign else None,
                            passed=outcome.passed,
                            reasons=[f.code for f in outcome.failures], checked_at=now))
    db.flush()
    return outcome


# -- applying and the waitlist -----------------------------------------------------------------

def open_campaigns(db: Session, *, now: datetime) -> list[Campaign]:
    """Campaigns accepting applications at ``now``, closing soonest first."""
    return list(db.scalars(
        sa.select(Campaign).where(Campaign.opens_at <= now, Campaign.closes_at > now)
        .order_by(Campaign.closes_at, Campaign.id)))


def candidacy_of(db: Session, *, user: User, campaign: Campaign) -> Candidacy | None:
    """The user's candidacy in a campaign, if they applied."""
    return db.scalar(sa.select(Candidacy).where(Candidacy.user_id == user.id,
                                                Candidacy.campaign_id == campaign.id))


def apply(db: Session, *, user: User, campaign: Campaign, now: datetime) -> Candidacy:
    """Create the user's candidacy in an open campaign (once per campaign)."""
    if not campaign.is_open(now):
        raise ApplicationError("campaign_closed", "this campaign does not accept applications")
    if candidacy_of(db, user=user, campaign=campaign) is not None:
        raise ApplicationError("already_applied", "you already applied to this campaign")
    first = campaign.stages[0] if campaign.stages else None
    for _attempt in range(CODE_ATTEMPTS):
        candidacy = Candidacy(code=new_candidacy_code(), user_id=user.id,
                              campaign_id=campaign.id, state=State.APPLIED.value,
                              current_stage_id=first.id if first else None,
                              created_at=now, updated_at=now)
        try:
            # A savepoint, so a clash of random codes (rare, see pseudonyms) costs one retry,
            # not the whole request.
            with db.begin_nested():
                db.add(candidacy)
                db.flush()
        except IntegrityError:
            if candidacy_of(db, user=user, campaign=campaign) is not None:
                raise ApplicationError("already_applied",
                                       "you already applied to this campaign") from None
            continue
        db.execute(sa.delete(WaitlistEntry).where(WaitlistEntry.user_id == user.id))
        return candidacy
    raise RuntimeError("could not draw a free candidacy code")  # pragma: no cover


def waitlist_entry(db: Session, *, user: User) -> WaitlistEntry | None:
    """The user's place on the waitlist, if any."""
    return db.scalar(sa.select(WaitlistEntry).where(WaitlistEntry.user_id == user.id))


def join_waitlist(db: Session, *, user: User, now: datetime) -> WaitlistEntry:
    """Put the user on the waitlist (again): they are e-mailed when a wave opens."""
    entry = waitlist_entry(db, user=user)
    if entry is None:
        entry = WaitlistEntry(user_id=user.id, created_at=now)
        db.add(entry)
    else:
        entry.created_at, entry.notified_at = now, None
    db.flush()
    return entry


def leave_waitlist(db: Session, *, user: User) -> None:
    """Take the user off the waitlist."""
    db.execute(sa.delete(WaitlistEntry).where(WaitlistEntry.user_id == user.id))


# -- stages ------------------------------------------------------------------------------------

def submission_for(db: Session, *, candidacy: Candidacy, stage: Stage) -> Submission | None:
    """The candidacy's work on one stage, if started."""
    return db.scalar(sa.select(Submission).where(Submission.candidacy_id == candidacy.id,
                                                 Submission.stage_id == stage.id))


def next_stage(db: Session, *, candidacy: Candidacy) -> Stage | None:
    """The stage the applicant may start now, or None (in a stage, waiting, or finished)."""
    stages = list(candidacy.campaign.stages)
    if candidacy.state == State.APPLIED:
        return stages[0] if stages else None
    if candidacy.state != State.ADVANCED:
        return None
    done = set(db.scalars(sa.select(Submission.stage_id)
                          .where(Submission.candidacy_id == candidacy.id)))
    reached = max((s.position for s in stages if s.id in done), default=0)
    return next((s for s in stages if s.position > reached), None)


def deadline_for(*, stage: Stage, now: datetime) -> datetime:
    """When a stage started at ``now`` ends: its time limit, never past the campaign's close."""
    return min(now + timedelta(minutes=stage.time_limit_minutes), stage.campaign.closes_at)


def start_stage(db: Session, *, candidacy: Candidacy, stage: Stage, now: datetime) -> Submission:
    """Start a stage: fix its deadline and open an empty draft for each task (idempotent)."""
    existing = submission_for(db, candidacy=candidacy, stage=stage)
    if existing is not None:
        return existing
    if next_stage(db, candidacy=candidacy) != stage:
        raise ApplicationError("stage_not_open", "this stage cannot be started now")
    if now >= candidacy.campaign.closes_at:
        raise ApplicationError("campaign_over", "the campaign has closed")
    candidacy.state = transition(State(candidacy.state), Event.START_STAGE).value
    candidacy.current_stage_id = stage.id
    candidacy.updated_at = now
    submission = Submission(candidacy_id=candidacy.id, stage_id=stage.id, started_at=now,
                            deadline_at=deadline_for(stage=stage, now=now))
    submission.answers = [Answer(task_id=task.id, text="", version=0) for task in stage.tasks]
    db.add(submission)
    db.flush()
    return submission


def _refuse_if_closed(submission: Submission, *, now: datetime) -> None:
    if submission.submitted_at is not None:
        raise ApplicationError("submitted", "this stage is already submitted",
                               submitted_at=submission.submitted_at)
    if now >= submission.deadline_at:
        raise ApplicationError("deadline", "the time for this stage is over",
                               deadline_at=submission.deadline_at)
    if submission.candidacy.state != State.IN_STAGE:
        raise ApplicationError("not_in_stage", "this candidacy is not taking a stage")


@dataclass(frozen=True)
class InputCounts:
    """How the text of one save arrived, counted by the stage page since the tab's last
    acknowledged save: characters typed, pasted, and the longest single paste."""

    typed: int = 0
    pasted: int = 0
    longest_paste: int = 0

    #: Far above what one save can carry (60,000 characters, retyped many times over).
    LIMIT = 10_000_000

    def __post_init__(self):
        for value in (self.typed, self.pasted, self.longest_paste):
            if not isinstance(value, int) or isinstance(value, bool) \
                    or not 0 <= value <= self.LIMIT:
                raise ApplicationError("bad_counts", "input counts must be whole numbers")
        if self.longest_paste > self.pasted:
            raise ApplicationError("bad_counts", "the longest paste exceeds what was pasted")


def save_answer(db: Session, *, answer: Answer, text: str, base_version: int,
                now: datetime, counts: InputCounts | None = None) -> Answer:
    """Save a draft if nobody saved a newer one since ``base_version``; bumps the version.

    ``counts`` are added in the same statement, so they count exactly when the text they
    came with is stored (see recruit.domain.integrity on two tabs)."""
    submission = answer.submission
    _refuse_if_closed(submission, now=now)
    text = (text or "").replace("\r\n", "\n")
    if len(text) > MAX_ANSWER_CHARS:
        raise ApplicationError("text_too_long", "the text is too long to save",
                               max_chars=MAX_ANSWER_CHARS)
    # Compare-and-set in one statement: two tabs saving at once cannot both win. The stage
    # must still be open when the row is written, not only when it was read: the sub-select
    # takes a shared lock on the submission (PostgreSQL), so a deadline job that holds it
    # makes this save wait and then refuse, and a save in flight makes the job pass the
    # submission by (SKIP LOCKED) until the save is committed. SQLite serialises writers.
    still_open = (sa.select(Submission.id)
                  .where(Submission.id == answer.submission_id,
                         Submission.submitted_at.is_(None), Submission.deadline_at > now)
                  .with_for_update(read=True))
    values = {"text": text, "version": base_version + 1, "saved_at": now}
    if counts is not None and (counts.typed or counts.pasted):
        values.update(typed_chars=Answer.typed_chars + counts.typed,
                      pasted_chars=Answer.pasted_chars + counts.pasted,
                      longest_paste=sa.case((Answer.longest_paste < counts.longest_paste,
                                             counts.longest_paste),
                                            else_=Answer.longest_paste))
    saved = db.execute(
        sa.update(Answer)
        .where(Answer.id == answer.id, Answer.version == base_version,
               Answer.submission_id.in_(still_open.scalar_subquery()))
        .values(**values)
        .returning(Answer.version, Answer.saved_at, Answer.typed_chars, Answer.pasted_chars,
                   Answer.longest_paste)
        .execution_options(synchronize_session=False)
    ).first()
    if saved is None:
        db.refresh(submission)
        _refuse_if_closed(submission, now=now)
        db.refresh(answer)
        raise ApplicationError("conflict", "a newer version was saved elsewhere",
                               version=answer.version, saved_at=answer.saved_at)
    # What was written is what the row now holds; no need to read it back.
    for key, value in (("text", text), ("version", saved.version), ("saved_at", saved.saved_at),
                       ("typed_chars", saved.typed_chars), ("pasted_chars", saved.pasted_chars),
                       ("longest_paste", saved.longest_paste)):
        set_committed_value(answer, key, value)
    return answer


@dataclass(frozen=True)
class LimitProblem:
    """An answer whose word count does not meet its task's limits."""

    answer_id: int
    position: int
    problem: str
    words: int
    min_words: int
    max_words: int | None


def limit_problems(submission: Submission) -> list[LimitProblem]:
    """Every answer of a submission that is too short or too long to be submitted by hand."""
    problems = []
    for answer in sorted(submission.answers, key=lambda a: a.task.position):
        words = word_count(answer.text)
        problem = word_limit_problem(words=words, min_words=answer.task.min_words,
                                     max_words=answer.task.max_words)
        if problem:
            problems.append(LimitProblem(answer.id, answer.task.position, problem, words,
                                         answer.task.min_words, answer.task.max_words))
    return problems


def submit_stage(db: Session, *, submission: Submission, now: datetime,
                 auto: bool = False) -> bool:
    """Hand in a stage and send its answers to redaction; True if this call submitted it.

    By hand, every answer must meet its word limits. At the deadline (``auto``) the last saved
    drafts go in as they are: nothing saved is lost."""
    if submission.submitted_at is not None:
        return False
    candidacy = submission.candidacy
    if candidacy.state != State.IN_STAGE:
        db.refresh(submission)
        if submission.submitted_at is not None:
            return False  # handed in meanwhile by another request or job
        raise ApplicationError("not_in_stage", "this candidacy is not taking a stage")
    if not auto:
        if now >= submission.deadline_at:
            auto = True
        else:
            problems = limit_problems(submission)
            if problems:
                raise ApplicationError("word_limits", "some answers do not meet the word limits",
                                       problems=problems)
    submitted_at = min(now, submission.deadline_at) if auto else now
    # Claim the submission in one conditional statement, so that the deadline job on two
    # hosts, a lazy close and the applicant's own button never hand a stage in twice.
    claimed = db.execute(
        sa.update(Submission)
        .where(Submission.id == submission.id, Submission.submitted_at.is_(None))
        .values(submitted_at=submitted_at, auto_submitted=auto)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        db.refresh(submission)
        return False
    set_committed_value(submission, "submitted_at", submitted_at)
    set_committed_value(submission, "auto_submitted", auto)
    candidacy.state = transition(State(candidacy.state), Event.SUBMIT_STAGE).value
    candidacy.updated_at = now
    if intake_by_worker():
        # Recorded; `recruit intake worker` redacts, indexes and confirms it moments later.
        db.flush()
        return True
    # What is handed in is what the rows hold now: a save that committed while this
    # request read the page must not be passed over for an older copy in memory.
    db.scalars(sa.select(Answer).where(Answer.submission_id == submission.id)
               .execution_options(populate_existing=True)).all()
    take_in(db, submission=submission, now=now)
    return True


def intake_by_worker() -> bool:
    """Whether hand-ins are taken in by `recruit intake worker` (setting ``INTAKE``) rather
    than by the request or job that hands them in."""
    return has_app_context() and current_app.config.get("INTAKE") == "worker"


def identity_for_redaction(db: Session, *, candidacy: Candidacy) -> dict[str, str] | None:
    """The redactor's keys for a candidacy's applicant (None once they are erased)."""
    identity = (vault.open_identity_of(db, user_id=candidacy.user_id)
                if candidacy.user_id is not None else None)
    return identity.for_redaction() if identity else None


def take_in(db: Session, *, submission: Submission, now: datetime,
            prepared: Mapping[int, intake.Prepared] | None = None) -> None:
    """Intake of a handed-in stage: redact its answers, release or queue them for the
    custodian, index them, and confirm the hand-in to the applicant. ``prepared`` holds
    work done beforehand (see intake.prepare)."""
    candidacy = submission.candidacy
    identity = identity_for_redaction(db, candidacy=candidacy)
    intake.accept_submission(db, submission=submission, identity=identity,
                             reviews_per_answer=candidacy.campaign.reviews_per_answer, now=now,
                             prepared=prepared)
    notify.stage_submitted(db, submission=submission)
    db.flush()


def take_in_queued(db: Session, *, now: datetime, limit: int | None = None,
                   skip_locked: bool = False, user_id: int | None = None,
                   prepared: Mapping[int, Mapping[int, intake.Prepared]] | None = None
                   ) -> list[int]:
    """Take in handed-in stages still waiting for intake, oldest first; returns their ids.

    Each is locked first (PostgreSQL; with ``skip_locked`` one another worker holds is
    passed by) and read afresh, so a stage is taken in once. ``prepared`` maps a submission
    id to its answers' intake worked out before this transaction, without locks; given, only
    those stages are taken in, and the work is used where it matches what is stored."""
    due = intake.queued(user_id=user_id).with_for_update(of=Submission,
                                                        skip_locked=skip_locked)
    if prepared is not None:
        due = due.where(Submission.id.in_(list(prepared)))
    if limit is not None:
        due = due.limit(limit)
    ids = list(db.scalars(due))
    if not ids:
        return []
    submissions = _read_locked(db, ids, order=Submission.submitted_at)
    for submission in submissions:
        take_in(db, submission=submission, now=now,
                prepared=(prepared or {}).get(submission.id))
    return [s.id for s in submissions]


def _read_locked(db: Session, ids: list[int], *, order) -> list[Submission]:
    """Submissions just locked, read afresh (whatever this session had loaded before) with
    their answers, tasks, candidacy and campaign, in ``order`` then id."""
    return db.scalars(
        sa.select(Submission).where(Submission.id.in_(ids))
        .order_by(order, Submission.id)
        .options(selectinload(Submission.answers).joinedload(Answer.task),
                 joinedload(Submission.candidacy).joinedload(Candidacy.campaign))
        .execution_options(populate_existing=True)).unique().all()


def close_expired(db: Session, *, now: datetime, candidacy: Candidacy | None = None,
                  limit: int | None = None, skip_locked: bool = False,
                  grace: timedelta = timedelta(0)) -> int:
    """Submit the saved drafts of stages whose time ran out; returns how many were submitted.

    A stage is due once its deadline is ``grace`` behind ``now``: a job gives a save that
    reached the server before the deadline time to finish. At most ``limit`` stages per call,
    oldest deadline first, so a job commits in bounded batches. Each submission is locked
    first (PostgreSQL): with ``skip_locked`` one that another process or an autosave holds is
    passed by, to be taken by a later batch; without it the call waits its turn. Either way a
    stage is handed in once (see submit_stage)."""
    due = (sa.select(Submission.id).join(Candidacy, Candidacy.id == Submission.candidacy_id)
           .where(Submission.submitted_at.is_(None), Submission.deadline_at <= now - grace,
                  Candidacy.state == State.IN_STAGE.value)
           .order_by(Submission.deadline_at, Submission.id)
           .with_for_update(of=Submission, skip_locked=skip_locked))
    if candidacy is not None:
        due = due.where(Submission.candidacy_id == candidacy.id)
    if limit is not None:
        due = due.limit(limit)
    ids = list(db.scalars(due))
    if not ids:
        return 0
    submissions = _read_locked(db, ids, order=Submission.deadline_at)
    return sum(submit_stage(db, submission=s, now=now, auto=True) for s in submissions)


# -- status ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    """One line of a candidacy's timeline, in plain values for the applicant's page."""

    kind: str
    at: datetime | None = None
    stage_id: int | None = None
    position: int | None = None
    deadline_at: datetime | None = None
    auto: bool = False
    extra: dict = field(default_factory=dict)


def timeline(db: Session, *, candidacy: Candidacy) -> list[Step]:
    """What happened to a candidacy so far, oldest first; no scores, no staff reasons."""
    stages = {s.id: s for s in candidacy.campaign.stages}
    steps = [Step("applied", at=candidacy.created_at)]
    submissions = db.scalars(sa.select(Submission).where(Submission.candidacy_id ==
                                                         candidacy.id)).all()
    # The newest decision per stage counts (a hold may be followed by an advance).
    decided: dict[int, Decision] = {}
    for decision in db.scalars(sa.select(Decision).where(Decision.candidacy_id == candidacy.id)
                               .order_by(Decision.decided_at, Decision.id)):
        decided[decision.stage_id] = decision
    for submission in sorted(submissions, key=lambda s: stages[s.stage_id].position):
        stage = stages[submission.stage_id]
        if submission.submitted_at is None:
            if candidacy.state == State.IN_STAGE:
                steps.append(Step("in_stage", at=submission.started_at, stage_id=stage.id,
                                  position=stage.position, deadline_at=submission.deadline_at))
            continue
        steps.append(Step("submitted", at=submission.submitted_at, stage_id=stage.id,
                          position=stage.position, auto=submission.auto_submitted))
        decision = decided.get(stage.id)
        if decision is None or decision.outcome == "hold":
            if candidacy.state in (State.SUBMITTED, State.ON_HOLD):
                steps.append(Step("under_review", stage_id=stage.id, position=stage.position))
        elif decision.outcome == "advance":
            steps.append(Step("stage_passed", at=decision.decided_at, stage_id=stage.id,
                              position=stage.position,
                              extra={"final": stage.position == len(stages)}))
        else:
            steps.append(Step("stage_not_passed", at=decision.decided_at, stage_id=stage.id,
                              position=stage.position))
    upcoming = next_stage(db, candidacy=candidacy)
    if upcoming is not None:
        steps.append(Step("stage_ready", stage_id=upcoming.id, position=upcoming.position,
                          extra={"minutes": upcoming.time_limit_minutes,
                                 "tasks": len(upcoming.tasks)}))
    offers = db.scalars(sa.select(Offer).where(Offer.candidacy_id == candidacy.id)
                        .order_by(Offer.issued_at, Offer.id)).all()
    for offer in offers:
        steps.append(Step("offer", at=offer.issued_at,
                          extra={"offer_id": offer.id, "status": offer.status,
                                 "alternate": offer.alternate}))
    if candidacy.state in (State.WITHDRAWN, State.INVITED, State.HIRED, State.DECLINED,
                           State.EXPIRED):
        steps.append(Step(candidacy.state, at=candidacy.finished_at or candidacy.updated_at))
    return steps


# -- own data ----------------------------------------------------------------------------------

def withdraw(db: Session, *, candidacy: Candidacy, now: datetime) -> None:
    """Leave a campaign; an unsubmitted stage is dropped, not submitted.

    An offer still waiting for an answer is withdrawn with it, so it can no longer be
    accepted and no longer holds a place of the campaign's capacity.
    """
    candidacy.state = transition(State(candidacy.state), Event.WITHDRAW).value
    candidacy.finished_at = now
    candidacy.updated_at = now
    db.execute(sa.update(Offer)
               .where(Offer.candidacy_id == candidacy.id, Offer.status == "issued")
               .values(status="withdrawn", responded_at=now)
               .execution_options(synchronize_session="fetch"))


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def export_data(db: Session, *, user: User) -> dict:
    """Everything stored about the user, as JSON-ready data (no reviewers' scores)."""
    identity = vault.open_identity_of(db, user_id=user.id)
    candidacies = db.scalars(sa.select(Candidacy).where(Candidacy.user_id == user.id)
                             .order_by(Candidacy.id)).all()
    checks = db.scalars(sa.select(EligibilityCheck).where(EligibilityCheck.user_id == user.id)
                        .order_by(EligibilityCheck.id)).all()
    entry = waitlist_entry(db, user=user)
    mails = db.scalars(sa.select(OutboxMessage).where(OutboxMessage.to_address == user.email)
                       .order_by(OutboxMessage.id)).all()
    return {
        "account": {"email": user.email, "locale": user.locale,
                    "created_at": _iso(user.created_at),
                    "email_confirmed_at": _iso(user.email_confirmed_at),
                    "last_login_at": _iso(user.last_login_at)},
        "identity": (
            {k: getattr(identity, k) for k in vault.FIELDS} if identity is not None else None),
        "eligibility_checks": [
            {"campaign": c.campaign_id, "passed": c.passed, "reasons": list(c.reasons),
             "checked_at": _iso(c.checked_at)} for c in checks],
        "waitlist": ({"since": _iso(entry.created_at), "notified_at": _iso(entry.notified_at)}
                     if entry else None),
        "candidacies": [_export_candidacy(db, c) for c in candidacies],
        "emails": [{"subject": m.subject, "template": m.template,
                    "created_at": _iso(m.created_at), "sent_at": _iso(m.sent_at)}
                   for m in mails],
    }


def _export_candidacy(db: Session, candidacy: Candidacy) -> dict:
    decisions = db.scalars(sa.select(Decision).where(Decision.candidacy_id == candidacy.id)
                           .order_by(Decision.id)).all()
    stage_keys = {s.id: s.key for s in candidacy.campaign.stages}
    offers = db.scalars(sa.select(Offer).where(Offer.candidacy_id == candidacy.id)
                        .order_by(Offer.id)).all()
    return {
        "campaign": candidacy.campaign.key,
        "code": candidacy.code,
        "state": candidacy.state,
        "applied_at": _iso(candidacy.created_at),
        "finished_at": _iso(candidacy.finished_at),
        "stages": [
            {"stage": stage_keys.get(s.stage_id), "started_at": _iso(s.started_at),
             "deadline_at": _iso(s.deadline_at), "submitted_at": _iso(s.submitted_at),
             "submitted_automatically": s.auto_submitted,
             "feedback_opened_at": _iso(s.feedback_opened_at),
             "answers": [{"task": a.task.key, "text": a.text, "version": a.version,
                          "saved_at": _iso(a.saved_at)}
                         for a in sorted(s.answers, key=lambda a: a.task.position)]}
            for s in sorted(candidacy.submissions, key=lambda s: s.started_at)],
        "decisions": [{"stage": stage_keys.get(d.stage_id), "outcome": d.outcome,
                       "decided_at": _iso(d.decided_at)} for d in decisions],
        "offers": [{"status": o.status, "alternate": o.alternate, "salary": o.salary,
                    "currency": o.currency, "start_date": _iso(o.start_date),
                    "expires_on": _iso(o.expires_on)} for o in offers],
    }


def erase_account(db: Session, *, user: User, now: datetime) -> None:
    """Erase an applicant: identity and account go, pseudonymous answers and scores stay."""
    if user.is_staff:
        raise ApplicationError("staff", "staff accounts are not erased here")
    user_id, email = user.id, user.email
    # A stage handed in but not yet taken in is redacted now, while the name is known.
    take_in_queued(db, now=now, user_id=user_id)
    for candidacy in db.scalars(sa.select(Candidacy).where(Candidacy.user_id == user_id)):
        if (State(candidacy.state), Event.WITHDRAW) in TRANSITIONS:
            withdraw(db, candidacy=candidacy, now=now)
        candidacy.user_id = None
    db.flush()
    db.execute(sa.delete(Identity).where(Identity.user_id == user_id))
    db.execute(sa.delete(WaitlistEntry).where(WaitlistEntry.user_id == user_id))
    db.execute(sa.update(EligibilityCheck).where(EligibilityCheck.user_id == user_id)
               .values(user_id=None))
    # Messages carry the address and sometimes the name: they go with the account.
    db.execute(sa.delete(OutboxMessage).where(OutboxMessage.to_address == email))
    db.expunge(user)
    db.execute(sa.delete(User).where(User.id == user_id))
    audit.record(db, action="account.erased", actor_id=None, subject=f"user:{user_id}",
                 details={"at": now.isoformat()})

