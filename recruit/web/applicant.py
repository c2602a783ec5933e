"""The applicant's pages."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import select

from recruit import access
from recruit.db import get_db, utcnow
from recruit.models import Campaign, Candidacy

bp = Blueprint("applicant", __name__, url_prefix="/me")


@bp.route("/")
@access.guard(access.is_applicant)
def home():
    """The applicant's candidacies and the waves open now."""
    db = get_db()
    now = utcnow()
    candidacies = db.scalars(
        select(Candidacy).where(Candidacy.user_id == current_user.id).order_by(Candidacy.id)
    ).all()
    open_campaigns = db.scalars(
        select(Campaign).where(Campaign.opens_at <= now, Campaign.closes_at > now)
        .order_by(Campaign.closes_at)
    ).all()
    return render_template("applicant/home.html", candidacies=candidacies,
                           open_campaigns=open_campaigns)
