"""Offers: coordinators issue them by candidacy code, candidates answer them, and the
custodian alone sees who was hired."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from wtforms import BooleanField, DateField, IntegerField, SelectField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from recruit import access, security
from recruit.db import get_db, utcnow, writes
from recruit.domain import audit, offers
from recruit.domain.pipeline import State
from recruit.i18n import current_language, format_money
from recruit.models import Campaign, Candidacy, JobRole, Offer, User
from recruit.vault import open_identity_of
from recruit.web.forms import Form

bp = Blueprint("offers", __name__)

ERRORS = {
    "transition": _l("This candidacy cannot receive an offer now: only candidacies that passed "
                     "every stage, or did not pass and may take another role, can."),
    "currency": _l("The salary must be in the role's currency."),
    "work_format": _l("Choose a work format."),
    "expires_on": _l("The offer must stay open at least until tomorrow."),
    "start_date": _l("The start date lies in the past."),
    "capacity": _l("The campaign's capacity is reached: no more offers can be issued unless one "
                   "is declined or expires."),
    "expired": _l("This offer has expired and can no longer be accepted."),
    "answered": _l("You have answered this offer already."),
}

WORK_FORMATS = [SelectChoice("remote", _l("Remote")), SelectChoice("office", _l("In the office")),
                SelectChoice("hybrid", _l("Hybrid: partly remote, partly in the office"))]
PER_PAGE = 50


def error_text(exc: offers.OfferError) -> str:
    """The domain error in the user's language."""
    return str(ERRORS.get(exc.code, str(exc)))


class OfferForm(Form):
    """The terms of one offer."""

    role = SelectField(_l("Role"), validators=[DataRequired()])
    salary = IntegerField(_l("Salary per month"), validators=[
        InputRequired(message=_l("Enter the salary as a whole number.")),
        NumberRange(min=1, max=1_000_000_000,
                    message=_l("Enter the salary as a whole number."))])
    start_date = DateField(_l("Start date"), validators=[
        InputRequired(message=_l("Enter a date."))])
    work_format = SelectField(_l("Work format"), choices=WORK_FORMATS,
                              validators=[DataRequired()])
    standard_conditions = BooleanField(_l("Include the role's standard conditions (the "
                                          "candidate reads them in their language)"),
                                       default=True)
    extra_conditions = TextAreaField(_l("Further conditions, one per line"),
                                     validators=[Length(max=4000)])
    expires_on = DateField(_l("Offer valid until"), validators=[
        InputRequired(message=_l("Enter a date."))])
    submit = SubmitField(_l("Issue the offer"))


class AnswerForm(Form):
    """The candidate confirms an answer to an offer."""

    submit = SubmitField(_l("Confirm"))


# -- coordinators ------------------------------------------------------------------------------

def _role_title(role: JobRole) -> str:
    return role.title_ru if current_language() == "ru" else role.title_en


def _offer_row(offer: Offer, code: str, role: JobRole) -> dict:
    """What a coordinator sees of an offer: terms and status, by candidacy code."""
    return {"id": offer.id, "code": code, "role": _role_title(role), "alternate": offer.alternate,
            "salary": offer.salary, "currency": offer.currency, "start_date": offer.start_date,
            "expires_on": offer.expires_on, "status": offer.status,
            "issued_at": offer.issued_at, "responded_at": offer.responded_at}


