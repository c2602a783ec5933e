"""The applicant's pages: profile and eligibility, waves and waitlist, stages with autosave,
status, and their own data (withdraw, export, erase)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import flask_babel
import phonenumbers
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, logout_user
from sqlalchemy import select
from sqlalchemy.orm import defer, joinedload
from werkzeug.routing import BuildError
from werkzeug.security import check_password_hash
from wtforms import (
    BooleanField,
    DateField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
    TelField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from recruit import access, clock, limits, security, vault
from recruit.db import get_db, writes
from recruit.domain import applications, eligibility, feedback, notify
from recruit.domain.applications import ApplicationError
from recruit.domain.pipeline import TRANSITIONS, Event, State
from recruit.i18n import current_language
from recruit.models import Answer, Campaign, Candidacy, Identity, Stage, Submission
from recruit.web.forms import ConfirmForm, Form

bp = Blueprint("applicant", __name__, url_prefix="/me")

# What an applicant reads for each state: human words, never the code, never "on hold"
# (a postponed decision is still a decision under review from their side).
STATE_LABELS = {
    State.APPLIED: _l("Applied — the first stage is waiting for you"),
    State.IN_STAGE: _l("Stage in progress"),
    State.SUBMITTED: _l("Submitted — under review"),
    State.ON_HOLD: _l("Submitted — under review"),
    State.ADVANCED: _l("Passed — your next tasks are waiting"),
    State.PASSED: _l("Passed every stage"),
    State.NOT_PASSED: _l("Not passed"),
    State.OFFERED: _l("Offer waiting for your answer"),
    State.INVITED: _l("Invited to another track"),
    State.HIRED: _l("Hired"),
    State.DECLINED: _l("Offer declined"),
    State.EXPIRED: _l("Offer expired"),
    State.WITHDRAWN: _l("Withdrawn"),
}


def state_label(state: str) -> str:
    """The applicant-facing label of a candidacy state."""
    return str(STATE_LABELS[State(state)])


def _time(value) -> str:
    return flask_babel.format_time(value, "HH:mm")


def _datetime(value) -> str:
    return flask_babel.format_datetime(value, "d MMM y, HH:mm")


@bp.context_processor
def _helpers():
    return {"state_label": state_label, "fmt_time": _time, "fmt_datetime": _datetime,
            "word_count": applications.word_count}


def _error_message(error: ApplicationError, *, json_client: bool = False) -> str:
    """The applicant-facing sentence for a refused action."""
    p = error.params
    if error.code == "campaign_closed":
        return _("This wave no longer accepts applications.")
    if error.code == "already_applied":
        return _("You have already applied to this wave.")
    if error.code == "stage_not_open":
        return _("This stage cannot be started now.")
    if error.code == "campaign_over":
        return _("The wave has closed, so stages can no longer be started.")
    if error.code == "submitted":
        return _("This stage was submitted on %(when)s; the answers can no longer be changed.",
                 when=_datetime(p["submitted_at"]))
    if error.code == "deadline":
        if json_client:
            return _("Time is up: the stage ended at %(time)s, and the drafts saved before "
                     "then are handed in as they are. This newer text was not saved; it stays "
                     "in this browser so you can copy it.", time=_time(p["deadline_at"]))
        return _("Time is up: the stage ended at %(time)s and your last saved drafts were "
                 "submitted. The text you sent afterwards was not saved; it is shown below so "
                 "you can copy it.", time=_time(p["deadline_at"]))
    if error.code == "not_in_stage":
        return _("This application is not taking a stage now, so nothing can be saved.")
    if error.code == "conflict":
        return _("This answer was saved from another tab or device at %(time)s. Your text here "
                 "was not saved, so nothing was overwritten; it stays in this browser. Reload "
                 "the page to see the saved version.",
                 time=_time(p["saved_at"]) if p.get("saved_at") else "—")
    if error.code == "text_too_long":
        return _("This text is too long to save (more than %(n)s characters). Nothing was cut: "
                 "shorten it and save again.", n=p["max_chars"])
    if error.code == "word_limits":
        return _("Some answers do not meet their word limits yet.")
    if error.code == "bad_counts":
        return _("The answer could not be read; it is kept in this browser.")
    return str(error)


def _form_counts(answer_id: int) -> applications.InputCounts | None:
    """The typing and paste counts the stage form sent for one answer (None: none sent)."""
    raw = [request.form.get(f"{name}-{answer_id}") for name in ("typed", "pasted", "longest")]
    if all(value in (None, "") for value in raw):
        return None
    try:
        return applications.InputCounts(*(int(value or 0) for value in raw))
    except (ValueError, ApplicationError):
        return None  # a form without script or with nonsense loses nothing but the counts


def _json_counts(payload: dict) -> applications.InputCounts | None:
    """The counts of an autosave request: ``{"input": {"typed", "pasted", "longest"}}``."""
    counts = payload.get("input")
    if counts is None:
        return None
    if not isinstance(counts, dict):
        raise ApplicationError("bad_counts", "input counts must be an object")
    return applications.InputCounts(counts.get("typed", 0), counts.get("pasted", 0),
                                    counts.get("longest", 0))


# -- forms -------------------------------------------------------------------------------------

class ProfileForm(Form):
    """Who the applicant is: stored encrypted, seen only by the applicant and the custodian."""

    first = StringField(_l("First name"), validators=[
        DataRequired(message=_l("Enter your first name.")), Length(max=100)])
    middle = StringField(_l("Middle name"),
                         validators=[Optional(), Length(max=100)])
    last = StringField(_l("Last name"), validators=[
        DataRequired(message=_l("Enter your last name.")), Length(max=100)])
    birth_date = DateField(_l("Date of birth"), validators=[
        InputRequired(message=_l("Enter your date of birth."))])
    citizenship = SelectField(_l("Citizenship"), validate_choice=False, validators=[
        DataRequired(message=_l("Choose your citizenship."))])
    city = StringField(_l("City where you live"), validators=[
        DataRequired(message=_l("Enter the city where you live.")), Length(max=100)])
    phone = TelField(_l("Phone"), validators=[
        DataRequired(message=_l("Enter your phone number.")), Length(max=40)])
    submit = SubmitField(_l("Save profile"))

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.citizenship.choices = [("", _("Choose a country…")),
                                    *eligibility.citizenship_choices(locale=current_language())]

    def validate_birth_date(self, field):
        """A date that cannot be real is a typo, not a reason to turn someone away."""
        if field.data is None:
            return
        try:
            eligibility.validate_birth_date(birth_date=field.data, today=self.today)
        except eligibility.InvalidInput as exc:
            if exc.code == "birth_date_future":
                raise ValidationError(_("The date of birth cannot be in the future.")) from None
            raise ValidationError(_("Please check the year: the date of birth must be in 1900 "
                                    "or later.")) from None

    def validate_citizenship(self, field):
        """Only countries of the list (ISO 3166 codes)."""
        try:
            eligibility.validate_citizenship(citizenship=field.data or "")
        except eligibility.InvalidInput:
            raise ValidationError(_("Choose a country from the list.")) from None

    def validate_phone(self, field):
        """A real phone number; stored in international form."""
        region = self.citizenship.data if self.citizenship.data else "RU"
        try:
            number = phonenumbers.parse(field.data, region)
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            raise ValidationError(_("This does not look like a valid phone number. Include the "
                                    "country code, for example +7 912 345-67-89."))
        field.data = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def identity_fields(self) -> dict[str, str]:
        """The vault's fields from the form."""
        return {
            "first": self.first.data.strip(),
            "middle": (self.middle.data or "").strip(),
            "last": self.last.data.strip(),
            "birth_date": self.birth_date.data.isoformat(),
            "citizenship": self.citizenship.data,
            "city": self.city.data.strip(),
            "phone": self.phone.data,
        }


