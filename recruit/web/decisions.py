"""Stage decisions for coordinators: ranking, cut-off preview and apply, single decisions,
alternate roles and invitations. Candidacies appear by code only."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from recruit import access, security
from recruit.db import get_db, utcnow, writes
from recruit.domain import decisions, integrity
from recruit.i18n import current_language
from recruit.models import Campaign, Candidacy, JobRole, Stage
from recruit.web.forms import Form

bp = Blueprint("decisions", __name__, url_prefix="/coordinate/campaigns/<int:campaign_id>")

ERRORS = {
    "rule_kind": _l("Choose “top N” or “score at least”."),
    "rule_value": _l("Enter a number."),
    "rule_top_n": _l("Top N needs a whole number of at least 1."),
    "rule_min_score": _l("The minimum score must be between 1 and 5."),
    "cutoff_changed": _l("The ranking changed since you looked at the preview (a review came in "
                         "or someone decided). Nothing was applied; check the preview again."),
    "reason_required": _l("Give a reason: every single decision records why."),
    "outcome": _l("Choose advance, reject or hold."),
    "wrong_stage": _l("This candidacy is not waiting for a decision at this stage."),
    "wrong_campaign": _l("This candidacy belongs to another campaign."),
    "transition": _l("This candidacy cannot take that decision in its present state."),
    "same_campaign": _l("Choose a campaign other than the candidacy's own."),
    "erased": _l("The candidate erased their account; there is nobody to invite."),
    "target_closed": _l("That campaign has closed."),
    "already_there": _l("The candidate already takes part in that campaign."),
}


def error_text(exc: decisions.DecisionError) -> str:
    """The domain error in the user's language."""
    return str(ERRORS.get(exc.code, str(exc)))


RULE_KINDS = [SelectChoice("top_n", _l("Top N")), SelectChoice("min_score", _l("Score at least"))]


class CutoffForm(Form):
    """A cut-off rule; the GET form previews, the POST form (with the expected counts) applies."""

    kind = SelectField(_l("Cut-off"), choices=RULE_KINDS, validators=[DataRequired()])
    value = StringField(_l("Value"), validators=[DataRequired(), Length(max=20)])
    expect_advance = HiddenField(validators=[Length(max=9)])
    expect_reject = HiddenField(validators=[Length(max=9)])
    submit = SubmitField(_l("Apply the cut-off"))


class PreviewForm(Form):
    """The same rule, sent by GET: a preview changes nothing, so it needs no CSRF token."""

    class Meta:
        csrf = False

    kind = SelectField(_l("Cut-off"), choices=RULE_KINDS)
    value = StringField(_l("Value"), validators=[Length(max=20)])
    submit = SubmitField(_l("Preview"))


class DecisionForm(Form):
    """One decision on one candidacy, with its reason."""

    outcome = RadioField(_l("Decision"), choices=[SelectChoice("advance", _l("Advance")),
                                                  SelectChoice("reject", _l("Do not pass")),
                                                  SelectChoice("hold", _l("Hold for later"))],
                         validators=[InputRequired(message=_l("Choose a decision."))])
    reason = TextAreaField(_l("Reason"), validators=[
        DataRequired(message=_l("Give a reason: every single decision records why.")),
        Length(max=2000)])
    submit = SubmitField(_l("Record the decision"))


class IntegrityForm(Form):
    """The campaign's integrity thresholds."""

    similarity_threshold = IntegerField(
        _l("Flag answers at least this similar (per cent)"),
        validators=[InputRequired(message=_l("Enter a whole number.")),
                    NumberRange(*integrity.SIMILARITY_RANGE,
                                message=_l("Between %(min)s and %(max)s per cent."))])
    paste_threshold = IntegerField(
        _l("Flag answers with at least this share pasted (per cent)"),
        validators=[InputRequired(message=_l("Enter a whole number.")),
                    NumberRange(*integrity.PASTE_RANGE,
                                message=_l("Between %(min)s and %(max)s per cent."))])
    compare_earlier = BooleanField(
        _l("Also compare with the answers of this track's earlier campaigns"))
    submit = SubmitField(_l("Save the thresholds"))


class InviteForm(Form):
    """Invite a candidacy that did not pass into another campaign's track."""

    target = SelectField(_l("Campaign"), coerce=int, validators=[InputRequired()])
    submit = SubmitField(_l("Invite"))


