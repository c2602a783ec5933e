"""Coordinator pages of reviewing: a campaign's reviewer pool, review progress and scores.

Coordinators see every score attached to candidacy codes, never names; reviewers appear by
their staff e-mail.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import DecimalField, EmailField, IntegerField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange

from recruit import access, security
from recruit.db import get_db, writes
from recruit.domain import accounts, assignment, calibration, decisions, review_stats, tracks
from recruit.models import Campaign, CampaignReviewer, Role, Stage, User
from recruit.reports import charts
from recruit.web.forms import ConfirmForm, Form
from recruit.web.review import error_message

bp = Blueprint("reviewers", __name__, url_prefix="/coordinate/campaigns/<int:campaign_id>")

PAGE_SIZE = 100


class AddReviewerForm(Form):
    """Add a reviewer account to the pool by its e-mail."""

    email = EmailField(_l("Reviewer's e-mail"),
                       validators=[DataRequired(), Email(), Length(max=254)])
    submit = SubmitField(_l("Add to the pool"))


class FiniteDecimalField(DecimalField):
    """A decimal field that takes a decimal comma too (1,5 in Russian) and refuses NaN and
    infinities (they break every comparison)."""

    def process_formdata(self, valuelist):
        """Parse as DecimalField does, then drop values that are not finite numbers."""
        super().process_formdata([v.replace(",", ".", 1) if isinstance(v, str) else v
                                  for v in valuelist])
        if self.data is not None and not self.data.is_finite():
            self.data = None
            raise ValueError(self.gettext("Not a valid decimal value."))


class CampaignSettingsForm(Form):
    """A campaign's names and how its review runs: lease length, calibration rate and bound."""

    title_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=200)])
    title_ru = StringField(_l("Name in Russian"), validators=[DataRequired(), Length(max=200)])
    lease_minutes = IntegerField(
        _l("Minutes a reviewer holds an answer"),
        validators=[InputRequired(), NumberRange(
            *tracks.LEASE_MINUTES,
            message=_l("Between %(min)s and %(max)s minutes."))])
    calibration_rate = IntegerField(
        _l("Calibration answers, per cent of hand-outs"),
        validators=[InputRequired(), NumberRange(
            *tracks.CALIBRATION_RATE, message=_l("Between %(min)s and %(max)s per cent."))])
    calibration_bound = FiniteDecimalField(
        _l("Flag a reviewer whose drift exceeds (points)"), places=2,
        validators=[InputRequired(), NumberRange(
            *tracks.CALIBRATION_BOUND, message=_l("Between %(min)s and %(max)s points."))])
    submit = SubmitField(_l("Save settings"))


def settings_form(campaign: Campaign) -> CampaignSettingsForm:
    """The settings form filled from the campaign (for the campaign page's include)."""
    return CampaignSettingsForm(formdata=None, obj=campaign)


@bp.app_template_global("campaign_settings_form")
def _campaign_settings_form(campaign: Campaign) -> CampaignSettingsForm:
    return settings_form(campaign)


def _campaign_or_404(campaign_id: int) -> Campaign:
    return get_db().get(Campaign, campaign_id) or abort(404)


@bp.route("/reviewers")
@access.guard(access.may_manage_reviewer_pool)
def pool(campaign_id: int):
    """The reviewer pool of a campaign, with a form to add someone."""
    campaign = _campaign_or_404(campaign_id)
    return _render_pool(campaign, AddReviewerForm())


def _render_pool(campaign: Campaign, form: AddReviewerForm, status: int = 200):
    db = get_db()
    members = db.execute(
        select(User.id, User.email, User.active, CampaignReviewer.added_at)
        .join(CampaignReviewer, CampaignReviewer.user_id == User.id)
        .where(CampaignReviewer.campaign_id == campaign.id)
        .order_by(User.email)
    ).all()
    pool_ids = {m.id for m in members}
    candidates = [u for u in db.scalars(select(User).where(User.role == Role.REVIEWER,
                                                           User.active.is_(True))
                                        .order_by(User.email).limit(500))
                  if u.id not in pool_ids and access.may_join_reviewer_pool(u)]
    return render_template("coordinator/reviewers.html", campaign=campaign, members=members,
                           form=form, remove_form=ConfirmForm(),
                           candidates=[u.email for u in candidates]), status


@bp.route("/reviewers/add", methods=["POST"])
@access.guard(access.may_manage_reviewer_pool)
def add(campaign_id: int):
    """Add a reviewer; the custodian and other non-reviewers are refused with a reason."""
    campaign = _campaign_or_404(campaign_id)
    form = AddReviewerForm()
    if not form.validate_on_submit():
        return _render_pool(campaign, form, 400)
    db = get_db()
    user = accounts.find_user(db, email=form.email.data)
    if user is None:
        form.email.errors.append(_("There is no account with this e-mail."))
        return _render_pool(campaign, form, 400)
    try:
        assignment.join_pool(db, campaign=campaign, user=user, by=current_user)
    except assignment.AssignmentError as exc:
        form.email.errors.append(error_message(exc))
        return _render_pool(campaign, form, 400)
    flash(_("%(email)s can now review this campaign.", email=user.email), "success")
    return redirect(url_for("reviewers.pool", campaign_id=campaign.id))


