"""The reviewer's pages: they receive view objects that cannot reach an identity.

URLs name answers by their random per-answer token, never by candidacy code; a token of an
answer the reviewer was not handed is simply not found.
"""

from __future__ import annotations

from functools import lru_cache

from babel.numbers import get_decimal_symbol
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import exists, select

from recruit import access
from recruit.db import get_db, utcnow
from recruit.domain import assignment
from recruit.domain.redaction import split_markers
from recruit.i18n import current_language
from recruit.models import Campaign, CampaignReviewer, Stage, Task
from recruit.web.labels import REDACTED

bp = Blueprint("review", __name__, url_prefix="/review")


_ERRORS = {
    "custodian": _l("The custodian knows who the candidates are and can never review."),
    "not_reviewer": _l("Only reviewer accounts can review answers."),
    "inactive": _l("This account is deactivated."),
    "already_in_pool": _l("This reviewer is already in the pool."),
    "not_in_pool": _l("This reviewer is not in the pool."),
    "closed": _l("This review is already finished."),
    "returned": _l("You put this answer back; it has gone to another reviewer."),
    "slot_taken": _l("Your time on this answer ran out and other reviewers have taken it. "
                     "Your draft is kept, but it can no longer be submitted."),
    "comment_too_long": _l("The note for coordinators is too long: at most %(n)s characters.",
                           n=assignment.COMMENT_MAX),
    "candidate_comment_too_long": _l("The comment for the candidate is too long: at most "
                                     "%(n)s characters.", n=assignment.COMMENT_MAX),
    "invalid": _l("Give every criterion a score from 1 to 5."),
}


def error_message(exc: assignment.AssignmentError) -> str:
    """The user's-language message for a refused review action."""
    return str(_ERRORS.get(exc.code, _l("This action is not possible.")))


def _work_or_404(token: str) -> assignment.WorkContext:
    work = assignment.load_work(get_db(), token=token, reviewer_id=current_user.id)
    if work is None:
        abort(404)
    access.require_known(access.may_work_assignment(current_user,
                                                    reviewer_id=work.assignment.reviewer_id))
    return work


@bp.route("/")
@access.guard(access.is_reviewer)
def home():
    """The reviewer's queue: one row per task, reviewed across many candidates."""
    tasks = assignment.reviewer_queue(get_db(), reviewer=current_user, now=utcnow())
    # One section per stage, in the queue's order (newest campaign first).
    stages: list[list[assignment.QueueTask]] = []
    for task in tasks:
        if not stages or stages[-1][0].stage_id != task.stage_id:
            stages.append([])
        stages[-1].append(task)
    return render_template("review/home.html", tasks=tasks, stages=stages,
                           cap=assignment.QUEUE_COUNT_CAP)


def _hand_out(task_id: int, *, move_on: bool = False):
    """Lease the next answer of a task and send the reviewer to it (or home if none).

    ``move_on`` (after a submitted review) lets the draw go on to another task of the stage
    when only that one still has candidates this reviewer has not seen.
    """
    db = get_db()
    row = db.execute(
        select(Task, Campaign.lease_minutes, Campaign.calibration_rate,
               exists().where(CampaignReviewer.campaign_id == Stage.campaign_id,
                              CampaignReviewer.user_id == current_user.id).label("in_pool"))
        .join(Stage, Stage.id == Task.stage_id)
        .join(Campaign, Campaign.id == Stage.campaign_id)
        .where(Task.id == task_id)
    ).first()
    if row is None:
        abort(404)
    # A task of a campaign whose pool the reviewer is not in does not exist for them.
    access.require_known(access.may_review_in_campaign(current_user,
                                                       in_pool=bool(row.in_pool)))
    try:
        handout = assignment.next_answer(db, reviewer=current_user, task=row.Task,
                                         lease_minutes=row.lease_minutes,
                                         calibration_rate=row.calibration_rate,
                                         move_on=move_on, now=utcnow())
    except assignment.AssignmentError:
        abort(403)
    if handout is None:
        flash(_("Every answer of this task has all the reviews it needs for now. "
                "Thank you!"), "success")
        return redirect(url_for("review.home"))
    if handout.task_id != task_id:
        flash(_("You have seen every candidate left in that task, so this answer is from "
                "another task of the stage."), "info")
    return redirect(url_for("review.answer", token=handout.token))


@bp.route("/tasks/<int:task_id>/next", methods=["POST"])
@access.guard(access.is_reviewer)
def next_answer(task_id: int):
    """Hand out a random answer of this task that still needs a review (a POST: it leases)."""
    return _hand_out(task_id)


def _render_answer(page: assignment.ReviewPage, *, error: str | None = None,
                   scores: dict[str, int] | None = None, comment: str | None = None,
                   candidate_comment: str | None = None, status: int = 200):
    now = utcnow()
    return render_template(
        "review/answer.html", page=page, parts=split_markers(page.redacted_text),
        labels=REDACTED, error=error,
        scores=page.scores if scores is None else scores,
        comment=page.comment if comment is None else comment,
        candidate_comment=(page.candidate_comment if candidate_comment is None
                           else candidate_comment),
        open=page.status in ("leased", "expired"),
        lapsed=page.status == "expired" or (page.status == "leased"
                                            and page.lease_expires_at <= now),
        comment_max=assignment.COMMENT_MAX, cap=assignment.PAGE_COUNT_CAP,
        weights={c.id: _weight_label(c.weight) for c in page.criteria},
    ), status