def _apply_form(campaign: Campaign, *, today: date, data: dict | None) -> ProfileForm:
    """The profile form plus the acknowledgements this campaign requires."""

    class ApplyForm(ProfileForm):
        submit = SubmitField(_l("Check eligibility and apply"))

    locale = current_language()
    for i, ack in enumerate(campaign.acknowledgements or ()):
        setattr(ApplyForm, f"ack_{i}", BooleanField(ack.get(locale) or ack["en"]))
    return ApplyForm(data=data, today=today)


def _acknowledged(form: ProfileForm, campaign: Campaign) -> list[str]:
    return [ack["key"] for i, ack in enumerate(campaign.acknowledgements or ())
            if getattr(form, f"ack_{i}").data]


class EraseForm(Form):
    """Erasing an account is confirmed with the password and an explicit tick."""

    password = PasswordField(_l("Your password"), validators=[
        InputRequired(message=_l("Enter your password to confirm.")), Length(max=200)])
    understood = BooleanField(_l("I understand that my account and my personal data will be "
                                 "deleted and cannot be restored."))
    submit = SubmitField(_l("Erase my account"))

    def validate_understood(self, field):
        """The tick is required."""
        if not field.data:
            raise ValidationError(_("Tick the box to confirm."))


# -- helpers -----------------------------------------------------------------------------------

