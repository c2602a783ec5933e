"""The coordinator's pages: tracks, campaigns; candidacies by code, never by name."""

from __future__ import annotations

from collections import defaultdict
from zoneinfo import ZoneInfo

from babel.core import get_global
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
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select
from wtforms import DateField, IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError
from wtforms.validators import NumberRange as Range

from recruit import access, clock
from recruit.db import get_db, utcnow
from recruit.domain import eligibility, feedback, funnel, notify, tracks
from recruit.i18n import current_language, format_count, zone_label
from recruit.models import (
    Answer,
    Campaign,
    CampaignReviewer,
    Candidacy,
    ContactRequest,
    TrackVersion,
)
from recruit.reports import charts
from recruit.reports import data as report_data
from recruit.web.forms import Form

bp = Blueprint("coordinator", __name__, url_prefix="/coordinate")


@bp.route("/")
@access.guard(access.may_manage_campaigns)
def home():
    """Campaigns, newest first, with how many candidacies each has."""
    db = get_db()
    counts = dict(db.execute(select(Candidacy.campaign_id, func.count())
                             .group_by(Candidacy.campaign_id)).all())
    campaigns = db.scalars(select(Campaign).order_by(Campaign.opens_at.desc())).all()
    custody = None
    if access.may_check_redaction(current_user):
        # The custodian lands here: what waits at the custody desk is the first thing to see.
        custody = {
            "pending": db.scalar(select(func.count()).select_from(Answer)
                                 .where(Answer.check_status == "pending")) or 0,
            "requests": db.scalar(select(func.count()).select_from(ContactRequest)
                                  .where(ContactRequest.handled_at.is_(None))) or 0,
        }
    return render_template("coordinator/home.html", campaigns=campaigns, counts=counts,
                           custody=custody)


@bp.route("/tracks")
@access.guard(access.may_manage_campaigns)
def tracks_list():
    """Every loaded questionnaire and its versions."""
    db = get_db()
    versions = db.scalars(select(TrackVersion).order_by(TrackVersion.key,
                                                        TrackVersion.id.desc())).all()
    used = dict(db.execute(select(Campaign.track_version_id, func.count())
                           .group_by(Campaign.track_version_id)).all())
    grouped: dict[str, list[TrackVersion]] = defaultdict(list)
    for version in versions:
        grouped[version.key].append(version)
    return render_template("coordinator/tracks.html", grouped=grouped, used=used)


@bp.route("/tracks/<int:version_id>")
@access.guard(access.may_manage_campaigns)
def track(version_id: int):
    """A read-only view of one version: stages, tasks and rubrics (or roles, or questions)."""
    db = get_db()
    version = db.get(TrackVersion, version_id) or abort(404)
    return render_template("coordinator/track.html", version=version, data=version.data,
                           countries=dict(eligibility.citizenship_choices(
                               locale=current_language())),
                           criteria=tracks.criterion_titles(db))


def _zone_choices() -> list[tuple[str, str]]:
    """Time zones to choose from, by city and offset, west to east; the site's zone first.

    They are the zones of the countries campaigns take applicants from (Russia and the other
    EAEU states), from the CLDR's zone-to-country table.
    """
    default = current_app.config["BABEL_DEFAULT_TIMEZONE"]
    zones = {zone for zone, country in get_global("zone_territories").items()
             if country in eligibility.EAEU_CITIZENSHIPS} | {default}
    now = utcnow()
    ordered = sorted(zones, key=lambda z: (z != default, now.astimezone(ZoneInfo(z)).utcoffset(),
                                           zone_label(z, at=now)))
    return [(zone, zone_label(zone, at=now)) for zone in ordered]


def _track_choices() -> list[tuple[str, str]]:
    """Each loaded track by its title in the reader's language (newest version's title)."""
    lang = current_language()
    titles: dict[str, str] = {}
    for key, data in get_db().execute(select(TrackVersion.key, TrackVersion.data)
                                      .where(TrackVersion.kind == "track")
                                      .order_by(TrackVersion.id.desc())):
        titles.setdefault(key, (data.get("title") or {}).get(lang) or key)
    return sorted(titles.items(), key=lambda item: item[1])


