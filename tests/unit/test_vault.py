"""Identities are encrypted at rest and only the vault opens them; keys rotate."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from flask import current_app

from recruit import vault
from recruit.models import Identity
from tests.factories import make_user

FIELDS = {"first": "Светлана", "last": "Кузнецова", "birth_date": "1990-04-02",
          "phone": "+7 912 345-67-89", "city": "Казань", "citizenship": "RU"}


def test_identity_is_stored_encrypted(db):
    user = make_user(db)
    vault.store_identity(db, user=user, fields=FIELDS)
    db.flush()
    raw = db.execute(sa.select(Identity.sealed).where(Identity.user_id == user.id)).scalar_one()
    # Short values (a two-letter code) may occur in random ciphertext by chance.
    for value in FIELDS.values():
        if len(value) >= 6:
            assert value.encode() not in raw
    opened = vault.open_identity_of(db, user_id=user.id)
    assert opened.full_name == "Светлана Кузнецова"
    assert opened.email == user.email


def test_unknown_identity_fields_are_refused():
    with pytest.raises(ValueError, match="unknown identity fields"):
        vault.Vault([Fernet.generate_key().decode()]).seal({"passport": "1234"})


def test_rotation_re_encrypts_with_the_new_key_and_old_key_can_go(db):
    user = make_user(db)
    vault.store_identity(db, user=user, fields=FIELDS)
    db.flush()
    old_keys = list(current_app.config["ENCRYPTION_KEYS"])
    new_key = Fernet.generate_key().decode()
    identities, _answers = vault.rotate_all(db, vault=vault.Vault([new_key, *old_keys]))
    assert identities >= 1
    sealed = db.execute(sa.select(Identity.sealed).where(Identity.user_id == user.id)).scalar_one()
    assert vault.Vault([new_key]).open(sealed).city == "Казань"
    with pytest.raises(vault.VaultError):
        vault.Vault(old_keys).open(sealed)