def _today(now) -> date:
    # "18 on the day of application" means the day where the company is (Moscow time).
    return flask_babel.to_user_timezone(now).date()


def _identity_data() -> dict | None:
    identity = vault.open_identity_of(get_db(), user_id=current_user.id)
    if identity is None:
        return None
    data = {k: getattr(identity, k) for k in vault.FIELDS}
    try:
        data["birth_date"] = date.fromisoformat(data["birth_date"])
    except ValueError:
        data["birth_date"] = None
    return data


def _store_profile(form: ProfileForm, previous: dict | None) -> None:
    fields = {k: v for k, v in (previous or {}).items() if k in vault.FIELDS}
    if isinstance(fields.get("birth_date"), date):
        fields["birth_date"] = fields["birth_date"].isoformat()
    fields.update(form.identity_fields())
    vault.store_identity(get_db(), user=current_user, fields=fields)


def _has_profile() -> bool:
    return get_db().scalar(select(Identity.id).where(Identity.user_id == current_user.id)) \
        is not None


def _own_candidacy(candidacy_id: int) -> Candidacy:
    candidacy = get_db().get(Candidacy, candidacy_id) or abort(404)
    access.require_known(access.owns(current_user, user_id=candidacy.user_id))
    return candidacy


def _stage_of(candidacy: Candidacy, stage_id: int) -> Stage:
    stage = get_db().get(Stage, stage_id)
    if stage is None or stage.campaign_id != candidacy.campaign_id:
        abort(404)
    return stage


def _offer_link(offer_id: int) -> str | None:
    """The offers area owns the offer page; link to it once it exists."""
    for endpoint in ("offers.show",):
        try:
            return url_for(endpoint, offer_id=offer_id)
        except BuildError:
            continue
    return None


def _limits_label(task) -> str | None:
    # Shown after "Words: 96", so the label names the limits without repeating "words:".
    if task.max_words is not None and task.min_words:
        return ngettext("%(min)d to %(num)d word", "%(min)d to %(num)d words", task.max_words,
                        min=task.min_words)
    if task.max_words is not None:
        return ngettext("up to %(num)d word", "up to %(num)d words", task.max_words)
    if task.min_words:
        return ngettext("at least %(num)d word", "at least %(num)d words", task.min_words)
    return None


def _limit_messages(task) -> dict[str, str]:
    return {
        "too_short": _("Below the minimum of %(min)d words: you can save this draft, but you "
                       "can submit the stage only once the answer is long enough.",
                       min=task.min_words),
        "too_long": _("Over the limit of %(max)d words: the draft is saved in full, nothing is "
                      "cut, but shorten it before you submit the stage.",
                      max=task.max_words or 0),
    }


