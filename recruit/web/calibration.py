"""Coordinator pages of calibration: answers with reference scores that measure reviewers' drift.

Coordinators see calibration answers by task and by the candidacy code a copy came from;
never their reviewer-facing tokens. The custodian may look but never sets reference scores:
the custodian never scores answers.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from recruit import access
from recruit.db import get_db, utcnow
from recruit.domain import calibration
from recruit.domain.redaction import split_markers
from recruit.models import (
    Answer,
    CalibrationAnswer,
    Campaign,
    Candidacy,
    Criterion,
    CriterionScore,
    Review,
    Stage,
    Submission,
    Task,
)
from recruit.web.forms import ConfirmForm, Form
from recruit.web.labels import REDACTED as REDACTED_LABEL

bp = Blueprint("calibration", __name__,
               url_prefix="/coordinate/campaigns/<int:campaign_id>/calibration")

_ERRORS = {
    "reference": _l("Give every criterion a reference score from 1 to 5."),
    "empty": _l("Write the answer's text."),
    "too_long": _l("The text is too long: at most %(n)s characters.", n=calibration.TEXT_MAX),
    "note_too_long": _l("The note is too long: at most %(n)s characters.",
                        n=calibration.NOTE_MAX),
    "not_candidate": _l("This is a calibration answer already."),
    "in_review": _l("This answer is still being reviewed. Use it once all its reviews are in, "
                    "so no reviewer meets both the answer and its copy."),
    "already_copied": _l("This answer is a calibration answer already."),
}


class WriteForm(Form):
    """The text of a calibration answer a coordinator writes (reference scores are radios)."""

    text = TextAreaField(_l("The answer, as an applicant would write it"),
                         validators=[DataRequired(), Length(max=calibration.TEXT_MAX)])
    note = TextAreaField(_l("Why these scores (for coordinators only)"),
                         validators=[Length(max=calibration.NOTE_MAX)])
    submit = SubmitField(_l("Add the calibration answer"))


class CopyForm(Form):
    """Reference scores (radios) and a note for a copy of a candidate's answer."""

    note = TextAreaField(_l("Why these scores (for coordinators only)"),
                         validators=[Length(max=calibration.NOTE_MAX)])
    submit = SubmitField(_l("Use as a calibration answer"))


def _campaign_or_404(campaign_id: int) -> Campaign:
    return get_db().get(Campaign, campaign_id) or abort(404)


def _task_or_404(campaign: Campaign, task_id: int) -> Task:
    task = get_db().execute(select(Task).join(Stage, Stage.id == Task.stage_id)
                            .where(Task.id == task_id, Stage.campaign_id == campaign.id)
                            ).scalar_one_or_none()
    return task or abort(404)


def _posted_reference(criteria) -> dict[int, int]:
    reference = {}
    for criterion in criteria:
        value = request.form.get(f"r-{criterion.id}", "")
        if value in ("1", "2", "3", "4", "5"):
            reference[criterion.id] = int(value)
    return reference


@bp.route("")
@access.guard(access.may_manage_reviewer_pool)
def overview(campaign_id: int):
    """The campaign's calibration answers, their references and how reviewers scored them."""
    campaign = _campaign_or_404(campaign_id)
    db = get_db()
    tasks = db.execute(select(Task.id, Task.position, Task.prompt_en, Task.prompt_ru,
                              Stage.title_en, Stage.title_ru)
                       .join(Stage, Stage.id == Task.stage_id)
                       .where(Stage.campaign_id == campaign.id)
                       .order_by(Stage.position, Task.position)).all()
    return render_template("coordinator/calibration.html", campaign=campaign, tasks=tasks,
                           items=calibration.campaign_items(db, campaign=campaign),
                           may_set=access.may_set_calibration(current_user),
                           retire_form=ConfirmForm(), split_markers=split_markers,
                           labels=REDACTED_LABEL)


def _render_form(template: str, *, campaign: Campaign, task: Task, form, reference=None,
                 error: str | None = None, status: int = 200, **context):
    criteria = list(get_db().scalars(select(Criterion).where(Criterion.task_id == task.id)
                                     .order_by(Criterion.position)))
    return render_template(template, campaign=campaign, task=task, form=form,
                           criteria=criteria, reference=reference or {}, error=error,
                           split_markers=split_markers, labels=REDACTED_LABEL,
                           **context), status


