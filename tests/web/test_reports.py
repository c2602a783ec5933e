"""PDF and CSV downloads: content, who may take them, headers, audit, and the batch CLI."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from pypdf import PdfReader
from sqlalchemy import select

from recruit.cli import cli
from recruit.db import get_db
from recruit.models import AuditEvent
from recruit.reports import documents
from tests.report_world import MARIA, MARIA_EMAIL, build_report_world


@pytest.fixture
def world(db):
    return build_report_world(db)


def pdf_text(body: bytes) -> str:
    reader = PdfReader(io.BytesIO(body))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def pdf_info(body: bytes) -> dict[str, str]:
    return {k: str(v) for k, v in (PdfReader(io.BytesIO(body)).metadata or {}).items()}


def identity_strings(world) -> list[str]:
    return [MARIA["first"], MARIA["last"], MARIA["phone"], MARIA["birth_date"], MARIA["vk"],
            MARIA["city"], MARIA_EMAIL, "28 February 1999", "28 февраля 1999"]


def urls(world) -> dict[str, str]:
    campaign_id = world.campaign.id
    return {
        "letter": f"/offers/{world.maria_offer.id}/letter.pdf",
        "preview": f"/coordinate/offers/{world.maria_offer.id}/letter-preview.pdf",
        "dossier": f"/coordinate/candidacies/{world.maria_candidacy.code}/dossier.pdf",
        "report": f"/coordinate/campaigns/{campaign_id}/report.pdf",
        "results": f"/coordinate/campaigns/{campaign_id}/results.csv",
        "hires": f"/custody/campaigns/{campaign_id}/hires.csv",
    }


def who(world, name):
    return {"addressee": world.maria, "other applicant": world.other_applicant,
            "reviewer": world.reviewers[0], "coordinator": world.coordinator,
            "custodian": world.custodian}[name]


def assert_download_headers(response, filename: str) -> None:
    assert response.headers["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert response.headers["Cache-Control"] == "no-store"


# -- who may download what ----------------------------------------------------------------------

ALLOWED = {
    "letter": {"addressee", "custodian"},
    "preview": {"coordinator", "custodian"},
    "dossier": {"coordinator", "custodian"},
    "report": {"coordinator", "custodian"},
    "results": {"coordinator", "custodian"},
    "hires": {"custodian"},
}
VISITORS = ["addressee", "other applicant", "reviewer", "coordinator", "custodian"]
# Visitors with no right to know the document exists get the answer of a missing one.
HIDDEN = {("other applicant", "letter"): 404, ("reviewer", "letter"): 404}


@pytest.mark.parametrize("document", list(ALLOWED))
@pytest.mark.parametrize("visitor", VISITORS)
def test_who_may_download_what(client, world, monkeypatch, visitor, document):
    # The policy is under test here, not the layout: skip WeasyPrint.
    monkeypatch.setattr(documents.Document, "render", lambda self: b"%PDF-1.7 stub")
    client.login(who(world, visitor))
    response = client.get(urls(world)[document])
    assert response.status_code == (200 if visitor in ALLOWED[document]
                                    else HIDDEN.get((visitor, document), 403))


@pytest.mark.parametrize("document", list(ALLOWED))
def test_anonymous_visitors_are_sent_to_log_in(client, world, document):
    response = client.get(urls(world)[document])
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("url", [
    "/offers/999999/letter.pdf",
    "/coordinate/offers/999999/letter-preview.pdf",
    "/coordinate/candidacies/ZZ-ZZZZ/dossier.pdf",
    "/coordinate/campaigns/999999/report.pdf",
    "/coordinate/campaigns/999999/results.csv",
    "/custody/campaigns/999999/hires.csv",
], ids=["letter", "preview", "dossier", "report", "results", "hires"])
def test_missing_objects_are_404_for_the_custodian(client, world, url):
    client.login(world.custodian)
    assert client.get(url).status_code == 404


# -- offer letter -------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "ru"])
def test_offer_letter_names_the_addressee_and_holds_every_term(client, world, lang):
    client.login(world.maria)
    response = client.get(urls(world)["letter"] + f"?lang={lang}")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    reference = f"OF-{world.maria_offer.id:06d}"
    assert_download_headers(response, f"offer-{reference}.pdf")
    text = pdf_text(response.data)
    # Babel's currency pattern for the language, the same as on the pages.
    salary = "RUB 40,000" if lang == "en" else "40 000 ₽"
    role = "Support agent" if lang == "en" else "Специалист службы поддержки"
    probation = ("Probation period of three months." if lang == "en"
                 else "Испытательный срок — три месяца.")
    for expected in ("Мария Сергеевна Иванова", role, salary, probation, reference,
                     "Social network support team" if lang == "en"
                     else "Служба поддержки социальной сети",
                     "Saint Petersburg, Russia" if lang == "en" else "Санкт-Петербург, Россия"):
        assert expected in text, expected
    assert len(PdfReader(io.BytesIO(response.data)).pages) == 1
    info = pdf_info(response.data)
    assert reference in info["/Title"]
    assert all(MARIA["last"] not in value for value in info.values())


def test_custodian_letter_download_is_audited_and_in_the_addressees_language(client, world):
    client.login(world.custodian)
    response = client.get(urls(world)["letter"])
    assert response.status_code == 200
    assert "Специалист службы поддержки" in pdf_text(response.data)  # Maria chose Russian
    events = get_db().scalars(select(AuditEvent).where(
        AuditEvent.action == "offer_letter.download")).all()
    assert [(e.actor_id, e.subject) for e in events] == [
        (world.custodian.id, f"offer:{world.maria_offer.id}")]


def test_the_addressees_own_download_is_not_audited(client, world):
    client.login(world.maria)
    assert client.get(urls(world)["letter"]).status_code == 200
    assert get_db().scalar(select(AuditEvent.id).where(
        AuditEvent.action == "offer_letter.download")) is None


def test_the_custodian_downloads_every_named_letter_from_the_offers_page(client, world):
    client.login(world.custodian)
    page = client.get(f"/coordinate/campaigns/{world.campaign.id}/offers")
    letter = urls(world)["letter"]
    assert f'href="{letter}"'.encode() in page.data
    response = client.get(letter)
    assert "Мария Сергеевна Иванова" in pdf_text(response.data)


def test_a_coordinator_previews_a_letter_with_the_code_and_never_the_name(client, world,
                                                                         monkeypatch):
    from recruit import vault

    def refuse(*args, **kwargs):
        raise AssertionError("a preview must not open the vault")

    monkeypatch.setattr(vault, "open_identity_of", refuse)
    client.login(world.coordinator)
    page = client.get(f"/coordinate/campaigns/{world.campaign.id}/offers")
    letter, preview = urls(world)["letter"], urls(world)["preview"]
    assert f'href="{preview}"'.encode() in page.data
    assert f'href="{letter}"'.encode() not in page.data
    response = client.get(urls(world)["preview"] + "?lang=en")
    reference = f"OF-{world.maria_offer.id:06d}"
    assert_download_headers(response, f"offer-{reference}-preview.pdf")
    text = pdf_text(response.data)
    assert f"Dear {world.maria_candidacy.code}," in text
    assert "Preview for coordinators" in text
    assert [s for s in identity_strings(world) if s in text] == []
    assert pdf_info(response.data)["/Title"] == f"Offer of employment {reference} (preview)"


# -- pseudonymous documents ---------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "ru"])
def test_dossier_holds_scores_comments_and_decisions_but_no_identity(client, world, lang):
    client.login(world.coordinator)
    response = client.get(urls(world)["dossier"] + f"?lang={lang}")
    assert response.status_code == 200
    code = world.maria_candidacy.code
    assert_download_headers(response, f"dossier-{code}.pdf")
    text = pdf_text(response.data)
    stage = "Stage 1: getting to know you" if lang == "en" else "Этап 1. Знакомство"
    moderator = "Content moderator" if lang == "en" else "Модератор контента"
    for expected in (code, stage, "R1", "R2", "Clear, kind answers above the stage cut-off.",
                     moderator, "Support agents — spring 2025" if lang == "en"
                     else "Специалисты поддержки — весна 2025"):
        assert expected in text, expected
    leaks = identity_strings(world) + world.reviewer_emails + [world.coordinator.email]
    info = pdf_info(response.data)
    assert [s for s in leaks if s in text or any(s in v for v in info.values())] == []
    assert info["/Title"] == {"en": f"Dossier {code}", "ru": f"Досье {code}"}[lang]


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_campaign_report_holds_every_section_and_no_identity(client, world, lang):
    client.login(world.coordinator)
    response = client.get(urls(world)["report"] + f"?lang={lang}")
    assert response.status_code == 200
    assert_download_headers(response, "campaign-spring-wave-report.pdf")
    text = pdf_text(response.data)
    words = {
        "en": ("Younger than 18 years", "Citizenship not accepted", "Reviewer #1",
               "Stage 1: submitted", "Support agent"),
        "ru": ("Младше 18", "Гражданство не подходит", "Рецензент № 1", "Этап 1: отправили",
               "Специалист службы поддержки"),
    }[lang]
    for expected in (*words, "17", "12"):
        assert expected in text, expected
    leaks = identity_strings(world) + world.reviewer_emails
    assert [s for s in leaks if s in text] == []
    assert world.maria_candidacy.code not in text  # aggregates only


# -- CSV ----------------------------------------------------------------------------------------

def read_csv(response) -> list[list[str]]:
    body = response.data.decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def test_results_csv_is_pseudonymous_with_a_row_per_candidacy(client, world):
    client.login(world.coordinator)
    response = client.get(urls(world)["results"])
    assert response.mimetype == "text/csv"
    assert_download_headers(response, "campaign-spring-wave-results.csv")
    header, *rows = read_csv(response)
    assert header[:3] == ["code", "state", "stage-1_score"]
    assert sorted(row[0] for row in rows) == sorted(c.code for c in world.candidacies)
    maria = next(row for row in rows if row[0] == world.maria_candidacy.code)
    assert maria[1] == "offered"
    assert float(maria[header.index("stage-1_score")]) > 1
    body = response.data.decode("utf-8")
    assert [s for s in identity_strings(world) if s in body] == []


def test_hires_csv_lists_accepted_offers_with_contacts_and_is_audited(client, world):
    client.login(world.custodian)
    response = client.get(urls(world)["hires"])
    assert_download_headers(response, "campaign-spring-wave-hires.csv")
    header, *rows = read_csv(response)
    assert len(rows) == 2
    assert {"last_name", "first_name", "email", "phone"} <= set(header)
    # A leading "+" would make a spreadsheet run the phone number as a formula.
    assert all(row[header.index("phone")].startswith("'+7") for row in rows)
    events = get_db().scalars(select(AuditEvent).where(AuditEvent.action == "hires.export"))
    assert [(e.actor_id, e.details) for e in events] == [(world.custodian.id, {"rows": 2})]


def test_campaign_page_links_the_reports(client, world):
    client.login(world.coordinator)
    page = client.get(f"/coordinate/campaigns/{world.campaign.id}").get_data(as_text=True)
    assert urls(world)["report"] in page and urls(world)["results"] in page
    assert urls(world)["hires"] not in page
    client.login(world.custodian)
    page = client.get(f"/coordinate/campaigns/{world.campaign.id}").get_data(as_text=True)
    assert urls(world)["hires"] in page


# -- CLI ----------------------------------------------------------------------------------------

def run(app, *args: str):
    return CliRunner().invoke(cli, list(args), obj=ScriptInfo(create_app=lambda: app))


def test_cli_letters_writes_one_pdf_per_issued_or_accepted_offer(fresh_app, tmp_path: Path):
    with fresh_app.app_context():
        db = get_db()
        world = build_report_world(db)
        db.commit()
        expected = sorted(f"offer-OF-{o.id:06d}.pdf" for o in world.offers
                          if o.status in ("issued", "accepted"))
    out = tmp_path / "letters"
    result = run(fresh_app, "reports", "letters", "--campaign", "spring-wave", "--out", str(out),
                 "--processes", "2")
    assert result.exit_code == 0, result.output
    assert "Wrote 4 letters" in result.output
    assert sorted(p.name for p in out.iterdir()) == expected
    for path in out.iterdir():
        # Each letter in its addressee's language, the company's name too.
        text = pdf_text(path.read_bytes())
        assert "Social network support team" in text or "Служба поддержки социальной сети" in text

    report = tmp_path / "report.pdf"
    result = run(fresh_app, "reports", "campaign", "spring-wave", "-o", str(report), "--lang", "ru")
    assert result.exit_code == 0, result.output
    assert "Специалисты поддержки — весна 2025" in pdf_text(report.read_bytes())


def test_cli_refuses_an_unknown_campaign(fresh_app, tmp_path):
    result = run(fresh_app, "reports", "letters", "--campaign", "nope", "--out", str(tmp_path))
    assert result.exit_code != 0
    assert "no campaign with key 'nope'" in result.output
