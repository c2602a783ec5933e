"""Registration, e-mail confirmation, login, logout and password reset."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import LoginManager, current_user, login_user, logout_user
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from recruit import access, limits, mail
from recruit.db import get_db, utcnow
from recruit.domain import accounts, notify
from recruit.i18n import current_language
from recruit.models import User
from recruit.web.forms import (
    ConfirmForm,
    LoginForm,
    RegisterForm,
    ResetPasswordForm,
    ResetRequestForm,
)

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.session_protection = "strong"
login_manager.login_message = None


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Find the user of a session; a stale session version (password changed) is refused."""
    try:
        user_id, version = (int(part) for part in session_id.split(":"))
    except ValueError:
        return None
    user = get_db().get(User, user_id)
    if user is None or user.session_version != version or not user.active:
        return None
    return user


@login_manager.unauthorized_handler
def _unauthorized():
    if request.is_json or request.accept_mimetypes.best == "application/json":
        return {"error": "login", "message": _("Your session has expired. Log in again; your "
                                               "text is kept in this browser.")}, 401
    flash(_("Please log in to open this page."), "info")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def make_token(user: User, *, purpose: str) -> str:
    """A signed, expiring token: a reset link is tied to the user's sessions (it works once,
    as setting the password ends them), a confirmation link to the address it confirms."""
    if purpose == "confirm":
        return _serializer(purpose).dumps({"u": user.id, "e": user.email})
    return _serializer(purpose).dumps({"u": user.id, "v": user.session_version})


def read_token(token: str, *, purpose: str) -> tuple[User | None, str | None]:
    """The user a token names, or an error code: 'expired' or 'invalid'."""
    try:
        data = _serializer(purpose).loads(
            token, max_age=current_app.config["EMAIL_TOKEN_MAX_AGE"])
    except SignatureExpired:
        return None, "expired"
    except BadSignature:
        return None, "invalid"
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None, "invalid"
    user = get_db().get(User, data["u"])
    if user is None:
        return None, "invalid"
    if purpose == "confirm":
        return (user, None) if user.email == data.get("e") else (None, "invalid")
    if user.session_version != data.get("v"):
        return None, "invalid"
    return user, None


def _safe_next(target: str | None) -> str | None:
    """Only local paths are followed after login (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def send_confirmation(user: User) -> None:
    """Queue the e-mail with the confirmation link (on the public address, never the Host)."""
    link = notify.link("auth.confirm", signed=make_token(user, purpose="confirm"))
    mail.queue(get_db(), to=user.email, template="confirm", locale=user.locale or "en",
               context={"link": link})


def _tell_owner(user: User) -> None:
    """Someone registered with an address that has an account: its owner hears of it."""
    mail.queue(get_db(), to=user.email, template="account_exists",
               locale=user.locale or current_language(),
               audience="applicant" if not user.is_staff else "staff",
               context={"login": notify.link("auth.login"),
                        "reset": notify.link("auth.reset_request")})


def email_error(exc: accounts.AccountError) -> str:
    """Why an address cannot be used, in the user's language."""
    if exc.code == "mixed_script":
        return _("This address mixes letters of different alphabets (for example a Cyrillic "
                 "«а» among Latin letters). Type it again in one alphabet.")
    return _("This is not a valid e-mail address.")


@bp.route("/register", methods=["GET", "POST"])
@access.public
@limits.registration
def register():
    """Create an applicant account and send the confirmation link."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user, created = accounts.register_applicant(get_db(), email=form.email.data,
                                                        password=form.password.data,
                                                        locale=current_language())
        except accounts.AccountError as exc:
            form.email.errors.append(email_error(exc))
        else:
            # A new address and a taken one get the same answer, in the same time (the
            # password is hashed and one e-mail queued either way): nobody learns who has an
            # account here. The owner of a taken address is told by e-mail instead.
            if created:
                send_confirmation(user)
            else:
                _tell_owner(user)
            flash(_("Almost done: we sent a message to %(email)s. Open the link in it to go "
                    "on.", email=user.email), "info")
            return redirect(url_for("auth.login"))
    return render_template("auth/register.html", form=form)


@bp.route("/confirm/<signed>", methods=["GET", "POST"])
@access.public
def confirm(signed: str):
    """Confirm an e-mail address from the signed link (a button, so link scanners don't)."""
    user, error = read_token(signed, purpose="confirm")
    if error == "expired":
        flash(_("This confirmation link has expired. Log in and ask for a new one."), "error")
        return redirect(url_for("auth.login"))
    if user is None:
        flash(_("This confirmation link is not valid."), "error")
        return redirect(url_for("main.index"))
    form = ConfirmForm()
    if form.validate_on_submit():
        if user.email_confirmed_at is None:
            user.email_confirmed_at = utcnow()
            # Registering does not log in (that would tell a new address from a taken one);
            # the first confirmation does, as only the owner of the mailbox has the link.
            if not current_user.is_authenticated and user.active:
                login_user(user)
        flash(_("Your e-mail address is confirmed."), "success")
        return redirect(url_for("main.index"))
    return render_template("auth/confirm.html", form=form, email=user.email)


@bp.route("/confirm/resend", methods=["POST"])
@access.guard(access.is_applicant)
@limits.confirmation_mail
def resend_confirmation():
    """Send the confirmation link again."""
    form = ConfirmForm()
    if form.validate_on_submit() and current_user.email_confirmed_at is None:
        send_confirmation(current_user)
        flash(_("We sent a new confirmation link to %(email)s.", email=current_user.email),
              "success")
    return redirect(url_for("main.index"))


@bp.route("/login", methods=["GET", "POST"])
@access.public
@limits.login
def login():
    """Log in with e-mail and password."""
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        user = accounts.authenticate(get_db(), email=form.email.data,
                                     password=form.password.data)
        if user is None:
            form.password.errors.append(_("The e-mail or the password is wrong."))
        else:
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(form.next.data) or url_for("main.index"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@access.guard(access.is_authenticated)
def logout():
    """Log out (POST with CSRF, so no page can log a user out by linking here)."""
    form = ConfirmForm()
    if form.validate_on_submit():
        # Ends every copy of this session (and "keep me logged in" cookies), not just the
        # cookie of this browser.
        accounts.end_sessions(user=current_user)
        logout_user()
        flash(_("You have logged out."), "info")
    return redirect(url_for("main.index"))


@bp.route("/reset", methods=["GET", "POST"])
@access.public
@limits.password_reset
def reset_request():
    """Ask for a password-reset link; the answer never tells whether the e-mail exists."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        db = get_db()
        user = accounts.find_user(db, email=form.email.data)
        if user is not None and user.active:
            link = notify.link("auth.reset", signed=make_token(user, purpose="reset"))
            mail.queue(db, to=user.email, template="reset", locale=user.locale or
                       current_language(), context={"link": link},
                       audience="applicant" if not user.is_staff else "staff")
        flash(_("If an account exists for %(email)s, a link to reset the password is on its "
                "way.", email=form.email.data), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_request.html", form=form)


@bp.route("/reset/<signed>", methods=["GET", "POST"])
@access.public
@limits.password_reset
def reset(signed: str):
    """Set a new password from a signed link; the link works once."""
    user, error = read_token(signed, purpose="reset")
    if user is None:
        flash(_("This link has expired. Ask for a new one.") if error == "expired"
              else _("This link is not valid or was already used. Ask for a new one."), "error")
        return redirect(url_for("auth.reset_request"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        accounts.set_password(user=user, password=form.password.data)
        if user.email_confirmed_at is None:
            user.email_confirmed_at = utcnow()
        flash(_("Your password is changed. Log in with the new one."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form)