@bp.route("/coordinate/campaigns/<int:campaign_id>/offers")
@writes  # an offer past its day lapses when it is looked at
@access.guard(access.may_manage_campaigns)
@writes
def campaign_offers(campaign_id: int):
    """A campaign's offers and capacity, and the candidacies that passed and await one."""
    db = get_db()
    campaign = db.get(Campaign, campaign_id) or abort(404)
    offers.expire_due(db, now=utcnow(), campaign=campaign)
    rows = [
        _offer_row(offer, code, role) for offer, code, role in db.execute(
            select(Offer, Candidacy.code, JobRole)
            .join(Candidacy, Candidacy.id == Offer.candidacy_id)
            .join(JobRole, JobRole.id == Offer.job_role_id)
            .where(Candidacy.campaign_id == campaign.id)
            .order_by(Offer.issued_at.desc(), Offer.id.desc()))
    ]
    waiting_query = select(Candidacy.code).where(Candidacy.campaign_id == campaign.id,
                                                 Candidacy.state == State.PASSED.value)
    waiting_total = db.scalar(select(func.count()).select_from(waiting_query.subquery()))
    page = security.page_arg()
    waiting = db.scalars(waiting_query.order_by(Candidacy.code).limit(PER_PAGE)
                         .offset((page - 1) * PER_PAGE)).all()
    pages = max(1, -(-int(waiting_total or 0) // PER_PAGE))
    return render_template("coordinator/offers.html", campaign=campaign, offers=rows,
                           capacity=offers.capacity(db, campaign=campaign), waiting=waiting,
                           waiting_total=waiting_total, page=min(page, pages), pages=pages,
                           named_letters=access.may_download_offer_letter(
                               current_user, addressee_user_id=None))


def _role_choices(db) -> list[JobRole]:
    return list(db.scalars(select(JobRole).order_by(JobRole.key)))


@bp.route("/coordinate/campaigns/<int:campaign_id>/candidacies/<code>/offer",
          methods=["GET", "POST"])
@access.guard(access.may_manage_campaigns)
def offer_new(campaign_id: int, code: str):
    """Issue an offer to a candidacy: the campaign's role, or an alternate role."""
    db = get_db()
    campaign = db.get(Campaign, campaign_id) or abort(404)
    candidacy = db.scalar(select(Candidacy).where(Candidacy.code == code,
                                                  Candidacy.campaign_id == campaign.id))
    if candidacy is None:
        abort(404)
    roles = {r.key: r for r in _role_choices(db)}
    if not roles:
        abort(404)
    wanted = request.args.get("role")
    if wanted not in roles:
        wanted = campaign.job_role.key if campaign.job_role else next(iter(roles))
    role = roles[wanted]
    today = offers.today(utcnow(), zone=campaign.time_zone)
    form = OfferForm(data=None if request.method == "POST" else {
        "role": role.key, "salary": role.salary_min, "work_format": role.work_format,
        "start_date": today + timedelta(days=14), "expires_on": today + timedelta(days=7),
        "standard_conditions": True})
    form.role.choices = [
        SelectChoice(r.key, _("%(role)s (from %(amount)s)", role=_role_title(r),
                              amount=format_money(r.salary_min, r.currency)))
        for r in roles.values()]
    if form.validate_on_submit():
        role = roles[form.role.data]
        conditions: list = [offers.standard_conditions(role)] if form.standard_conditions.data \
            else []
        conditions += offers.conditions_from_text(form.extra_conditions.data)
        if form.salary.data < role.salary_min:
            form.salary.errors = [_("The salary may not be below the role's minimum of "
                                    "%(amount)s.",
                                    amount=format_money(role.salary_min, role.currency))]
        else:
            try:
                offer = offers.issue(db, candidacy=candidacy, role=role,
                                     salary=form.salary.data, currency=role.currency,
                                     start_date=form.start_date.data,
                                     work_format=form.work_format.data, conditions=conditions,
                                     expires_on=form.expires_on.data, by=current_user,
                                     now=utcnow())
            except offers.OfferError as exc:
                target = {"start_date": form.start_date, "expires_on": form.expires_on,
                          "work_format": form.work_format}.get(exc.code, form.role)
                target.errors = [*target.errors, error_text(exc)]
            else:
                flash(_("Offer issued to %(code)s; the candidate has been e-mailed.",
                        code=candidacy.code), "success")
                return redirect(url_for(".campaign_offers", campaign_id=campaign.id,
                                        _anchor=f"offer-{offer.id}"))
    return render_template("coordinator/offer_new.html", campaign=campaign, code=candidacy.code,
                           state=candidacy.state, role=role, form=form,
                           capacity=offers.capacity(db, campaign=campaign)), \
        400 if form.errors else 200


# -- the candidate -----------------------------------------------------------------------------

def _own_offer(offer_id: int) -> Offer:
    """The offer addressed to the current applicant; anyone else's answers 404 like a missing
    one."""
    db = get_db()
    offer = db.get(Offer, offer_id) or abort(404)
    access.require_known(access.owns(current_user, user_id=offer.candidacy.user_id))
    offers.expire_due(db, now=utcnow(), offer_ids=[offer.id])
    return offer


def _applicant_view(offer: Offer) -> dict:
    """The offer as its addressee reads it, in their language."""
    lang = current_language()
    role = offer.job_role
    campaign = offer.candidacy.campaign
    return {"id": offer.id, "role": _role_title(role), "campaign": campaign.title(lang),
            "zone": campaign.time_zone,
            "salary": offer.salary, "currency": offer.currency, "period": offer.period,
            "start_date": offer.start_date, "work_format": offer.work_format,
            "conditions": offers.localised_conditions(offer.conditions, lang),
            "expires_on": offer.expires_on, "status": offer.status,
            "responded_at": offer.responded_at, "alternate": offer.alternate}


@bp.route("/me/offers")
@writes  # an offer past its day lapses when it is looked at
@access.guard(access.is_applicant)
@writes
def my_offers():
    """The applicant's offers, open ones first."""
    db = get_db()
    offers.expire_due(db, now=utcnow(), user_id=current_user.id)
    mine = db.scalars(
        select(Offer).join(Candidacy, Candidacy.id == Offer.candidacy_id)
        .where(Candidacy.user_id == current_user.id)
        .options(joinedload(Offer.job_role), joinedload(Offer.candidacy))
        .order_by((Offer.status == "issued").desc(), Offer.issued_at.desc())).all()
    return render_template("applicant/offers.html", offers=[_applicant_view(o) for o in mine])


@bp.route("/me/offers/<int:offer_id>")
@writes  # an offer past its day lapses when it is looked at
@access.guard(access.is_applicant)
@writes
def show(offer_id: int):
    """One offer and the way to accept or decline it."""
    return render_template("applicant/offer.html", offer=_applicant_view(_own_offer(offer_id)))


def _answer(offer_id: int, *, accept: bool):
    offer = _own_offer(offer_id)
    form = AnswerForm()
    if form.validate_on_submit():
        try:
            offers.respond(get_db(), offer=offer, accept=accept, now=utcnow())
        except offers.OfferError as exc:
            flash(error_text(exc), "error")
        else:
            flash(_("Thank you: you accepted the offer. We will be in touch about your first "
                    "day.") if accept else _("You declined the offer. Thank you for letting us "
                                               "know."), "success")
        return redirect(url_for(".show", offer_id=offer.id))
    if offer.status != "issued":
        return redirect(url_for(".show", offer_id=offer.id))
    return render_template("applicant/offer_confirm.html", offer=_applicant_view(offer),
                           accept=accept, form=form)


@bp.route("/me/offers/<int:offer_id>/accept", methods=["GET", "POST"])
@writes  # an offer past its day lapses when it is looked at
@access.guard(access.is_applicant)
@writes
def accept(offer_id: int):
    """Confirm, then accept the offer."""
    return _answer(offer_id, accept=True)


@bp.route("/me/offers/<int:offer_id>/decline", methods=["GET", "POST"])
@writes  # an offer past its day lapses when it is looked at
@access.guard(access.is_applicant)
@writes
def decline(offer_id: int):
    """Confirm, then decline the offer."""
    return _answer(offer_id, accept=False)


# -- the custodian -----------------------------------------------------------------------------

@bp.route("/custody/hires")
@writes
@access.guard(access.is_custodian)
@writes
def hires():
    """Everyone who accepted an offer, with names and contacts; each view is audited."""
    db = get_db()
    lang = current_language()
    rows = db.execute(
        select(Offer, Candidacy, JobRole, Campaign, User.email)
        .join(Candidacy, Candidacy.id == Offer.candidacy_id)
        .outerjoin(User, User.id == Candidacy.user_id)
        .join(JobRole, JobRole.id == Offer.job_role_id)
        .join(Campaign, Campaign.id == Candidacy.campaign_id)
        .where(Offer.status == "accepted")
        .order_by(Offer.start_date, Offer.id)).all()
    hired = []
    for offer, candidacy, role, campaign, email in rows:
        identity = (open_identity_of(db, user_id=candidacy.user_id)
                    if candidacy.user_id is not None else None)
        hired.append({"code": candidacy.code, "campaign": campaign.title(lang),
                      "role": _role_title(role), "start_date": offer.start_date,
                      "salary": offer.salary, "currency": offer.currency,
                      "responded_at": offer.responded_at, "identity": identity,
                      "email": email})
    audit.record(db, action="hires.view", actor_id=current_user.id, subject="hires",
                 details={"offers": [offer.id for offer, *_rest in rows]})
    return render_template("custodian/hires.html", hires=hired)
