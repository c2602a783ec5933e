"""`recruit bench`: the benchmark data generator (the logic lives in bench/seed.py)."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from recruit import ROOT
from recruit.cli.common import follow, progress
from recruit.db import writes


def _seed_module():
    # bench/ sits beside the package, not inside it: reachable from a source checkout only.
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from bench import seed

    return seed


@click.group(cls=AppGroup)
def bench():
    """Benchmark data (see bench/README.md)."""


@bench.command("seed")
@click.option("--applicants", type=click.IntRange(min=1), required=True,
              help="How many applicants the wave gets (three answers each).")
@click.option("--seed", "random_seed", type=int, default=1, show_default=True,
              help="Random seed: the same seed gives the same data.")
@click.option("--unreviewed", type=click.FloatRange(0, 0.9), default=0.1, show_default=True,
              help="Share of submitted applicants whose answers wait for reviewers.")
@with_appcontext
@writes
def bench_seed(applicants, random_seed, unreviewed):
    """Fill an EMPTY database with a benchmark wave; every account gets one known password."""
    from recruit.db import get_engine
    from recruit.migrate import upgrade

    seed = _seed_module()
    engine = get_engine()
    upgrade(engine)
    try:
        with progress(length=applicants, label="Seeding applicants") as bar:
            report = seed.seed(engine, applicants=applicants,
                               keys=current_app.config["ENCRYPTION_KEYS"],
                               random_seed=random_seed, unreviewed=unreviewed,
                               progress=follow(bar))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    for table, count in sorted(report.rows.items()):
        click.echo(f"  {table:<20} {count:>10,}")
    if report.scores_seconds is not None:
        click.echo(f"  (stage results stored in {report.scores_seconds:.1f} s)")
    click.echo(f"Seeded {report.applicants:,} applicants ({report.answers:,} answers) in "
               f"{report.seconds:.1f} s. Every seeded account's password: {report.password}")