@bp.route("/tasks/<int:task_id>/new", methods=["GET", "POST"])
@access.guard(access.may_set_calibration)
def write(campaign_id: int, task_id: int):
    """Write a calibration answer for a task, with a reference score per criterion."""
    campaign = _campaign_or_404(campaign_id)
    task = _task_or_404(campaign, task_id)
    form = WriteForm()
    if request.method == "GET":
        return _render_form("coordinator/calibration_write.html", campaign=campaign, task=task,
                            form=form)
    criteria = list(task.criteria)
    reference = _posted_reference(criteria)
    if not form.validate_on_submit():
        return _render_form("coordinator/calibration_write.html", campaign=campaign, task=task,
                            form=form, reference=reference, status=400)
    try:
        calibration.write_answer(get_db(), task=task, text=form.text.data,
                                 reference=reference, note=form.note.data or "",
                                 by=current_user, now=utcnow())
    except calibration.CalibrationError as exc:
        return _render_form("coordinator/calibration_write.html", campaign=campaign, task=task,
                            form=form, reference=reference, error=str(_ERRORS[exc.code]),
                            status=400)
    flash(_("Calibration answer added. Reviewers will meet it among their answers."),
          "success")
    return redirect(url_for("calibration.overview", campaign_id=campaign.id))


def _source_or_404(campaign: Campaign, answer_id: int):
    row = get_db().execute(
        select(Answer, Task, Candidacy.code)
        .join(Submission, Submission.id == Answer.submission_id)
        .join(Candidacy, Candidacy.id == Submission.candidacy_id)
        .join(Task, Task.id == Answer.task_id)
        .join(Stage, Stage.id == Task.stage_id)
        .where(Answer.id == answer_id, Stage.campaign_id == campaign.id,
               Answer.check_status == "released")
    ).first()
    return row or abort(404)


def _reviewers_means(answer_id: int) -> dict[int, int]:
    """Each criterion's mean score from the answer's reviews, rounded: a starting point."""
    rows = get_db().execute(
        select(CriterionScore.criterion_id, func.avg(CriterionScore.value))
        .join(Review, Review.id == CriterionScore.review_id)
        .where(Review.answer_id == answer_id)
        .group_by(CriterionScore.criterion_id)).all()
    return {criterion_id: min(5, max(1, int(float(mean) + 0.5))) for criterion_id, mean in rows}


@bp.route("/answers/<int:answer_id>/copy", methods=["GET", "POST"])
@access.guard(access.may_set_calibration)
def copy(campaign_id: int, answer_id: int):
    """Use a candidate's reviewed answer (its redacted text) as a calibration answer."""
    campaign = _campaign_or_404(campaign_id)
    source, task, code = _source_or_404(campaign, answer_id)
    form = CopyForm()
    complete = source.reviews_done >= source.reviews_wanted and not source.reviews_leased
    context = {"source": source, "code": code, "complete": complete}
    if request.method == "GET":
        return _render_form("coordinator/calibration_copy.html", campaign=campaign, task=task,
                            form=form, reference=_reviewers_means(source.id),
                            error=None if complete else str(_ERRORS["in_review"]), **context)
    reference = _posted_reference(list(task.criteria))
    if not form.validate_on_submit():
        return _render_form("coordinator/calibration_copy.html", campaign=campaign, task=task,
                            form=form, reference=reference, status=400, **context)
    try:
        calibration.copy_answer(get_db(), source=source, reference=reference,
                                note=form.note.data or "", by=current_user, now=utcnow())
    except calibration.CalibrationError as exc:
        return _render_form("coordinator/calibration_copy.html", campaign=campaign, task=task,
                            form=form, reference=reference, error=str(_ERRORS[exc.code]),
                            status=400, **context)
    flash(_("Calibration answer added. Reviewers will meet it among their answers."),
          "success")
    return redirect(url_for("calibration.overview", campaign_id=campaign.id))


@bp.route("/<int:answer_id>/retire", methods=["POST"])
@access.guard(access.may_set_calibration)
def retire(campaign_id: int, answer_id: int):
    """Stop handing a calibration answer out; what reviewers gave it still counts for drift."""
    campaign = _campaign_or_404(campaign_id)
    item = get_db().execute(
        select(CalibrationAnswer)
        .join(Answer, Answer.id == CalibrationAnswer.answer_id)
        .join(Task, Task.id == Answer.task_id)
        .join(Stage, Stage.id == Task.stage_id)
        .where(CalibrationAnswer.answer_id == answer_id, Stage.campaign_id == campaign.id)
    ).scalar_one_or_none()
    if item is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    calibration.retire(get_db(), calibration=item, now=utcnow())
    flash(_("The calibration answer is no longer handed out."), "success")
    return redirect(url_for("calibration.overview", campaign_id=campaign.id))
