"""The custodian's pages: the only place identities are shown, each view audited."""

from __future__ import annotations

from flask import Blueprint, render_template

from recruit import access

bp = Blueprint("custodian", __name__, url_prefix="/custody")


@bp.route("/")
@access.guard(access.is_custodian)
def home():
    """The custodian's desk."""
    return render_template("custodian/home.html")
