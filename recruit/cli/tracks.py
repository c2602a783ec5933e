"""`recruit questionnaire` and `recruit campaign`: tracks, job roles and waves."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from recruit.cli.common import parse_day_or_moment
from recruit.db import writes


@click.group(cls=AppGroup)
def questionnaire():
    """Questionnaire files: tracks, job roles, the interview bank."""


@questionnaire.command("check", with_appcontext=False)
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def questionnaire_check(files):
    """Report every problem in the given files; exit 1 if there is any."""
    from recruit.domain.questionnaires import check_files

    problems = check_files(list(files))
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        click.echo(f"{len(problems)} problem(s) found.", err=True)
        sys.exit(1)
    click.echo(f"{len(files)} file(s) OK.")


@questionnaire.command("load")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@with_appcontext
@writes
def questionnaire_load(files):
    """Store a versioned snapshot of each file (by content hash); loading twice is a no-op."""
    from recruit.db import get_db
    from recruit.domain.questionnaires import QuestionnaireError, check_files
    from recruit.domain.tracks import load_path

    problems = check_files(list(files))
    if problems:
        for problem in problems:
            click.echo(str(problem), err=True)
        raise click.ClickException("nothing loaded: fix the problems first")
    session = get_db()
    for path in files:
        try:
            version, created = load_path(session, path=path)
        except QuestionnaireError as exc:
            raise click.ClickException(str(exc)) from exc
        state = "loaded" if created else "unchanged"
        click.echo(f"{path.name}: {version.kind} {version.key} {state} "
                   f"(version {version.content_hash[:12]})")
    session.commit()


@click.group(cls=AppGroup)
def campaign():
    """Recruitment waves."""


@campaign.command("create")
@click.option("--track", "track_key", required=True, help="Key of a loaded track.")
@click.option("--opens", required=True, help="Opening day (2027-01-10: from its start in the "
                                              "campaign's time zone) or an ISO date-time.")
@click.option("--closes", required=True, help="Closing day (until its end in the campaign's "
                                               "time zone) or an ISO date-time.")
@click.option("--time-zone", "time_zone", default=None,
              help="IANA zone the dates mean (default: the instance's BABEL_DEFAULT_TIMEZONE).")
@click.option("--capacity", type=click.IntRange(min=1), help="At most this many offers.")
@click.option("--key", help="Campaign key (default: track and month).")
@with_appcontext
@writes
def campaign_create(track_key, opens, closes, capacity, key, time_zone):
    """Create a campaign from the newest loaded version of a track."""
    from recruit.db import get_db
    from recruit.domain.tracks import CampaignError, create_campaign

    session = get_db()
    zone = time_zone or current_app.config["BABEL_DEFAULT_TIMEZONE"]
    try:
        created = create_campaign(session, track_key=track_key,
                                  opens_at=parse_day_or_moment(opens, zone=zone, end=False),
                                  closes_at=parse_day_or_moment(closes, zone=zone, end=True),
                                  capacity=capacity, key=key, time_zone=zone)
    except CampaignError as exc:
        raise click.ClickException(str(exc)) from exc
    from recruit.db import utcnow
    from recruit.domain.notify import notify_waitlist

    told = notify_waitlist(session, campaign=created, now=utcnow())
    session.commit()
    if told:
        click.echo(f"Told {told} people on the waitlist that the wave is open.")
    click.echo(f"Created campaign {created.key} from {track_key} version "
               f"{created.track_version.content_hash[:12]} "
               f"({len(created.stages)} stages).")

