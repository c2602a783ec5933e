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


def _register(client, email: str):
    return client.post_form("/register", {"email": email, "password": "a long password",
                                          "confirm": "a long password"})


def _flashes(client) -> list:
    with client.session_transaction() as sess:
        return list(sess.get("_flashes", []))


def test_registering_a_taken_address_answers_like_a_new_one(client, db, monkeypatch):
    from recruit.domain import accounts

    make_user(db, email="taken@example.org")
    hashed = []
    real_hash = accounts.hash_password
    monkeypatch.setattr(accounts, "hash_password", lambda pw: hashed.append(pw) or real_hash(pw))

    answers = []
    for email in ("taken@example.org", "new@example.org"):
        client.logout()
        response = _register(client, email)
        answers.append((response.status_code, response.headers["Location"],
                        [text.replace(email, "EMAIL") for _cat, text in _flashes(client)]))
        with client.session_transaction() as sess:
            assert "_user_id" not in sess, "registering must not log in (it would tell)"
    assert answers[0] == answers[1]
    assert answers[0][:2] == (302, "/login")
    # The same work either way: one password hash and one e-mail per registration.
    assert len(hashed) == 2
    assert _last_mail(db, "taken@example.org").template == "account_exists"
    assert _last_mail(db, "new@example.org").template == "confirm"
    assert db.scalar(sa.select(sa.func.count()).select_from(User)
                     .where(User.email == "taken@example.org")) == 1


def test_the_owner_of_a_taken_address_gets_login_and_reset_links(client, db):
    make_user(db, email="taken@example.org", locale="ru")
    _register(client, "taken@example.org")
    message = _last_mail(db, "taken@example.org")
    assert "http://localhost/login" in message.body_text
    assert "http://localhost/reset" in message.body_text
    assert message.locale == "ru" and "Hello" not in message.body_text


def test_the_first_confirmation_logs_the_new_applicant_in(client, db):
    _register(client, "fresh@example.org")
    link = _link(_last_mail(db, "fresh@example.org"))
    assert client.post_form(link).status_code == 302
    assert client.get("/me/").status_code == 200
    client.logout()
    # A second use of the link confirms nothing new and logs nobody in.
    client.post_form(link)
    assert client.get("/me/").status_code == 302


@pytest.mark.parametrize("look_alike", [
    "ａｎｎａ@example.org",            # fullwidth letters
    "ANNA@EXAMPLE.ORG",                # capitals
    "anna@ｅｘａｍｐｌｅ.org",          # fullwidth domain
    "anna@EXAMPLE.org ",               # case and spaces
], ids=["fullwidth", "capitals", "fullwidth-domain", "spaces"])
def test_look_alike_addresses_fold_into_the_same_account(client, db, look_alike):
    make_user(db, email="anna@example.org")
    _register(client, look_alike)
    assert _last_mail(db, "anna@example.org").template == "account_exists"
    assert db.scalar(sa.select(sa.func.count()).select_from(User)
                     .where(User.email.like("%anna%"))) == 1


def test_ligatures_and_combining_accents_fold_to_one_spelling():
    from recruit.domain.accounts import canonical_email

    assert canonical_email("\ufb01ona@example.org") == "fiona@example.org"
    # "é" typed as e + a combining accent is the same address as the precomposed "é".
    assert canonical_email("rene\u0301@example.org") == canonical_email("ren\u00e9@example.org")
    assert canonical_email("anna@пример.рф") == "anna@xn--e1afmkfd.xn--p1ai"


@pytest.mark.parametrize("address", [
    "\u0430nna@example.org",              # Cyrillic а among Latin letters
    "ann\u0430.ivanova@example.org",
    "an\u200dna@example.org",             # zero-width joiner
], ids=["cyrillic-a", "cyrillic-in-dotted", "zero-width"])
def test_a_mixed_script_address_is_refused_with_a_clear_message(client, db, address):
    response = _register(client, address)
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert ("letters of different alphabets" in text or "Invalid email address" in text)
    assert db.scalar(sa.select(User).where(User.email.like("%nna%"))) is None


def test_a_mixed_script_address_is_refused_in_russian_too(client, db):
    client.set_cookie("lang", "ru")
    response = client.post_form("/register", {"email": "\u0430nna@example.org",
                                              "password": "a long password",
                                              "confirm": "a long password"},
                                headers={"Accept-Language": "ru"})
    text = response.get_data(as_text=True)
    assert "разных алфавитов" in text


def test_a_single_script_cyrillic_address_is_accepted(client, db):
    response = _register(client, "анна@почта.рф")
    assert response.status_code == 302
    assert db.scalar(sa.select(User.email).where(User.role == Role.APPLICANT)
                     .order_by(User.id.desc()).limit(1)) == "анна@xn--80a1acny.xn--p1ai"


def test_a_session_cookie_copied_before_logout_no_longer_opens_anything(client, db, app):
    user = make_user(db)
    client.post_form("/login", {"email": user.email, "password": PASSWORD, "remember": "y"})
    assert client.get("/me/").status_code == 200
    copied = {c.key: c.value for c in client.raw._cookies.values()}
    client.post_form("/logout")
    thief = app.test_client()
    for name, value in copied.items():
        thief.set_cookie(name, value)
    assert thief.get("/me/").status_code == 302


def test_a_custodian_handover_ends_both_holders_earlier_sessions(client, db, app):
    from recruit.domain import accounts

    old = make_user(db, role=Role.COORDINATOR, custodian=True)
    new = make_user(db, role=Role.COORDINATOR)
    old_client, new_client = client, type(client)(app)
    old_client.login(old)
    new_client.login(new)
    assert old_client.get("/custody/").status_code == 200
    assert new_client.get("/coordinate/").status_code == 200
    accounts.make_custodian(db, user=new, by=old)
    db.flush()
    assert old_client.get("/custody/").status_code == 302
    assert new_client.get("/coordinate/").status_code == 302


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
