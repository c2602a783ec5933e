"""Downloads: offer letters, dossiers and campaign reports as PDF; results and hires as CSV.

Every download is an attachment that must not linger in a shared cache (``no-store``), and
its file name holds codes and ids only, never a person's name. Named documents (the offer
letter, the hires list) are audited when the custodian takes them.
"""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, abort, current_app, request
from flask_login import current_user
from sqlalchemy import select

from recruit import access
from recruit.db import get_db, writes
from recruit.domain import audit
from recruit.i18n import current_language
from recruit.models import Campaign, Candidacy, Offer
from recruit.reports import data, documents

bp = Blueprint("reports", __name__)

# Spreadsheet programs run a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _download(body: bytes, *, filename: str, mimetype: str) -> Response:
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    })


def _requested_language(default: str | None = None) -> str:
    """``?lang=`` when it names a supported language, else ``default`` or the page's."""
    wanted = request.args.get("lang")
    if wanted in current_app.config["LANGUAGES"]:
        return wanted
    return default or current_language()


def _safe_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _csv(header: list[str], rows: list[list], *, filename: str) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_safe_cell(cell) for cell in row] for row in rows)
    # A byte-order mark so spreadsheet programs read the Cyrillic as UTF-8.
    return _download(("\ufeff" + buffer.getvalue()).encode("utf-8"), filename=filename,
                     mimetype="text/csv")


def _pdf(document: documents.Document) -> Response:
    return _download(document.render(), filename=document.filename, mimetype="application/pdf")


@bp.route("/offers/<int:offer_id>/letter.pdf")
@writes
@access.guard(access.is_authenticated)
@writes
def offer_letter(offer_id: int):
    """The named offer letter: for the candidate it is addressed to and for the custodian."""
    db = get_db()
    offer = db.get(Offer, offer_id) or abort(404)
    addressee_id, addressee_locale = data.offer_addressee(db, offer=offer)
    access.require_known(access.may_know_offer(current_user, addressee_user_id=addressee_id))
    access.require(access.may_download_offer_letter(current_user,
                                                    addressee_user_id=addressee_id))
    if access.is_custodian(current_user):
        audit.record(db, action="offer_letter.download", actor_id=current_user.id,
                     subject=f"offer:{offer.id}")
        locale = _requested_language(addressee_locale)
    else:
        locale = _requested_language()
    return _pdf(documents.offer_letter(db, offer=offer, locale=locale))


@bp.route("/coordinate/offers/<int:offer_id>/letter-preview.pdf")
@access.guard(access.may_preview_offer_letter)
def offer_letter_preview(offer_id: int):
    """The offer letter as its addressee will read it, with the candidacy code for the name."""
    db = get_db()
    offer = db.get(Offer, offer_id) or abort(404)
    return _pdf(documents.offer_letter(db, offer=offer, locale=_requested_language(),
                                       named=False))


@bp.route("/coordinate/candidacies/<code>/dossier.pdf")
@access.guard(access.may_manage_campaigns)
@writes
def dossier(code: str):
    """A candidacy's pseudonymous dossier."""
    db = get_db()
    candidacy = db.scalar(select(Candidacy).where(Candidacy.code == code)) or abort(404)
    return _pdf(documents.dossier(db, candidacy=candidacy, locale=_requested_language()))


@bp.route("/coordinate/campaigns/<int:campaign_id>/report.pdf")
@access.guard(access.may_manage_campaigns)
@writes
def campaign_report(campaign_id: int):
    """The campaign report: funnel, eligibility, scores, reviewers, timing, offers."""
    db = get_db()
    campaign = db.get(Campaign, campaign_id) or abort(404)
    return _pdf(documents.campaign_report(db, campaign=campaign, locale=_requested_language()))


@bp.route("/coordinate/campaigns/<int:campaign_id>/results.csv")
@access.guard(access.may_manage_campaigns)
@writes
def campaign_results_csv(campaign_id: int):
    """Pseudonymous results of every candidacy of a campaign, for spreadsheets."""
    db = get_db()
    campaign = db.get(Campaign, campaign_id) or abort(404)
    header, rows = data.campaign_results_table(db, campaign=campaign)
    return _csv(header, rows, filename=f"campaign-{campaign.key}-results.csv")


@bp.route("/custody/campaigns/<int:campaign_id>/hires.csv")
@writes
@access.guard(access.may_export_hires)
@writes
def hires_csv(campaign_id: int):
    """The hires of a campaign with names and contacts; every export is audited."""
    db = get_db()
    campaign = db.get(Campaign, campaign_id) or abort(404)
    header, rows = data.hires_table(db, campaign=campaign, locale=current_language())
    audit.record(db, action="hires.export", actor_id=current_user.id,
                 subject=f"campaign:{campaign.id}", details={"rows": len(rows)})
    return _csv(header, rows, filename=f"campaign-{campaign.key}-hires.csv")
