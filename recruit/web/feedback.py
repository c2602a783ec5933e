"""Candidates' feedback: the candidate's page on a decided stage, the coordinators' settings
(feedback per stage, the minimum pool) and hiding a reviewer's comment from the candidate.

The candidate's page receives plain view objects (recruit.domain.feedback) that hold their
own values, counts of everyone's and comments without names.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from wtforms import BooleanField, HiddenField, IntegerField, SubmitField
from wtforms.validators import AnyOf, InputRequired, Length, NumberRange

from recruit import access, clock, security
from recruit.db import get_db, writes
from recruit.domain import feedback
from recruit.errors import render_error
from recruit.i18n import current_language
from recruit.models import Answer, Campaign, Candidacy, Review, Stage, Submission
from recruit.reports import charts
from recruit.web.forms import Form

bp = Blueprint("feedback", __name__)

# Review ids are INTEGER columns: a larger number posted as one is no review.
MAX_REVIEW_ID = security.MAX_DB_INT

UNAVAILABLE = {
    "disabled": _l("The team does not give written feedback on this stage."),
    "not_final": _l("Your feedback on this stage appears once the decision on it is final. "
                    "We will e-mail you then."),
    "erased": _l("There is no feedback for this application."),
}
LINE = {"above": _l("above the pass line"), "near": _l("close to the pass line"),
        "below": _l("below the pass line")}
RANK = {"top": _l("higher than most candidates of the stage"),
        "upper": _l("above the middle of the stage"),
        "lower": _l("below the middle of the stage"),
        "bottom": _l("lower than most candidates of the stage")}


def _one_decimal(value: float) -> str:
    return format_decimal(value, format="0.0")


def _shuffle_key(candidacy: Candidacy) -> bytes:
    """A key of this candidate's own: their comments come in an order nobody else shares,
    the same on every visit."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, f"feedback-order:{candidacy.id}".encode(), hashlib.sha256).digest()


def _summary(name: str, standing: feedback.Standing, line: float | None,
             compared: bool) -> str:
    """The chart's description in words, for screen readers and as its tooltip."""
    if standing.value is not None:
        parts = [_("%(name)s: yours %(value)s of 5", name=name,
                   value=_one_decimal(standing.value))]
    else:
        parts = [_("%(name)s: yours between %(low)s and %(high)s of 5", name=name,
                   low=standing.band[0], high=standing.band[1])]
    if line is not None and compared:
        # In a small pool the line is only drawn, to the quarter point.
        parts.append(_("pass line %(line)s", line=_one_decimal(line)))
    if standing.pool:
        parts.append(ngettext("compared with %(num)s candidate",
                              "compared with %(num)s candidates", standing.pool))
    return "; ".join(parts)


def _chart(name: str, standing: feedback.Standing, view: feedback.CandidateFeedback) -> Markup:
    return charts.standing_strip(
        title=_summary(name, standing, view.pass_line, view.compared),
        value=standing.value,
        band=None if standing.value is not None else standing.band,
        line=view.pass_line, counts=standing.bins)


@bp.route("/me/candidacies/<int:candidacy_id>/stages/<int:stage_id>/feedback")
@access.guard(access.is_applicant)
@writes  # records the first opening; may keep the stage's statistics
def show(candidacy_id: int, stage_id: int):
    """The candidate's feedback on a decided stage: where they stand per criterion, what
    the reviewers wrote for them, and strengths another role needs."""
    db, now = get_db(), clock.now()
    candidacy = db.get(Candidacy, candidacy_id) or abort(404)
    access.require_known(access.may_read_feedback(current_user,
                                                  owner_user_id=candidacy.user_id))
    stage = db.get(Stage, stage_id)
    if stage is None or stage.campaign_id != candidacy.campaign_id:
        abort(404)
    state = feedback.availability(db, candidacy=candidacy, stage=stage)
    if state != "available":
        return render_error(404, str(UNAVAILABLE[state]))
    view = feedback.candidate_feedback(db, candidacy=candidacy, stage=stage, now=now,
                                       shuffle_key=_shuffle_key(candidacy))
    feedback.record_opening(db, candidacy_id=candidacy.id, stage_id=stage.id, now=now)
    lang = current_language()
    overall = (_chart(_("Stage score"), view.overall, view) if view.overall is not None
               else None)
    criteria_charts = {c.key: _chart(c.title[lang], c.standing, view)
                       for c in view.criteria if c.standing is not None}
    return render_template("applicant/feedback.html", candidacy=candidacy, stage=stage,
                           view=view, overall_chart=overall, criteria_charts=criteria_charts,
                           line_words=LINE, rank_words=RANK, one_decimal=_one_decimal)


# -- coordinators: settings ----------------------------------------------------------------------

class _SettingsForm(Form):
    """Feedback per stage of a campaign, and the minimum pool for comparisons."""

    min_pool = IntegerField(
        _l("Fewest scored candidates in a stage for comparisons"),
        validators=[InputRequired(), NumberRange(
            *feedback.MIN_POOL, message=_l("Between %(min)s and %(max)s candidates."))])
    submit = SubmitField(_l("Save feedback settings"))


