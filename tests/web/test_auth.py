"""Registration, confirmation, login, logout and password reset, through the web."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from recruit.models import OutboxMessage, Role, User
from tests.factories import PASSWORD, make_user


def _last_mail(db, to: str) -> OutboxMessage:
    return db.scalars(sa.select(OutboxMessage).where(OutboxMessage.to_address == to)
                      .order_by(OutboxMessage.id.desc())).first()


def _link(message: OutboxMessage) -> str:
    match = re.search(r"http://localhost(/\S+)", message.body_text)
    assert match, message.body_text
    return match.group(1)


def test_register_confirm_logout_login(client, db):
    response = client.post_form("/register", {"email": "Anna@Example.org",
                                              "password": "a long password", "confirm":
                                              "a long password"})
    assert response.status_code == 302
    user = db.scalar(sa.select(User).where(User.email == "anna@example.org"))
    assert user.role is Role.APPLICANT and user.email_confirmed_at is None
    assert user.password_hash.startswith("scrypt:")

    message = _last_mail(db, "anna@example.org")
    assert message.template == "confirm"
    link = _link(message)
    page = client.get(link)
    assert b"anna@example.org" in page.data
    assert client.post_form(link).status_code == 302
    db.refresh(user)
    assert user.email_confirmed_at is not None

    client.post_form("/logout")
    assert client.get("/me/").status_code == 302
    bad = client.post_form("/login", {"email": "anna@example.org", "password": "wrong one!"})
    assert "The e-mail or the password is wrong." in bad.get_data(as_text=True)
    good = client.post_form("/login", {"email": "ANNA@example.org",
                                       "password": "a long password"})
    assert good.status_code == 302
    assert client.get("/me/").status_code == 200


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "not-an-email", "password": "a long password", "confirm": "a long password"},
         "Invalid email address."),
        ({"email": "b@example.org", "password": "short", "confirm": "short"},
         "The password must be between 10 and 200 characters."),
        ({"email": "b@example.org", "password": "a long password", "confirm": "different!!"},
         "The passwords differ."),
    ],
    ids=["bad-email", "short-password", "mismatch"],
)
def test_registration_errors_are_clear(client, data, message):
    response = client.post_form("/register", data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


def test_registering_twice_is_refused_with_a_hint(client, db):
    make_user(db, email="taken@example.org")
    response = client.post_form("/register", {"email": "taken@example.org", "password":
                                              "a long password", "confirm": "a long password"})
    assert "already exists" in response.get_data(as_text=True)


def test_password_reset_link_works_once(client, db):
    user = make_user(db, email="reset@example.org")
    client.post_form("/reset", {"email": "reset@example.org"})
    link = _link(_last_mail(db, "reset@example.org"))
    response = client.post_form(link, {"password": "a brand new password",
                                       "confirm": "a brand new password"})
    assert response.status_code == 302
    again = client.get(link, follow_redirects=True)
    assert "not valid or was already used" in again.get_data(as_text=True)
    login = client.post_form("/login", {"email": user.email, "password": "a brand new password"})
    assert login.status_code == 302


def test_reset_does_not_reveal_whether_an_account_exists(client, db):
    response = client.post_form("/reset", {"email": "nobody@example.org"},
                                follow_redirects=True)
    assert "If an account exists for nobody@example.org" in response.get_data(as_text=True)
    assert _last_mail(db, "nobody@example.org") is None


def test_a_forged_confirmation_token_is_refused(client):
    response = client.get("/confirm/forged-token", follow_redirects=True)
    assert "not valid" in response.get_data(as_text=True)


def test_password_change_ends_other_sessions(client, db):
    from recruit.domain import accounts

    user = make_user(db)
    client.login(user)
    assert client.get("/me/").status_code == 200
    accounts.set_password(user=user, password="another long password")
    db.flush()
    assert client.get("/me/").status_code == 302


def test_login_redirect_ignores_outside_targets(client, db):
    user = make_user(db)
    response = client.post_form("/login", {"email": user.email, "password": PASSWORD,
                                           "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"


def test_forms_without_csrf_token_are_refused(client, db):
    user = make_user(db)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400


def test_a_json_body_posted_to_a_form_is_a_form_error_not_a_crash(client):
    token = client.csrf_token()
    response = client.post("/login", json={"email": ["x"], "password": 1},
                           headers={"X-CSRFToken": token})
    assert response.status_code == 200
    assert "This field is required." in response.get_data(as_text=True)