def _load(campaign_id: int, stage_id: int | None = None) -> tuple[Campaign, Stage | None]:
    db = get_db()
    campaign = db.get(Campaign, campaign_id) or abort(404)
    stage = None
    if stage_id is not None:
        stage = db.get(Stage, stage_id)
        if stage is None or stage.campaign_id != campaign.id:
            abort(404)
    return campaign, stage


def _candidacy(campaign: Campaign, code: str) -> Candidacy:
    candidacy = get_db().scalar(select(Candidacy).where(Candidacy.code == code,
                                                        Candidacy.campaign_id == campaign.id))
    return candidacy or abort(404)


def _page_arg() -> int:
    return security.page_arg()


@bp.route("/stages/<int:stage_id>/decisions")
@access.guard(access.may_manage_campaigns)
@writes
def stage(campaign_id: int, stage_id: int):
    """The stage ranked by score, with flags, a cut-off preview and the way to apply it."""
    db = get_db()
    campaign, stage = _load(campaign_id, stage_id)
    default = decisions.default_rule(stage)
    preview_form = PreviewForm(request.args, meta={"csrf": False})
    kind = request.args.get("kind") or default.kind
    value = request.args.get("value") or (str(int(default.value)) if default.kind == "top_n"
                                          else f"{default.value:.2f}")
    preview_form.kind.data, preview_form.value.data = kind, value
    preview = error = None
    # The preview runs on request only: it weighs the whole stage, the ranking one page.
    if "kind" in request.args:
        try:
            rule = decisions.make_rule(kind=kind, value=value)
        except decisions.DecisionError as exc:
            error = error_text(exc)
        else:
            preview = decisions.preview_cutoff(db, stage=stage, rule=rule, now=utcnow())
    apply_form = CutoffForm(formdata=None, kind=kind, value=value,
                            expect_advance=preview.advance if preview else "",
                            expect_reject=preview.reject if preview else "")
    ranking = decisions.ranking_page(db, stage=stage, page=_page_arg(), now=utcnow())
    return render_template("coordinator/decisions.html", campaign=campaign, stage=stage,
                           ranking=ranking, preview=preview, preview_error=error,
                           preview_form=preview_form, apply_form=apply_form,
                           default=default,
                           rule_args={"kind": kind, "value": value} if preview else {})


@bp.route("/stages/<int:stage_id>/cutoff", methods=["POST"])
@access.guard(access.may_manage_campaigns)
def cutoff_apply(campaign_id: int, stage_id: int):
    """Apply a previewed cut-off in one transaction."""
    db = get_db()
    campaign, stage = _load(campaign_id, stage_id)
    form = CutoffForm()
    back = url_for(".stage", campaign_id=campaign.id, stage_id=stage.id,
                   kind=form.kind.data or None, value=form.value.data or None)
    if not form.validate_on_submit():
        flash(_("Choose a cut-off and a value, look at the preview, then apply it."), "error")
        return redirect(back)
    try:
        rule = decisions.make_rule(kind=form.kind.data, value=form.value.data)
        expect = (int(form.expect_advance.data), int(form.expect_reject.data))
    except decisions.DecisionError as exc:
        flash(error_text(exc), "error")
        return redirect(back)
    except ValueError:
        flash(str(ERRORS["cutoff_changed"]), "error")
        return redirect(back)
    try:
        result = decisions.apply_cutoff(db, stage=stage, rule=rule, by=current_user,
                                        now=utcnow(), expect=expect)
    except decisions.DecisionError as exc:
        flash(error_text(exc), "error")
        return redirect(back)
    flash(_("Cut-off applied: %(advanced)s advanced, %(rejected)s did not pass.",
            advanced=result.advanced, rejected=result.rejected), "success")
    return redirect(back)


@bp.route("/stages/<int:stage_id>/candidacies/<code>", methods=["GET", "POST"])
@access.guard(access.may_manage_campaigns)
@writes
def candidacy(campaign_id: int, stage_id: int, code: str):
    """One candidacy at a stage: scores and criteria, past decisions, and a single decision."""
    db = get_db()
    campaign, stage = _load(campaign_id, stage_id)
    candidacy = _candidacy(campaign, code)
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            decisions.decide(db, candidacy=candidacy, stage=stage, outcome=form.outcome.data,
                             reason=form.reason.data, by=current_user, now=utcnow())
        except decisions.DecisionError as exc:
            form.outcome.errors = [*form.outcome.errors, error_text(exc)]
        else:
            flash(_("Decision recorded for %(code)s.", code=candidacy.code), "success")
            return redirect(url_for(".stage", campaign_id=campaign.id, stage_id=stage.id))
    view = decisions.candidacy_at_stage(db, candidacy=candidacy, stage=stage)
    return render_template("coordinator/decision_candidacy.html", campaign=campaign, stage=stage,
                           view=view, form=form,
                           show_flags=access.may_see_integrity_flags(current_user)), \
        400 if form.errors else 200


