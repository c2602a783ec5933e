"""The reviewer's pages: they receive view objects that cannot reach an identity."""

from __future__ import annotations

from flask import Blueprint, render_template

from recruit import access

bp = Blueprint("review", __name__, url_prefix="/review")


@bp.route("/")
@access.guard(access.is_reviewer)
def home():
    """The reviewer's queue."""
    return render_template("review/home.html", tasks=[])
