"""Accounts: applicant registration, staff creation, passwords, custodian handover."""

from __future__ import annotations

import secrets
import unicodedata
import zlib

from confusable_homoglyphs import confusables
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from recruit.db import serialise, utcnow
from recruit.domain import audit
from recruit.models import CampaignReviewer, Role, User

# Verifying against this keeps a login for an unknown e-mail as slow as for a known one.
_DUMMY_HASH = generate_password_hash(secrets.token_urlsafe(16), method="scrypt")


class AccountError(Exception):
    """An account operation that cannot be done, with a reason code for the caller."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def canonical_email(email: str) -> str:
    """The one spelling of an address that accounts are stored and compared under.

    Look-alikes fold together: NFKC turns fullwidth letters, ligatures and combining accents
    into plain letters, the domain is stored in its IDNA (punycode) form, and the whole is
    lower case. A local part that mixes alphabets (a Cyrillic "а" among Latin letters) is
    refused: it can only be meant to look like someone else's address.
    """
    text = unicodedata.normalize("NFKC", email.strip())
    try:
        info = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise AccountError("bad_email", f"not a valid e-mail address: {exc}") from exc
    local = info.local_part
    marks = [c for c in local if unicodedata.category(c) in ("Mn", "Me", "Cf")]
    if marks or confusables.is_mixed_script(local):
        raise AccountError("mixed_script", "the part before @ mixes letters of different "
                                           "alphabets")
    return f"{local}@{info.ascii_domain}".lower()


def normalise_email(email: str) -> str:
    """The stored spelling of an address, for lookups (anything malformed finds nobody)."""
    try:
        return canonical_email(email)
    except AccountError:
        return unicodedata.normalize("NFKC", email.strip()).lower()


def hash_password(password: str) -> str:
    """A salted scrypt hash."""
    return generate_password_hash(password, method="scrypt")


def find_user(db: Session, *, email: str) -> User | None:
    """The account with this e-mail, if any."""
    return db.scalar(select(User).where(User.email == normalise_email(email)))


def authenticate(db: Session, *, email: str, password: str) -> User | None:
    """The active account matching e-mail and password, or None."""
    user = find_user(db, email=email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    user.last_login_at = utcnow()
    return user


def _lock_address(db: Session, email: str) -> None:
    # Two registrations of one address at once: the second waits and then finds the first.
    serialise(db, "account.email", zlib.crc32(email.encode()))


def register_applicant(db: Session, *, email: str, password: str,
                       locale: str | None) -> tuple[User, bool]:
    """Create an applicant account (unconfirmed until the e-mail link is followed).

    Returns the account and whether it is new. The password is hashed either way, so an
    address that is taken costs the same time as a new one and the answer reveals nothing.
    """
    address = canonical_email(email)
    password_hash = hash_password(password)
    _lock_address(db, address)
    existing = find_user(db, email=address)
    if existing is not None:
        return existing, False
    user = User(email=address, password_hash=password_hash, role=Role.APPLICANT, locale=locale)
    db.add(user)
    db.flush()
    return user, True


def end_sessions(*, user: User) -> None:
    """Invalidate every session and "keep me logged in" cookie the user has opened so far."""
    user.session_version += 1


def set_password(*, user: User, password: str) -> None:
    """Change the password and end the user's other sessions."""
    user.password_hash = hash_password(password)
    end_sessions(user=user)


def create_staff(db: Session, *, email: str, role: Role, custodian: bool = False,
                 by: User | None = None) -> tuple[User, str]:
    """Create a reviewer or coordinator with a random password; returns the user and password."""
    if role not in (Role.REVIEWER, Role.COORDINATOR):
        raise AccountError("bad_role", "staff accounts are reviewers or coordinators")
    if custodian and role is not Role.COORDINATOR:
        raise AccountError("custodian_not_coordinator",
                           "the custodian must be a coordinator and can never review")
    address = canonical_email(email)
    _lock_address(db, address)
    if find_user(db, email=address) is not None:
        raise AccountError("email_taken", f"an account with e-mail {address} already exists")
    password = secrets.token_urlsafe(12)
    user = User(email=address, password_hash=hash_password(password), role=role,
                email_confirmed_at=utcnow())
    db.add(user)
    db.flush()
    if custodian:
        make_custodian(db, user=user, by=by)
    return user, password


def current_custodian(db: Session) -> User | None:
    """The one account holding the custodian flag, if any."""
    return db.scalar(select(User).where(User.is_custodian.is_(True)))


def make_custodian(db: Session, *, user: User, by: User | None) -> User | None:
    """Hand the custodian flag to ``user``; returns the previous custodian. Audited."""
    if user.role is not Role.COORDINATOR:
        raise AccountError("custodian_not_coordinator",
                           "only a coordinator can be the custodian (a reviewer never can)")
    if not user.active:
        raise AccountError("inactive", "a deactivated account cannot be the custodian")
    in_pool = db.scalar(select(CampaignReviewer.user_id).where(CampaignReviewer.user_id == user.id))
    if in_pool is not None:
        raise AccountError("in_reviewer_pool", "this account is in a reviewer pool")
    # Two handovers at once: the second waits, then hands over from the first one's holder.
    serialise(db, "custodian")
    previous = current_custodian(db)
    if previous is not None and previous.id == user.id:
        return previous
    # Clear the old flag first: the partial unique index allows one holder at a time.
    db.execute(update(User).where(User.is_custodian.is_(True)).values(is_custodian=False))
    db.flush()
    user.is_custodian = True
    # Sessions opened before the handover end: the old holder's could still open identities,
    # the new holder's were opened without identity access.
    end_sessions(user=user)
    if previous is not None:
        db.refresh(previous)
        end_sessions(user=previous)
    db.flush()
    audit.record(
        db,
        action="custodian.handover",
        actor_id=by.id if by else None,
        subject=f"user:{user.id}",
        details={"from": previous.id if previous else None, "to": user.id},
    )
    return previous
