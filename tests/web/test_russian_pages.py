"""Russian pages speak Russian: no internal key (snake_case, dotted names, criterion, state or
track keys) and no stray English, on any page any role reaches by clicking."""

from __future__ import annotations

import html
import re

import pytest

from recruit import labels
from recruit.domain.pipeline import State
from recruit.models import Candidacy, ContactRequest, Role
from tests.factories import make_user
from tests.web.test_reachability import crawl
from tests.world import ROLES, build_world

# Text that is Latin on purpose: e-mail addresses and links, codes, keys and file names (in
# <code>), file types on download buttons, key caps in keyboard hints, GMT in time zones (as
# the CLDR writes them in Russian too), reviewer labels in reading order, offer references.
ALLOWED = {"PDF", "CSV", "eml", "RUB", "Ctrl", "Enter", "Tab", "Esc", "GMT"}
# Left out: scripts, codes and tokens, keyboard keys, and what is marked as English on
# purpose (the switch to English).
_HIDDEN = re.compile(r"<(script|style|code|kbd|title)\b.*?</\1>"
                     r"|<(\w+)[^>]*\blang=\"en\"[^>]*>.*?</\2>|<[^>]+>", re.S | re.I)
_LATIN_WORD = re.compile(r"(?<![\w@./-])[A-Za-z][A-Za-z_.-]*[A-Za-z](?![\w@/-])")
_ADDRESS = re.compile(r"\S+@\S+|https?://\S+|/\S+")


def visible_latin(page: str) -> set[str]:
    """Latin words in what a reader sees (tags, code, scripts and addresses left out)."""
    text = html.unescape(_HIDDEN.sub(" ", page))
    text = _ADDRESS.sub(" ", text)
    words = set(_LATIN_WORD.findall(text))
    return {w for w in words
            if w not in ALLOWED and not re.fullmatch(r"R\d+|OF-\d+|[A-Z0-9]{2}-[A-Z0-9]{4}", w)}


@pytest.fixture
def world(db, app, monkeypatch):
    monkeypatch.setitem(app.config, "DEMO", True)
    world = build_world(db)
    world.answers[1].check_status = "pending"
    # What people wrote is in Russian too: only the interface is under test.
    for answer in world.answers:
        answer.text = answer.redacted_text = "Ответ кандидата. " * 30
    request = db.get(ContactRequest, world.extra["contact_request_id"])
    request.message = "Спросите, пожалуйста, может ли кандидат выйти в июне."
    passed = make_user(db, role=Role.APPLICANT)
    db.add(Candidacy(user_id=passed.id, campaign_id=world.campaign.id, state="passed"))
    for user in world.users.values():
        if user is not None:
            user.locale = "ru"
    db.flush()
    return world


@pytest.mark.parametrize("role", ROLES)
def test_no_internal_key_or_english_on_a_russian_page(role, app, client, world):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ru"
    if world.users[role] is not None:
        client.login(world.users[role])
    found: dict[str, set[str]] = {}

    def look(url: str, response) -> None:
        if response.mimetype == "text/html":
            latin = visible_latin(response.get_data(as_text=True))
            if latin:
                found[url] = latin

    crawl(app, client, on_page=look)
    assert found == {}, "\n".join(f"{url}: {sorted(words)}" for url, words in found.items())


def test_every_code_the_data_stores_has_a_label():
    assert set(labels.STATES) == {state.value for state in State}
    assert set(labels.OFFER_STATUSES) == {"issued", "accepted", "declined", "expired",
                                          "withdrawn"}
    assert set(labels.OUTCOMES) == {"advance", "reject", "hold"}


def test_every_audit_action_the_code_records_has_a_label():
    from pathlib import Path

    from recruit import ROOT

    recorded = set()
    for path in Path(ROOT, "recruit").rglob("*.py"):
        recorded |= set(re.findall(r'action="([a-z_]+\.[a-z_.]+)"', path.read_text()))
    assert recorded and recorded <= set(labels.AUDIT_ACTIONS)


@pytest.mark.parametrize(("language", "expected"), [("ru", "36\u00a0000\u00a0₽"),
                                                    ("en", "RUB\u00a036,000")])
def test_money_is_written_as_the_language_writes_it(app, language, expected):
    from recruit.i18n import format_money

    with app.test_request_context():
        assert format_money(36000, "RUB", language=language) == expected


def test_the_offers_page_shows_roubles_as_the_letters_do(client, world):
    client.login(world.users["coordinator"])
    page = client.get(f"/coordinate/campaigns/{world.campaign.id}/offers").get_data(as_text=True)
    assert "36\u00a0000\u00a0₽" in html.unescape(page) and "RUB" not in page


def test_the_company_has_a_russian_name_on_russian_pages(client, world):
    page = client.get("/login", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "<title>Войти · Служба поддержки социальной сети</title>" in page


def test_the_audit_log_names_actions_in_words(client, world):
    client.login(world.users["custodian"])
    page = client.get("/custody/audit").get_data(as_text=True)
    assert "Полномочия хранителя переданы" in page and "custodian.handover" not in page
    assert "учётная запись <code>" in page and "user:" not in page


def test_a_cut_off_reason_reads_as_words_in_the_dossier(app, db, world):
    from recruit.models import Decision
    from recruit.reports import data

    stage = world.campaign.stages[0]
    db.add(Decision(candidacy_id=world.candidacy.id, stage_id=stage.id, outcome="reject",
                    reason="top_n 5", via_cutoff=True))
    db.flush()
    context = data.dossier_context(db, candidacy=world.candidacy, locale="ru")
    assert context["stages"][0]["decision"]["reason"] == "порог отбора: лучшие 5"