def _answer_views(submission, texts: dict[int, str] | None = None,
                  versions: dict[int, int] | None = None,
                  errors: dict[int, str] | None = None) -> list[dict]:
    views = []
    for answer in sorted(submission.answers, key=lambda a: a.task.position):
        task = answer.task
        text = (texts or {}).get(answer.id, answer.text)
        words = applications.word_count(text)
        views.append({
            "answer": answer,
            "task": task,
            "text": text,
            "version": (versions or {}).get(answer.id, answer.version),
            "words": words,
            "limits": _limits_label(task),
            "problem": applications.word_limit_problem(words=words, min_words=task.min_words,
                                                       max_words=task.max_words),
            "messages": _limit_messages(task),
            "error": (errors or {}).get(answer.id),
        })
    return views


# -- home, profile, applying -------------------------------------------------------------------

@bp.route("/")
@writes  # closes an expired stage of the applicant's on the way
@access.guard(access.is_applicant)
@writes
def home():
    """The applicant's candidacies, the waves open now, or the waitlist."""
    db, now = get_db(), clock.now()
    candidacies = db.scalars(
        select(Candidacy).where(Candidacy.user_id == current_user.id).order_by(Candidacy.id)
    ).all()
    for candidacy in candidacies:
        if candidacy.state == State.IN_STAGE:
            applications.close_expired(db, now=now, candidacy=candidacy)
    cards = []
    for candidacy in candidacies:
        submission = None
        if candidacy.state == State.IN_STAGE and candidacy.current_stage_id:
            submission = applications.submission_for(db, candidacy=candidacy,
                                                     stage=candidacy.current_stage)
        cards.append({"candidacy": candidacy, "open_submission": submission,
                      "next_stage": applications.next_stage(db, candidacy=candidacy)})
    open_campaigns = applications.open_campaigns(db, now=now)
    applied = {c.campaign_id for c in candidacies}
    return render_template("applicant/home.html", cards=cards, open_campaigns=open_campaigns,
                           applied=applied, has_profile=_has_profile(),
                           waitlist=applications.waitlist_entry(db, user=current_user))


@bp.route("/profile", methods=["GET", "POST"])
@access.guard(access.is_applicant)
def profile():
    """The applicant's personal details, stored encrypted."""
    previous = _identity_data()
    form = ProfileForm(data=previous if request.method == "GET" else None,
                       today=_today(clock.now()))
    if form.validate_on_submit():
        _store_profile(form, previous)
        flash(_("Your profile is saved."), "success")
        return redirect(url_for("applicant.home"))
    return render_template("applicant/profile.html", form=form)


def _campaign_description(campaign: Campaign) -> str:
    description = (campaign.track_version.data or {}).get("description") or {}
    return description.get(current_language()) or description.get("en") or ""


@bp.route("/campaigns/<int:campaign_id>/apply", methods=["GET", "POST"])
@access.guard(access.is_applicant)
def apply(campaign_id: int):
    """Apply to a wave: the profile, the acknowledgements, the eligibility check."""
    db, now = get_db(), clock.now()
    campaign = db.get(Campaign, campaign_id) or abort(404)
    existing = applications.candidacy_of(db, user=current_user, campaign=campaign)
    if existing is not None:
        flash(_("You have already applied to this wave."), "info")
        return redirect(url_for("applicant.candidacy", candidacy_id=existing.id))
    if not campaign.is_open(now):
        flash(_("This wave does not accept applications now."), "warning")
        return redirect(url_for("applicant.home"))
    if current_user.email_confirmed_at is None:
        flash(_("Please confirm your e-mail address first: we write to you there about every "
                "step."), "warning")
        return redirect(url_for("applicant.home"))
    previous = _identity_data()
    today = _today(now)
    form = _apply_form(campaign, today=today,
                       data=previous if request.method == "GET" else None)
    failures = None
    if form.validate_on_submit():
        _store_profile(form, previous)
        outcome = applications.check_eligibility(
            db, user=current_user, campaign=campaign, birth_date=form.birth_date.data,
            citizenship=form.citizenship.data, acknowledged=_acknowledged(form, campaign),
            on=today, now=now)
        if outcome.passed:
            try:
                candidacy = applications.apply(db, user=current_user, campaign=campaign, now=now)
            except ApplicationError as exc:
                flash(_error_message(exc), "warning")
                return redirect(url_for("applicant.home"))
            notify.application_received(db, candidacy=candidacy)
            flash(_("You meet the requirements and your application is in. The first stage "
                    "is below; start it when you have the time."), "success")
            return redirect(url_for("applicant.candidacy", candidacy_id=candidacy.id))
        failures = outcome.failures
        notify.not_eligible(db, user=current_user, campaign=campaign, failures=failures)
    locale = current_language()
    return render_template(
        "applicant/apply.html", form=form, campaign=campaign, failures=failures,
        description=_campaign_description(campaign),
        ack_fields=[getattr(form, f"ack_{i}") for i in range(len(campaign.acknowledgements
                                                                  or ()))],
        countries=dict(eligibility.citizenship_choices(locale=locale)),
        acknowledgements={a["key"]: a.get(locale) or a["en"]
                          for a in campaign.acknowledgements or ()},
        allowed=[c for c in eligibility.citizenship_choices(locale=locale)
                 if c[0] in campaign.citizenships])