@bp.route("/reviewers/<int:user_id>/remove", methods=["POST"])
@access.guard(access.may_manage_reviewer_pool)
def remove(campaign_id: int, user_id: int):
    """Take a reviewer out of the pool; their submitted reviews stay, open leases return."""
    campaign = _campaign_or_404(campaign_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        returned = assignment.leave_pool(get_db(), campaign=campaign, user_id=user_id)
    except assignment.AssignmentError:
        abort(404)
    flash(_("The reviewer was removed from the pool.") + (
        " " + _("%(n)s answers they held went back to the pool.", n=returned) if returned
        else ""), "success")
    return redirect(url_for("reviewers.pool", campaign_id=campaign.id))


@bp.route("/reviews")
@access.guard(access.may_manage_reviewer_pool)
@writes
def progress(campaign_id: int):
    """Review progress per stage and task, reviewer load and severity, agreement per stage."""
    campaign = _campaign_or_404(campaign_id)
    db = get_db()
    data = review_stats.campaign_progress(db, campaign=campaign)
    drift = calibration.reviewer_drift(db, campaign=campaign)
    bound = float(campaign.calibration_bound)
    lines = {d.reviewer_id: charts.drift_line(
        values=d.series, bound=bound,
        title=_("Deviation from the reference, calibration answer by answer: %(email)s",
                email=d.email)) for d in drift}
    titles = calibration.criterion_titles(db, campaign=campaign) if drift else {}
    return render_template("coordinator/review_progress.html", campaign=campaign,
                           progress=data, form=ConfirmForm(), drift=drift, drift_lines=lines,
                           criterion_titles=titles,
                           drift_keys=[k for k in titles
                                       if any(k in d.by_criterion for d in drift)],
                           drift_window=calibration.DRIFT_WINDOW,
                           drift_min=calibration.DRIFT_MIN_REVIEWS)


@bp.route("/reviews/stages/<int:stage_id>")
@access.guard(access.may_manage_reviewer_pool)
@writes
def stage_scores(campaign_id: int, stage_id: int):
    """Every candidacy of a stage by code: normalised and raw scores and every review."""
    campaign = _campaign_or_404(campaign_id)
    stage = get_db().get(Stage, stage_id)
    if stage is None or stage.campaign_id != campaign.id:
        abort(404)
    page = security.page_arg()
    total, rows = review_stats.stage_scores(get_db(), stage=stage,
                                            offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    return render_template("coordinator/review_progress_stage.html", campaign=campaign,
                           stage=stage, rows=rows, total=total, page=page, pages=pages,
                           offset=(page - 1) * PAGE_SIZE,
                           criteria=decisions.criterion_titles(get_db(),
                                                               campaign_id=campaign.id))


@bp.route("/reviews/normalise", methods=["POST"])
@access.guard(access.may_manage_reviewer_pool)
def normalise(campaign_id: int):
    """Recompute every normalised score of the campaign exactly."""
    campaign = _campaign_or_404(campaign_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    changed = review_stats.renormalise_campaign(get_db(), campaign=campaign)
    flash(_("Normalised scores recomputed (%(n)s changed).", n=changed), "success")
    return redirect(url_for("reviewers.progress", campaign_id=campaign.id))


@bp.route("/settings", methods=["GET", "POST"])
@access.guard(access.may_manage_campaigns)
def settings(campaign_id: int):
    """Rename the campaign and set its lease length, calibration rate and drift bound."""
    campaign = _campaign_or_404(campaign_id)
    form = CampaignSettingsForm(obj=campaign)
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                tracks.change_settings(
                    get_db(), campaign=campaign, title_en=form.title_en.data,
                    title_ru=form.title_ru.data, lease_minutes=form.lease_minutes.data,
                    calibration_rate=form.calibration_rate.data,
                    calibration_bound=form.calibration_bound.data)
            except tracks.CampaignError:
                language = tracks.title_clash(get_db(), title_en=form.title_en.data,
                                              title_ru=form.title_ru.data,
                                              campaign_id=campaign.id)
                field = form.title_ru if language == "ru" else form.title_en
                field.errors.append(_("Another campaign already has this name; waves are told "
                                      "apart by their names."))
            else:
                flash(_("Settings saved."), "success")
                return redirect(url_for("coordinator.campaign", campaign_id=campaign.id))
        return render_template("coordinator/campaign_settings.html", campaign=campaign,
                               settings_form=form), 400
    # The form lives on the campaign page; this address only shows it again with its errors.
    return redirect(url_for("coordinator.campaign", campaign_id=campaign.id, _anchor="settings"))
