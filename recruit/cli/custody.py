"""Custody commands: try the redactor on a text, release answers left unchecked too long."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext

from recruit.db import writes


def _read_identity(path: Path) -> dict[str, str]:
    from recruit.domain.redaction import IDENTITY_KEYS
    from recruit.domain.redaction_dates import parse_birth_date

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise click.BadParameter(f"cannot read {path}: {exc}", param_hint="--identity") from exc
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"{path} is not valid JSON: {exc}",
                                 param_hint="--identity") from exc
    if not isinstance(data, dict):
        raise click.BadParameter(f"{path} must hold a JSON object", param_hint="--identity")
    unknown = sorted(set(data) - IDENTITY_KEYS)
    if unknown:
        raise click.BadParameter(
            f"unknown keys {', '.join(unknown)}; use {', '.join(sorted(IDENTITY_KEYS))}",
            param_hint="--identity")
    bad = sorted(k for k, v in data.items() if v is not None and not isinstance(v, str))
    if bad:
        raise click.BadParameter(f"values must be strings: {', '.join(bad)}",
                                 param_hint="--identity")
    if data.get("birth_date") and parse_birth_date(data["birth_date"]) is None:
        raise click.BadParameter(
            f"birth_date must be a date written YYYY-MM-DD, not {data['birth_date']!r}",
            param_hint="--identity")
    return {k: v or "" for k, v in data.items()}


@click.command("redact")
@click.option("--identity", "identity_file", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JSON object with any of: first, middle, last, birth_date (YYYY-MM-DD), "
                   "citizenship, email, phone, city, vk, handle.")
@click.option("--text", "text_file", required=True, type=click.File("r", encoding="utf-8"),
              help="The answer to redact (UTF-8; '-' reads standard input).")
def redact_command(identity_file, text_file):
    """Print a text redacted for one identity, and the spans found, as JSON."""
    from recruit.domain.redaction import redact

    identity = _read_identity(identity_file)
    text = text_file.read()
    result = redact(text, identity=identity)
    spans = [{**span, "text": text[span["start"]:span["end"]]} for span in result.to_json()]
    click.echo(json.dumps({"text": result.text, "spans": spans}, ensure_ascii=False, indent=2))


@click.group(cls=AppGroup)
def custody():
    """The custodian's check of redacted answers."""


@custody.command("auto-release")
@with_appcontext
@writes
def custody_auto_release():
    """Release answers their campaign lets wait no longer for the custodian's check."""
    from recruit.db import get_db, utcnow
    from recruit.domain.custody import auto_release

    session = get_db()
    count = auto_release(session, now=utcnow())
    session.commit()
    click.echo(f"Released {count} answer(s) to review.")
