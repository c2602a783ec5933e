"""The PDF documents: plain-value context → HTML in the document's language → PDF.

Callers (views, the CLI) have already asked ``recruit.access`` whether the document may be
produced for whoever asked. The HTML is rendered here, where the database and the vault
are at hand; the PDF itself is rendered by ``render_pdf`` (imported only when a PDF is
really made, since WeasyPrint takes most of a second to import) or, for many letters at
once, by the long-lived worker processes of ``recruit.reports.batch``.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from recruit.models import Campaign, Candidacy, Offer
from recruit.reports import data


@dataclass(frozen=True)
class Document:
    """A document ready to render: HTML and the metadata the PDF will carry."""

    html: str
    title: str
    author: str | None
    lang: str
    filename: str

    def job(self) -> dict[str, str | None]:
        """The parameters ``render_pdf`` and ``LetterRenderer.render_many`` take."""
        return {"html": self.html, "title": self.title, "author": self.author,
                "lang": self.lang}

    def render(self) -> bytes:
        """The PDF bytes, rendered in this process."""
        from recruit.reports.render import render_pdf

        return render_pdf(self.html, title=self.title, author=self.author, lang=self.lang)


def _html(template: str, context: dict) -> str:
    with force_locale(context["lang"]):
        return render_template(template, **context)


def offer_letter(db: Session, *, offer: Offer, locale: str, named: bool = True) -> Document:
    """The NAMED offer letter of ``offer``; its metadata still holds only the reference.

    ``named=False`` gives a coordinator's preview, with the candidacy code for the name.
    """
    context = data.offer_letter_context(db, offer=offer, locale=locale, named=named)
    with force_locale(context["lang"]):
        title = _("Offer of employment %(reference)s", reference=context["reference"])
        if not named:
            title = _("%(title)s (preview)", title=title)
    suffix = "" if named else "-preview"
    return Document(
        html=_html("pdf/offer_letter.html", context),
        title=title,
        author=context["company_name"],
        lang=context["lang"],
        filename=f"offer-{context['reference']}{suffix}.pdf",
    )


def dossier(db: Session, *, candidacy: Candidacy, locale: str) -> Document:
    """The pseudonymous dossier of a candidacy, titled by its code."""
    context = data.dossier_context(db, candidacy=candidacy, locale=locale)
    with force_locale(context["lang"]):
        title = _("Dossier %(code)s", code=context["code"])
    return Document(
        html=_html("pdf/dossier.html", context),
        title=title,
        author=context["company_name"],
        lang=context["lang"],
        filename=f"dossier-{context['code']}.pdf",
    )


def campaign_report(db: Session, *, campaign: Campaign, locale: str) -> Document:
    """The aggregate report of a campaign."""
    context = data.campaign_report_context(db, campaign=campaign, locale=locale)
    with force_locale(context["lang"]):
        title = _("Campaign report %(key)s", key=campaign.key)
    return Document(
        html=_html("pdf/campaign_report.html", context),
        title=title,
        author=context["company_name"],
        lang=context["lang"],
        filename=f"campaign-{campaign.key}-report.pdf",
    )