@bp.route("/waitlist", methods=["POST"])
@access.guard(access.is_applicant)
def waitlist_join():
    """Join the waitlist: checked against the usual rules, e-mailed when a wave opens."""
    db, now = get_db(), clock.now()
    form = ConfirmForm()
    if not form.validate_on_submit():
        return redirect(url_for("applicant.home"))
    if current_user.email_confirmed_at is None:
        flash(_("Please confirm your e-mail address first: we write to you there about every "
                "step."), "warning")
        return redirect(url_for("applicant.home"))
    profile = _identity_data()
    if profile is None or profile.get("birth_date") is None:
        flash(_("Fill in your profile first: we check it against the usual requirements."),
              "info")
        return redirect(url_for("applicant.profile"))
    outcome = applications.check_eligibility(
        db, user=current_user, campaign=None, birth_date=profile["birth_date"],
        citizenship=profile["citizenship"], acknowledged=(), on=_today(now), now=now)
    if not outcome.passed:
        locale = current_language()
        return render_template("applicant/not_eligible.html", failures=outcome.failures,
                               countries=dict(eligibility.citizenship_choices(locale=locale)),
                               acknowledgements={})
    applications.join_waitlist(db, user=current_user, now=now)
    flash(_("You are on the waitlist. We will e-mail you as soon as a wave opens."), "success")
    return redirect(url_for("applicant.home"))


@bp.route("/waitlist/leave", methods=["POST"])
@access.guard(access.is_applicant)
def waitlist_leave():
    """Leave the waitlist."""
    if ConfirmForm().validate_on_submit():
        applications.leave_waitlist(get_db(), user=current_user)
        flash(_("You left the waitlist."), "info")
    return redirect(url_for("applicant.home"))


# -- status ------------------------------------------------------------------------------------

def _may_withdraw(candidacy: Candidacy) -> bool:
    # Someone who did not pass has nothing left to withdraw from: the wave ended for them
    # (an offer of another role, should one come, is declined on its own page).
    return (candidacy.state != State.NOT_PASSED
            and (State(candidacy.state), Event.WITHDRAW) in TRANSITIONS)


@bp.route("/candidacies/<int:candidacy_id>")
@writes  # closes an expired stage of the applicant's on the way
@access.guard(access.is_applicant)
@writes
def candidacy(candidacy_id: int):
    """One application's timeline: applied, stages, review, results, offers."""
    db, now = get_db(), clock.now()
    candidacy = _own_candidacy(candidacy_id)
    applications.close_expired(db, now=now, candidacy=candidacy)
    steps = applications.timeline(db, candidacy=candidacy)
    stages = {s.id: s for s in candidacy.campaign.stages}
    offer_links = {s.extra["offer_id"]: _offer_link(s.extra["offer_id"])
                   for s in steps if s.kind == "offer"}
    can_withdraw = _may_withdraw(candidacy)
    return render_template("applicant/candidacy.html", candidacy=candidacy, steps=steps,
                           stages=stages, offer_links=offer_links, can_withdraw=can_withdraw,
                           now=now,
                           with_feedback=feedback.stages_with_feedback(db, candidacy=candidacy))


