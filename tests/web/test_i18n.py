"""English and Russian: the browser decides, the user can switch, the catalog is complete."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from tests.factories import make_user

ROOT = Path(__file__).resolve().parents[2]


def test_language_follows_the_browser(client):
    ru = client.get("/login", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
    assert "Войти" in ru.get_data(as_text=True)
    en = client.get("/login", headers={"Accept-Language": "en-GB"})
    assert "Log in" in en.get_data(as_text=True)


def test_language_can_be_switched_and_sticks_to_the_account(client, db):
    user = make_user(db, locale="en")
    client.login(user)
    client.post_form("/lang/ru")
    db.refresh(user)
    assert user.locale == "ru"
    page = client.get("/me/", headers={"Accept-Language": "en"})
    assert 'lang="ru"' in page.get_data(as_text=True)


def test_russian_catalog_covers_every_message(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "_l", "-k", "lazy_gettext", "-o", str(pot), "--no-location", "--omit-header",
         "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    with pot.open("rb") as fh:
        wanted = {m.id for m in read_po(fh) if m.id}
    with (ROOT / "recruit/translations/ru/LC_MESSAGES/messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="ru")
    translated = set()
    for message in catalog:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.id and not message.fuzzy and all(strings):
            translated.add(message.id)
    missing = sorted(str(m) for m in wanted - translated)
    assert missing == [], f"{len(missing)} messages lack a Russian translation: {missing[:15]}"