class CampaignForm(Form):
    """Create a wave from a loaded track."""

    track = SelectField(_l("Track"), validators=[DataRequired()])
    key = StringField(_l("Key (optional)"), validators=[
        Optional(), Length(max=64), Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
                           message=_l("Use lowercase Latin letters, digits and hyphens."))])
    opens = DateField(_l("Opens on"), validators=[DataRequired()])
    closes = DateField(_l("Closes on"), validators=[DataRequired()])
    time_zone = SelectField(_l("Time zone"), validators=[DataRequired()])
    capacity = IntegerField(_l("Capacity (offers at most)"),
                            validators=[Optional(), Range(min=1, message=_l("At least 1.")),
                                        Range(max=1_000_000,
                                              message=_l("At most %(max)s.", max="1 000 000"))])
    submit = SubmitField(_l("Create campaign"))

    def validate_closes(self, field):
        """The closing date comes after the opening date."""
        if self.opens.data and field.data and field.data <= self.opens.data:
            raise ValidationError(_l("The campaign must close after it opens."))


@bp.route("/campaigns/new", methods=["GET", "POST"])
@access.guard(access.may_manage_campaigns)
def campaign_new():
    """Create a campaign from the newest version of a track."""
    # The alternate-roles page links here with the track of a role no open campaign hires for.
    form = CampaignForm(track=request.args.get("track"),
                        time_zone=current_app.config["BABEL_DEFAULT_TIMEZONE"])
    form.track.choices = _track_choices()
    form.time_zone.choices = _zone_choices()
    if form.validate_on_submit():
        db = get_db()
        zone = form.time_zone.data
        try:
            # A date means the whole day in the campaign's zone: open from its first minute,
            # closing at the end of the last day.
            campaign = tracks.create_campaign(
                db, track_key=form.track.data, key=form.key.data or None,
                opens_at=clock.start_of_day(form.opens.data, zone=zone),
                closes_at=clock.end_of_day(form.closes.data, zone=zone),
                capacity=form.capacity.data, time_zone=zone)
        except tracks.CampaignError as exc:
            form.key.errors.append(str(exc))
        else:
            told = notify.notify_waitlist(db, campaign=campaign, now=utcnow())
            flash(_("Campaign %(key)s created.", key=campaign.key), "success")
            if told:
                flash(ngettext("%(num)d person on the waitlist was told the wave is open.",
                               "%(num)d people on the waitlist were told the wave is open.",
                               told), "info")
            return redirect(url_for("coordinator.campaign", campaign_id=campaign.id))
    return render_template("coordinator/campaign_new.html", form=form)


@bp.route("/campaigns/<int:campaign_id>")
@access.guard(access.may_manage_campaigns)
def campaign(campaign_id: int):
    """The campaign's hub: its funnel, each stage's review progress and decisions, and a link
    to every page of the campaign (reviewers, decisions, alternate roles, offers, reports)."""
    db = get_db()
    campaign = db.get(Campaign, campaign_id) or abort(404)
    states = dict(db.execute(select(Candidacy.state, func.count())
                             .where(Candidacy.campaign_id == campaign.id)
                             .group_by(Candidacy.state)).all())
    numbers = funnel.campaign_funnel(db, campaign=campaign)
    pool = db.scalar(select(func.count()).select_from(CampaignReviewer)
                     .where(CampaignReviewer.campaign_id == campaign.id)) or 0
    chart = charts.funnel_chart(steps=report_data.funnel_steps(numbers),
                                title=_("From registration to hire"), width=360,
                                empty_label=_("No data"), value_format=format_count,
                                stacked=True)
    return render_template("coordinator/campaign.html", campaign=campaign, states=states,
                           funnel=numbers, funnel_svg=chart, pool_size=pool,
                           stage_numbers={s.stage_id: s for s in numbers.stages},
                           feedback_numbers=feedback.campaign_numbers(db, campaign=campaign),
                           countries=dict(eligibility.citizenship_choices(
                               locale=current_language())))