# -- taking a stage ----------------------------------------------------------------------------

@bp.route("/candidacies/<int:candidacy_id>/stages/<int:stage_id>")
@writes  # closes an expired stage of the applicant's on the way
@access.guard(access.is_applicant)
@writes
def stage(candidacy_id: int, stage_id: int):
    """A stage: the start page, the answer form with autosave, or the submitted answers."""
    db, now = get_db(), clock.now()
    candidacy = _own_candidacy(candidacy_id)
    stage = _stage_of(candidacy, stage_id)
    applications.close_expired(db, now=now, candidacy=candidacy)
    submission = applications.submission_for(db, candidacy=candidacy, stage=stage)
    if submission is None:
        startable = (applications.next_stage(db, candidacy=candidacy) == stage
                     and now < candidacy.campaign.closes_at)
        deadline = applications.deadline_for(stage=stage, now=now)
        return render_template(
            "applicant/stage_start.html", candidacy=candidacy, stage=stage, startable=startable,
            deadline=deadline,
            shortened=deadline < now + timedelta(minutes=stage.time_limit_minutes),
            form=ConfirmForm())
    if submission.submitted_at is not None or candidacy.state != State.IN_STAGE:
        return render_template("applicant/stage_done.html", candidacy=candidacy, stage=stage,
                               submission=submission, answers=_answer_views(submission))
    return _render_stage_form(candidacy, stage, submission, now=now)


def _render_stage_form(candidacy, stage, submission, *, now, texts=None, versions=None,
                       errors=None, status=200):
    remaining = max(int((submission.deadline_at - now).total_seconds()), 0)
    return render_template(
        "applicant/stage.html", candidacy=candidacy, stage=stage, submission=submission,
        answers=_answer_views(submission, texts, versions, errors), remaining=remaining,
        login_url=url_for("auth.login", next=url_for("applicant.stage",
                                                     candidacy_id=candidacy.id,
                                                     stage_id=stage.id)),
    ), status


@bp.route("/candidacies/<int:candidacy_id>/stages/<int:stage_id>/start", methods=["POST"])
@access.guard(access.is_applicant)
def stage_start(candidacy_id: int, stage_id: int):
    """Start a stage: the clock starts now."""
    db, now = get_db(), clock.now()
    candidacy = _own_candidacy(candidacy_id)
    stage = _stage_of(candidacy, stage_id)
    if ConfirmForm().validate_on_submit():
        try:
            applications.start_stage(db, candidacy=candidacy, stage=stage, now=now)
        except ApplicationError as exc:
            flash(_error_message(exc), "warning")
    return redirect(url_for("applicant.stage", candidacy_id=candidacy.id, stage_id=stage.id))


