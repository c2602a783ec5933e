"""`recruit reports`: offer letters of a whole campaign and campaign reports, as PDF files.

Whoever runs the CLI holds the instance keys and could open every identity anyway; the
letters are still NAMED documents, so writing them is recorded in the audit log.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from recruit.cli.common import follow, progress
from recruit.db import get_db, writes
from recruit.domain import audit
from recruit.models import Campaign
from recruit.reports import data, documents


def _campaign(key: str) -> Campaign:
    campaign = get_db().scalar(select(Campaign).where(Campaign.key == key))
    if campaign is None:
        raise click.ClickException(f"no campaign with key {key!r}")
    return campaign


@click.group(cls=AppGroup)
def reports():
    """PDF letters and reports."""


@reports.command("letters")
@click.option("--campaign", "campaign_key", required=True, metavar="KEY",
              help="Key of the campaign whose issued and accepted offers get letters.")
@click.option("--out", "out_dir", required=True,
              type=click.Path(file_okay=False, writable=True, path_type=Path),
              help="Folder for the PDF files (created if missing).")
@click.option("--processes", type=click.IntRange(min=1), default=None,
              help="Rendering processes (default: one per CPU core).")
@with_appcontext
@writes
def letters(campaign_key: str, out_dir: Path, processes: int | None):
    """Render the offer letter of every issued or accepted offer of a campaign."""
    from recruit.reports.batch import LetterRenderer

    db = get_db()
    campaign = _campaign(campaign_key)
    offers = data.letter_offers(db, campaign_id=campaign.id)
    if not offers:
        click.echo(f"Campaign {campaign.key} has no issued or accepted offers; nothing to do.")
        return
    default_locale = current_app.config["BABEL_DEFAULT_LOCALE"]
    jobs = []
    # HTML is built here, where the database and the vault are; the workers only lay out.
    for offer in offers:
        _user_id, locale = data.offer_addressee(db, offer=offer)
        document = documents.offer_letter(db, offer=offer, locale=locale or default_locale)
        jobs.append((document.filename, document.job()))
    with LetterRenderer(processes) as renderer, progress(
        length=len(jobs), label=f"Rendering {len(jobs)} letters"
    ) as bar:
        paths = renderer.render_many(jobs, out_dir=out_dir, on_progress=follow(bar))
    audit.record(db, action="offer_letters.render", actor_id=None,
                 subject=f"campaign:{campaign.id}",
                 details={"letters": len(paths), "out": str(out_dir)})
    db.commit()
    click.echo(f"Wrote {len(paths)} letters to {out_dir}.")


@reports.command("campaign")
@click.argument("campaign_key", metavar="KEY")
@click.option("-o", "--output", required=True,
              type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="PDF file to write.")
@click.option("--lang", type=click.Choice(["en", "ru"]), default=None,
              help="Language of the report (default: the instance's default language).")
@with_appcontext
@writes
def campaign_report(campaign_key: str, output: Path, lang: str | None):
    """Render a campaign's report (funnel, eligibility, scores, reviewers, offers) to a PDF."""
    db = get_db()
    campaign = _campaign(campaign_key)
    document = documents.campaign_report(
        db, campaign=campaign, locale=lang or current_app.config["BABEL_DEFAULT_LOCALE"])
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(document.render())
    click.echo(f"Wrote {output}.")
