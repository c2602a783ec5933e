"""Forms (Flask-WTF, CSRF on every one)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length

PASSWORD_MIN = 10


class LoginForm(FlaskForm):
    """Log in with e-mail and password."""

    # No format check here: any stored account may log in, and a wrong address simply fails.
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Keep me logged in on this device"))
    next = HiddenField()
    submit = SubmitField(_l("Log in"))


class RegisterForm(FlaskForm):
    """Create an applicant account."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(),
            Length(min=PASSWORD_MIN, max=200,
                   message=_l("The password must be between %(min)d and %(max)d characters.")),
        ],
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )
    submit = SubmitField(_l("Create account"))


class ResetRequestForm(FlaskForm):
    """Ask for a password-reset link."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    submit = SubmitField(_l("Send me a link"))


class ResetPasswordForm(FlaskForm):
    """Choose a new password."""

    password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(),
            Length(min=PASSWORD_MIN, max=200,
                   message=_l("The password must be between %(min)d and %(max)d characters.")),
        ],
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )
    submit = SubmitField(_l("Set password"))


class ConfirmForm(FlaskForm):
    """A bare form for POST buttons: carries the CSRF token only."""

    submit = SubmitField(_l("Confirm"))