@bp.route("/candidacies/<int:candidacy_id>/stages/<int:stage_id>/save", methods=["POST"])
@access.guard(access.is_applicant)
def stage_save(candidacy_id: int, stage_id: int):
    """Save drafts from the form (works without JavaScript); then maybe go to submitting."""
    db, now = get_db(), clock.now()
    candidacy = _own_candidacy(candidacy_id)
    stage = _stage_of(candidacy, stage_id)
    here = url_for("applicant.stage", candidacy_id=candidacy.id, stage_id=stage.id)
    submission = applications.submission_for(db, candidacy=candidacy, stage=stage)
    if submission is None or not ConfirmForm().validate_on_submit():
        return redirect(here)
    texts, versions, errors = {}, {}, {}
    saved = 0
    for answer in submission.answers:
        text = request.form.get(f"text-{answer.id}")
        try:
            base = int(request.form.get(f"version-{answer.id}", ""))
        except ValueError:
            base = None
        if base is not None and not 0 <= base < security.MAX_DB_INT:
            base = None
        if text is None or base is None:
            continue
        text = text.replace("\r\n", "\n")
        if text == answer.text:
            continue  # nothing to change, whatever version this page was based on
        try:
            applications.save_answer(db, answer=answer, text=text, base_version=base, now=now,
                                     counts=_form_counts(answer.id))
            saved += 1
        except ApplicationError as exc:
            if exc.code in ("deadline", "submitted", "not_in_stage"):
                # Refused whole: show what arrived, read-only, so it can be copied.
                late = {a.id: request.form.get(f"text-{a.id}", "") for a in submission.answers}
                flash(_error_message(exc), "error")
                applications.close_expired(db, now=now, candidacy=candidacy)
                return render_template("applicant/stage_done.html", candidacy=candidacy,
                                       stage=stage, submission=submission,
                                       answers=_answer_views(submission), late=late)
            texts[answer.id] = text
            # A conflict keeps the newer saved version as the base: saving again on purpose
            # then replaces it, after the applicant has seen the warning.
            versions[answer.id] = answer.version
            errors[answer.id] = _error_message(exc)
    if errors:
        return _render_stage_form(candidacy, stage, submission, now=now, texts=texts,
                                  versions=versions, errors=errors)
    if request.form.get("action") == "submit":
        return redirect(url_for("applicant.stage_submit", candidacy_id=candidacy.id,
                                stage_id=stage.id))
    flash(_("Draft saved at %(time)s.", time=_time(now)) if saved
          else _("No changes since the last save."), "success")
    return redirect(here)


@bp.route("/answers/<int:answer_id>/autosave", methods=["POST"])
@access.guard(access.is_applicant)
@limits.autosave
def autosave(answer_id: int):
    """Save one draft from autosave.js (JSON in, JSON out with the new version and time)."""
    db, now = get_db(), clock.now()
    # One query for the answer, its submission, candidacy and task: autosave is the most
    # frequent request of a wave.
    answer = db.scalar(
        select(Answer).where(Answer.id == answer_id)
        .options(joinedload(Answer.submission).joinedload(Submission.candidacy),
                 joinedload(Answer.task),
                 # The stored draft is replaced, never read: no need to decrypt it.
                 defer(Answer.text))
    ) or abort(404)
    if answer.submission is None:  # a calibration answer: nobody's draft
        abort(404)
    access.require_known(access.owns(current_user,
                                     user_id=answer.submission.candidacy.user_id))
    payload = request.get_json(silent=True)
    if (not isinstance(payload, dict) or not isinstance(payload.get("text"), str)
            or not isinstance(payload.get("version"), int)
            or isinstance(payload.get("version"), bool)
            or not 0 <= payload["version"] < security.MAX_DB_INT):
        return {"error": "bad_request",
                "message": _("The answer could not be read; it is kept in this browser.")}, 400
    try:
        applications.save_answer(db, answer=answer, text=payload["text"],
                                 base_version=payload["version"], now=now,
                                 counts=_json_counts(payload))
    except ApplicationError as exc:
        status = {"text_too_long": 413, "bad_counts": 400}.get(exc.code, 409)
        body = {"error": exc.code, "message": _error_message(exc, json_client=True)}
        if exc.code == "conflict":
            body["version"] = exc.params["version"]
        return body, status
    task = answer.task
    words = applications.word_count(answer.text)
    problem = applications.word_limit_problem(words=words, min_words=task.min_words,
                                              max_words=task.max_words)
    return {
        "version": answer.version,
        "saved_at": answer.saved_at.isoformat(),
        "saved_label": _("Saved at %(time)s", time=flask_babel.format_time(answer.saved_at,
                                                                           "HH:mm:ss")),
        "words": words,
        "problem": problem,
    }


@bp.route("/candidacies/<int:candidacy_id>/stages/<int:stage_id>/submit",
          methods=["GET", "POST"])