@bp.route("/stages/<int:stage_id>/candidacies/<code>/similar/<int:pair_id>")
@access.guard(access.may_see_integrity_flags)
def similar_pair(campaign_id: int, stage_id: int, code: str, pair_id: int):
    """Two alike answers side by side, redacted, with the passages they share marked."""
    db = get_db()
    campaign, stage = _load(campaign_id, stage_id)
    candidacy = _candidacy(campaign, code)
    view = integrity.pair_view(db, pair_id=pair_id, candidacy=candidacy, stage=stage)
    if view is None:
        abort(404)
    return render_template("coordinator/similar_pair.html", campaign=campaign, stage=stage,
                           code=candidacy.code, pair=view)


@bp.route("/integrity", methods=["GET", "POST"])
@access.guard(access.may_see_integrity_flags)
def integrity_overview(campaign_id: int):
    """The campaign's near-duplicate pairs and clusters, flagged counts, and thresholds."""
    db = get_db()
    campaign, _stage = _load(campaign_id)
    form = IntegrityForm(obj=campaign)
    status = 200
    if request.method == "POST":
        access.require(access.may_change_integrity_settings(current_user))
        if form.validate_on_submit():
            integrity.change_settings(db, campaign=campaign,
                                      similarity_threshold=form.similarity_threshold.data,
                                      paste_threshold=form.paste_threshold.data,
                                      compare_earlier=form.compare_earlier.data)
            flash(_("Integrity thresholds saved."), "success")
            return redirect(url_for(".integrity_overview", campaign_id=campaign.id))
        status = 400
    figures = integrity.campaign_integrity(db, campaign=campaign)
    return render_template("coordinator/integrity.html", campaign=campaign, form=form,
                           figures=figures), status


@bp.route("/alternates")
@access.guard(access.may_manage_campaigns)
def alternates(campaign_id: int):
    """Candidacies that did not pass but meet another role's requirements so far, with the
    reasons, what is not known yet, and for each role the campaigns open to an invitation."""
    db = get_db()
    campaign, _stage = _load(campaign_id)
    page = decisions.alternates_page(db, campaign=campaign, page=_page_arg())
    open_for: dict[str, list[Campaign]] = {}
    for target in _invite_targets(campaign):
        if target.job_role is not None:
            open_for.setdefault(target.job_role.key, []).append(target)
    role_tracks = dict(db.execute(select(JobRole.key, JobRole.track_key)).all())
    return render_template("coordinator/decision_alternates.html", campaign=campaign,
                           page=page, open_for=open_for, role_tracks=role_tracks,
                           titles=decisions.criterion_titles(db, campaign_id=campaign.id),
                           form=InviteForm(formdata=None))


def _invite_targets(campaign: Campaign) -> list[Campaign]:
    """Campaigns still open to invitations, other than this one."""
    return list(get_db().scalars(
        select(Campaign).where(Campaign.id != campaign.id, Campaign.closes_at > utcnow())
        .options(joinedload(Campaign.job_role)).order_by(Campaign.opens_at.desc())))


@bp.route("/candidacies/<code>/invite", methods=["POST"])
@access.guard(access.may_manage_campaigns)
def invite(campaign_id: int, code: str):
    """Invite the candidate into another campaign's track; eligibility is not asked again."""
    db = get_db()
    campaign, _stage = _load(campaign_id)
    candidacy = _candidacy(campaign, code)
    form = InviteForm()
    form.target.choices = [SelectChoice(c.id, c.key) for c in _invite_targets(campaign)]
    back = url_for(".alternates", campaign_id=campaign.id)
    if not form.validate_on_submit():
        flash(_("Choose a campaign to invite the candidate into."), "error")
        return redirect(back)
    target = db.get(Campaign, form.target.data) or abort(404)
    try:
        fresh = decisions.invite(db, candidacy=candidacy, target=target, by=current_user,
                                 now=utcnow())
    except decisions.DecisionError as exc:
        flash(error_text(exc), "error")
        return redirect(back)
    flash(_("%(code)s is invited into %(campaign)s as %(new)s.", code=candidacy.code,
            campaign=target.title(current_language()), new=fresh.code), "success")
    return redirect(back)