def settings_form(campaign: Campaign, *, posted: bool = False) -> _SettingsForm:
    """The settings form of a campaign: a box per stage, filled from the campaign, or from
    the request when ``posted``."""

    class SettingsForm(_SettingsForm):
        pass

    for stage in campaign.stages:
        setattr(SettingsForm, f"stage_{stage.id}",
                BooleanField(stage.title(current_language()), default=stage.feedback_enabled))
    if posted:
        return SettingsForm()
    return SettingsForm(formdata=None, min_pool=campaign.feedback_min_pool)


@bp.app_template_global("feedback_settings_form")
def _feedback_settings_form(campaign: Campaign) -> _SettingsForm:
    return settings_form(campaign)


def stage_boxes(form: _SettingsForm, campaign: Campaign) -> list:
    """The form's per-stage boxes in stage order, with the stage they belong to."""
    return [(stage, getattr(form, f"stage_{stage.id}")) for stage in campaign.stages]


@bp.app_template_global("feedback_stage_boxes")
def _feedback_stage_boxes(form: _SettingsForm, campaign: Campaign) -> list:
    return stage_boxes(form, campaign)


@bp.route("/coordinate/campaigns/<int:campaign_id>/feedback", methods=["GET", "POST"])
@access.guard(access.may_moderate_feedback)
def settings(campaign_id: int):
    """Turn candidates' feedback on or off per stage and set the minimum pool."""
    db = get_db()
    campaign = db.get(Campaign, campaign_id) or abort(404)
    if request.method != "POST":
        # The form lives on the campaign page; this address only shows it again with errors.
        return redirect(url_for("coordinator.campaign", campaign_id=campaign.id,
                                _anchor="feedback"))
    form = settings_form(campaign, posted=True)
    if form.validate_on_submit():
        try:
            feedback.change_settings(
                db, campaign=campaign, min_pool=form.min_pool.data,
                enabled_stage_ids=[stage.id for stage, box in stage_boxes(form, campaign)
                                   if box.data])
        except feedback.FeedbackError as exc:
            form.min_pool.errors = [*form.min_pool.errors, str(exc)]
        else:
            flash(_("Feedback settings saved."), "success")
            return redirect(url_for("coordinator.campaign", campaign_id=campaign.id,
                                    _anchor="feedback"))
    return render_template("coordinator/feedback_settings.html", campaign=campaign,
                           feedback_form=form,
                           feedback_numbers=feedback.campaign_numbers(db, campaign=campaign)), 400


# -- coordinators: hiding a comment ---------------------------------------------------------------

class CommentVisibilityForm(Form):
    """Hide a reviewer's comment from the candidate, or show it again."""

    review = HiddenField(validators=[InputRequired(), Length(max=10)])
    hide = HiddenField(validators=[AnyOf(["1", "0"]), Length(max=1)])
    submit = SubmitField(_l("Hide from the candidate"))


@bp.app_template_global("comment_visibility_form")
def _comment_visibility_form(review_id: int, hidden: bool) -> CommentVisibilityForm:
    return CommentVisibilityForm(formdata=None, review=review_id, hide="0" if hidden else "1")


@bp.route("/coordinate/campaigns/<int:campaign_id>/stages/<int:stage_id>/candidacies/<code>"
          "/comment", methods=["POST"])
@access.guard(access.may_moderate_feedback)
def comment(campaign_id: int, stage_id: int, code: str):
    """Hide one of the candidacy's comments from the candidate (or show it again)."""
    db = get_db()
    campaign = db.get(Campaign, campaign_id) or abort(404)
    stage = db.get(Stage, stage_id)
    if stage is None or stage.campaign_id != campaign.id:
        abort(404)
    candidacy = db.scalar(select(Candidacy).where(Candidacy.code == code,
                                                  Candidacy.campaign_id == campaign.id))
    if candidacy is None:
        abort(404)
    form = CommentVisibilityForm()
    if not form.validate_on_submit() or not form.review.data.isdigit():
        abort(400)
    if int(form.review.data) > MAX_REVIEW_ID:
        abort(404)  # no row has such an id, and PostgreSQL would refuse to compare it
    # Only a review of this candidacy's answers at this stage: another id is not found.
    review = db.scalar(
        select(Review).join(Answer, Answer.id == Review.answer_id)
        .join(Submission, Submission.id == Answer.submission_id)
        .where(Review.id == int(form.review.data), Submission.candidacy_id == candidacy.id,
               Submission.stage_id == stage.id))
    if review is None:
        abort(404)
    hidden = form.hide.data == "1"
    feedback.set_comment_hidden(db, review=review, hidden=hidden, by=current_user,
                                now=clock.now())
    flash(_("The comment is hidden: the candidate will not see it.") if hidden
          else _("The comment will be shown to the candidate with their feedback."), "success")
    return redirect(url_for("decisions.candidacy", campaign_id=campaign.id, stage_id=stage.id,
                            code=candidacy.code, _anchor=f"review-{review.id}"))