@writes  # closes an expired stage of the applicant's on the way
@access.guard(access.is_applicant)
@writes
def stage_submit(candidacy_id: int, stage_id: int):
    """Confirm and submit a stage (idempotent); the answers become read-only."""
    db, now = get_db(), clock.now()
    candidacy = _own_candidacy(candidacy_id)
    stage = _stage_of(candidacy, stage_id)
    here = url_for("applicant.stage", candidacy_id=candidacy.id, stage_id=stage.id)
    applications.close_expired(db, now=now, candidacy=candidacy)
    submission = applications.submission_for(db, candidacy=candidacy, stage=stage)
    if submission is None:
        return redirect(here)
    if submission.submitted_at is not None:
        flash(_("This stage is submitted: it was handed in automatically when the time ran "
                "out.") if submission.auto_submitted else _("This stage is submitted."), "info")
        return redirect(url_for("applicant.candidacy", candidacy_id=candidacy.id))
    if candidacy.state != State.IN_STAGE:
        return redirect(here)
    problems = applications.limit_problems(submission)
    form = ConfirmForm()
    if form.validate_on_submit() and not problems:
        try:
            applications.submit_stage(db, submission=submission, now=now)
        except ApplicationError as exc:
            flash(_error_message(exc), "warning")
            return redirect(here)
        flash(_("Stage submitted. Thank you! Your answers are now read-only and go to the "
                "reviewers without your name."), "success")
        return redirect(url_for("applicant.candidacy", candidacy_id=candidacy.id))
    return render_template("applicant/stage_submit.html", candidacy=candidacy, stage=stage,
                           submission=submission, answers=_answer_views(submission),
                           problems=problems, form=form,
                           remaining=max(int((submission.deadline_at - now).total_seconds()),
                                         0))


# -- own data ----------------------------------------------------------------------------------

@bp.route("/candidacies/<int:candidacy_id>/withdraw", methods=["GET", "POST"])
@access.guard(access.is_applicant)
def withdraw(candidacy_id: int):
    """Withdraw an application, after a confirmation step."""
    db, now = get_db(), clock.now()
    candidacy = _own_candidacy(candidacy_id)
    back = url_for("applicant.candidacy", candidacy_id=candidacy.id)
    if not _may_withdraw(candidacy):
        flash(_("This application has ended and cannot be withdrawn."), "info")
        return redirect(back)
    form = ConfirmForm()
    if form.validate_on_submit():
        applications.withdraw(db, candidacy=candidacy, now=now)
        flash(_("You withdrew your application. Thank you for your time."), "success")
        return redirect(url_for("applicant.home"))
    return render_template("applicant/withdraw.html", candidacy=candidacy, form=form)


@bp.route("/data")
@access.guard(access.is_applicant)
def my_data():
    """What we keep about the applicant, with download and erase."""
    return render_template("applicant/data.html", form=ConfirmForm(),
                           has_profile=_has_profile())


@bp.route("/data/export", methods=["POST"])
@access.guard(access.is_applicant)
def export():
    """Download everything stored about the applicant as JSON."""
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("applicant.my_data"))
    data = applications.export_data(get_db(), user=current_user)
    data["exported_at"] = clock.now().isoformat()
    body = json.dumps(data, ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": 'attachment; filename="my-data.json"',
                             "Cache-Control": "no-store"})


@bp.route("/data/erase", methods=["GET", "POST"])
@access.guard(access.is_applicant)
def erase():
    """Erase the account after the password confirms it."""
    form = EraseForm()
    if form.validate_on_submit():
        if not check_password_hash(current_user.password_hash, form.password.data):
            form.password.errors.append(_("The password is wrong."))
        else:
            user = current_user._get_current_object()
            applications.erase_account(get_db(), user=user, now=clock.now())
            logout_user()
            flash(_("Your account and personal data are erased. Your anonymous answers stay in "
                    "our statistics without any link to you."), "success")
            return redirect(url_for("main.index"))
    return render_template("applicant/erase.html", form=form)
