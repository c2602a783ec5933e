"""The identity vault: the only place that encrypts or decrypts who an applicant is."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from recruit.models import Identity, User

FIELDS = (
    "first",
    "middle",
    "last",
    "birth_date",
    "citizenship",
    "phone",
    "city",
    "vk",
    "handle",
)


class VaultError(Exception):
    """The vault cannot open a sealed identity (wrong or missing key)."""


@dataclass(frozen=True)
class IdentityData:
    """An opened identity: plain values, handed only to code entitled to them."""

    first: str = ""
    middle: str = ""
    last: str = ""
    birth_date: str = ""
    citizenship: str = ""
    phone: str = ""
    city: str = ""
    vk: str = ""
    handle: str = ""
    email: str = ""

    @property
    def full_name(self) -> str:
        """First, middle and last name as one line."""
        return " ".join(p for p in (self.first, self.middle, self.last) if p)

    def for_redaction(self) -> dict[str, str]:
        """Every field of the profile, under the keys the redactor understands."""
        return {field: getattr(self, field) for field in (*FIELDS, "email")}


class Vault:
    """Seals and opens identity records with the instance's Fernet keys."""

    def __init__(self, keys: Iterable[str]):
        keys = list(keys)
        if not keys:
            raise VaultError("no encryption key configured")
        self._fernet = MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])

    def seal(self, fields: Mapping[str, str]) -> bytes:
        """Encrypt identity fields (unknown keys are refused)."""
        unknown = set(fields) - set(FIELDS)
        if unknown:
            raise ValueError(f"unknown identity fields: {sorted(unknown)}")
        data = {k: str(fields.get(k) or "") for k in FIELDS}
        return self._fernet.encrypt(json.dumps(data, ensure_ascii=False).encode())

    def open(self, sealed: bytes, *, email: str = "") -> IdentityData:
        """Decrypt a sealed identity."""
        try:
            data = json.loads(self._fernet.decrypt(sealed))
        except InvalidToken as exc:
            raise VaultError("identity cannot be decrypted with the configured keys") from exc
        return IdentityData(**{k: data.get(k, "") for k in FIELDS}, email=email)

    def rotate(self, sealed: bytes) -> bytes:
        """Re-encrypt with the first (newest) key."""
        return self._fernet.rotate(sealed)

    def seal_text(self, text: str) -> str:
        """Encrypt a text for a sealed column (a Fernet token, itself plain ASCII)."""
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def open_text(self, sealed: str) -> str:
        """Decrypt a sealed column's value."""
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeEncodeError) as exc:
            raise VaultError("a sealed text cannot be decrypted with the configured keys "
                             "(or was never sealed)") from exc


def get_vault() -> Vault:
    """The vault of the current app."""
    return current_app.extensions["recruit.vault"]


def store_identity(db: Session, *, user: User, fields: Mapping[str, str]) -> Identity:
    """Create or replace the sealed identity of ``user``."""
    sealed = get_vault().seal(fields)
    identity = db.scalar(select(Identity).where(Identity.user_id == user.id))
    if identity is None:
        identity = Identity(user_id=user.id, sealed=sealed)
        db.add(identity)
    else:
        identity.sealed = sealed
    return identity


def open_identity_of(db: Session, *, user_id: int) -> IdentityData | None:
    """Open the identity of one user; callers record an audit event for human views."""
    row = db.execute(
        select(Identity.sealed, User.email)
        .join(User, User.id == Identity.user_id)
        .where(Identity.user_id == user_id)
    ).first()
    if row is None:
        return None
    return get_vault().open(row.sealed, email=row.email)


# The answer table as stored, without the decrypting column type: rotation works on tokens.
_ANSWER_TOKENS = sa.table("answer", sa.column("id", sa.Integer), sa.column("text", sa.Text))


def rotate_all(db: Session, *, vault: Vault, batch: int = 1000) -> tuple[int, int]:
    """Re-encrypt every identity and every answer original with the newest key; returns how
    many identities and answers changed."""
    identities = 0
    for identity in db.scalars(select(Identity)):
        identity.sealed = vault.rotate(identity.sealed)
        identities += 1
    answers, last_id = 0, 0
    while True:
        rows = db.execute(select(_ANSWER_TOKENS.c.id, _ANSWER_TOKENS.c.text)
                          .where(_ANSWER_TOKENS.c.id > last_id)
                          .order_by(_ANSWER_TOKENS.c.id).limit(batch)).all()
        if not rows:
            return identities, answers
        db.execute(sa.update(_ANSWER_TOKENS).where(_ANSWER_TOKENS.c.id == sa.bindparam("b_id"))
                   .values(text=sa.bindparam("b_text")),
                   [{"b_id": r.id, "b_text": vault.rotate(r.text.encode("ascii")).decode("ascii")}
                    for r in rows])
        answers += len(rows)
        last_id = rows[-1].id
