"""Forms (Flask-WTF, CSRF on every one)."""

from __future__ import annotations

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import ImmutableMultiDict
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length

PASSWORD_MIN = 10


def _strip(value):
    """Spaces around a pasted address are never part of it."""
    return value.strip() if isinstance(value, str) else value


class Form(FlaskForm):
    """Base of every HTML form: fields come from form-encoded data only."""

    class Meta(FlaskForm.Meta):
        """Flask-WTF would read a JSON body as field values (and fail on non-string ones)."""

        def wrap_formdata(self, form, formdata):
            """Give a JSON request no field values; everything else as Flask-WTF does."""
            if request.is_json and not hasattr(formdata, "getlist"):
                return ImmutableMultiDict() if request.method != "GET" else None
            return super().wrap_formdata(form, formdata)


class LoginForm(Form):
    """Log in with e-mail and password."""

    # No format check here: any stored account may log in, and a wrong address simply fails.
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Keep me logged in on this device"))
    next = HiddenField(validators=[Length(max=2000)])
    submit = SubmitField(_l("Log in"))


class RegisterForm(Form):
    """Create an applicant account."""

    email = EmailField(_l("E-mail"), filters=[_strip],
                       validators=[DataRequired(), Email(), Length(max=254)])
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
        validators=[DataRequired(), Length(max=200),
                    EqualTo("password", message=_l("The passwords differ."))],
    )
    submit = SubmitField(_l("Create account"))


class ResetRequestForm(Form):
    """Ask for a password-reset link."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    submit = SubmitField(_l("Send me a link"))


class ResetPasswordForm(Form):
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
        validators=[DataRequired(), Length(max=200),
                    EqualTo("password", message=_l("The passwords differ."))],
    )
    submit = SubmitField(_l("Set password"))


class ConfirmForm(Form):
    """A bare form for POST buttons: carries the CSRF token only."""

    submit = SubmitField(_l("Confirm"))
