"""Baseline endpoints for `make bench`: the bare stack doing the simplest version of each job.

Registered only when ``BENCH`` is true (never in tests or production): each hot path is
reported as a ratio against one of these, measured in the same run on the same server, so
the machine's speed cancels out. They go through everything a real request does (session
cookie, CSRF on POST, the per-request session and its commit) and nothing more.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app
from jinja2 import Template
from sqlalchemy import select

from recruit import access, security
from recruit.db import get_db
from recruit.models import Answer, Candidacy, EligibilityCheck, Submission

bp = Blueprint("bench", __name__, url_prefix="/bench")

PAGE = 50

_ROW = """<!doctype html><title>row</title>
<p data-id="{{ row.id }}">{{ row.task_id }} · {{ row.check_status }} · {{ row.version }}</p>"""
_LIST = """<!doctype html><title>list</title><table>
{% for code, state, submitted in rows %}<tr><td>{{ code }}</td><td>{{ state }}</td>
<td>{{ submitted }}</td></tr>{% endfor %}</table>"""


def _template(name: str, source: str) -> Template:
    """A template compiled once per app (render_template_string would compile every time)."""
    cache = current_app.extensions.setdefault("recruit.bench.templates", {})
    if name not in cache:
        cache[name] = current_app.jinja_env.from_string(source)
    return cache[name]


@bp.route("/row/<int:row_id>")
@access.public
def read_row(row_id: int):
    """Read one answer by primary key and render a tiny template."""
    row = get_db().get(Answer, row_id)
    if row is None:
        abort(404)
    return _template("row", _ROW).render(row=row)


@bp.route("/insert", methods=["POST"])
@access.public
def insert_row():
    """Insert one row and commit (through the usual after-request commit)."""
    db = get_db()
    db.add(EligibilityCheck(passed=True, reasons=["bench"]))
    db.flush()
    return {"ok": True}


@bp.route("/list")
@access.public
def list_rows():
    """List 50 candidacies joined to their submissions, one page at a time."""
    page = security.page_arg()
    rows = get_db().execute(
        select(Candidacy.code, Candidacy.state, Submission.submitted_at)
        .join(Submission, Submission.candidacy_id == Candidacy.id)
        .order_by(Candidacy.id)
        .limit(PAGE)
        .offset((page - 1) * PAGE)
    ).all()
    return _template("list", _LIST).render(rows=rows)