@bp.route("/answers/<token>")
@access.guard(access.is_reviewer)
def answer(token: str):
    """The review page: prompt, redacted answer, rubric; read-only once finished."""
    page = assignment.review_page(get_db(), reviewer=current_user, token=token)
    if page is None:
        abort(404)
    return _render_answer(page)


@lru_cache(maxsize=8)
def _decimal_symbol(language: str) -> str:
    return get_decimal_symbol(language)


def _weight_label(weight: float) -> str:
    """A criterion's weight as the page shows it: 1, 1.5 (1,5 in Russian).

    Babel's format_decimal parses its pattern on every call; this is the hottest page.
    """
    return f"{weight:g}".replace(".", _decimal_symbol(current_language()))


def _posted_scores() -> dict[str, int]:
    """The scores in the form, by criterion id; the domain checks they are this rubric's."""
    scores = {}
    for name, value in request.form.items():
        if (name.startswith("c-") and name[2:].isdigit() and len(name) < 12
                and value in ("1", "2", "3", "4", "5")):
            scores[name[2:]] = int(value)
    return scores


@bp.route("/answers/<token>/submit", methods=["POST"])
@access.guard(access.is_reviewer)
def submit(token: str):
    """Store the review, then hand out the next answer (another task's if this one has no
    unseen candidate left)."""
    db = get_db()
    work = _work_or_404(token)
    scores = _posted_scores()
    comment = request.form.get("comment", "").strip()
    candidate_comment = request.form.get("candidate_comment", "").strip()
    now = utcnow()
    try:
        assignment.submit_review(db, assignment=work.assignment, stage=work.stage,
                                 scores={int(k): v for k, v in scores.items()},
                                 comment=comment, candidate_comment=candidate_comment, now=now)
    except assignment.AssignmentError as exc:
        return _refused(work, exc, token=token, scores=scores, comment=comment,
                        candidate_comment=candidate_comment)
    flash(_("Review saved."), "success")
    return _hand_out(work.task_id, move_on=True)


def _refused(work: assignment.WorkContext, exc: assignment.AssignmentError, *, token: str,
             scores: dict[str, int], comment: str, candidate_comment: str):
    """The review page again with the reason, keeping what was typed (as autosave would)."""
    db = get_db()
    error, status = error_message(exc), 409
    if exc.code in ("invalid", "comment_too_long", "candidate_comment_too_long"):
        # Nothing was written; keep the typed scores and both comments as a draft (the page
        # shows them in full, so nothing is cut from what the reviewer sees).
        status = 200
        try:
            assignment.save_draft(db, assignment=work.assignment, scores=scores,
                                  comment=comment[:assignment.COMMENT_MAX],
                                  candidate_comment=candidate_comment[:assignment.COMMENT_MAX],
                                  lease_minutes=work.lease_minutes, now=utcnow())
        except assignment.AssignmentError as draft_exc:
            error = error_message(draft_exc)
    page = assignment.review_page(db, reviewer=current_user, token=token)
    # 409 rolls back whatever part of the submission was written.
    return _render_answer(page, error=error, scores=scores, comment=comment,
                          candidate_comment=candidate_comment, status=status)


@bp.route("/answers/<token>/draft", methods=["POST"])
@access.guard(access.is_reviewer)
def draft(token: str):
    """Autosave of a half-done review (JSON from review.js)."""
    work = _work_or_404(token)
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get("scores", {}), dict):
        return {"ok": False, "error": _("The draft could not be read.")}, 400
    try:
        assignment.save_draft(get_db(), assignment=work.assignment,
                              scores=data.get("scores", {}), comment=data.get("comment", ""),
                              candidate_comment=data.get("candidate_comment", ""),
                              lease_minutes=work.lease_minutes, now=utcnow())
    except assignment.AssignmentError as exc:
        return {"ok": False, "error": error_message(exc)}, 400
    return {"ok": True}


@bp.route("/answers/<token>/recuse", methods=["POST"])
@access.guard(access.is_reviewer)
def recuse(token: str):
    """"I recognise who wrote this": the slot goes to another reviewer, the reason is kept."""
    work = _work_or_404(token)
    try:
        assignment.recuse(get_db(), assignment=work.assignment,
                          reason=request.form.get("reason", ""), now=utcnow())
    except assignment.AssignmentError as exc:
        flash(error_message(exc), "error")
        return redirect(url_for("review.answer", token=token))
    flash(_("You stepped away from this answer; another reviewer will take it."), "success")
    return redirect(url_for("review.home"))


@bp.route("/answers/<token>/put-back", methods=["POST"])
@access.guard(access.is_reviewer)
def put_back(token: str):
    """Give the answer back unreviewed: its slot returns at once, the draft is dropped."""
    work = _work_or_404(token)
    try:
        assignment.put_back(get_db(), assignment=work.assignment, now=utcnow())
    except assignment.AssignmentError as exc:
        flash(error_message(exc), "error")
        return redirect(url_for("review.answer", token=token))
    flash(_("The answer went back to the queue for another reviewer."), "success")
    return redirect(url_for("review.home"))


@bp.route("/mine")
@access.guard(access.is_reviewer)
def mine():
    """The reviewer's own history: their own scores and comments, nobody else's."""
    return render_template("review/mine.html",
                           reviews=assignment.my_reviews(get_db(), reviewer=current_user))
