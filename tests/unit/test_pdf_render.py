"""PDF documents: templates render to real PDFs with the right text, metadata and limits."""

from __future__ import annotations

import io
import socket
from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader
from pypdf import PdfReader

from recruit.reports import charts
from recruit.reports.batch import LetterRenderer
from recruit.reports.render import RestrictedURLFetcher, render_pdf

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
PIXEL_PNG = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYPj/"
    "HwADAgH/eL9GtQAAAABJRU5ErkJggg=="
)


@pytest.fixture(scope="module")
def env() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=True, extensions=["jinja2.ext.i18n"]
    )
    environment.install_null_translations(newstyle=True)
    return environment


def pdf_text(pdf: bytes) -> str:
    """All page text with whitespace collapsed, so line wrapping does not matter."""
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def pdf_info(pdf: bytes) -> dict[str, str]:
    return {key: str(value) for key, value in (PdfReader(io.BytesIO(pdf)).metadata or {}).items()}


OFFER = {
    "en": {
        "company_name": "Northwind Social",
        "company_address": "1 Harbour Street, St Petersburg 190000",
        "letter_date": "3 March 2025",
        "reference": "OF-7K2QX9",
        "candidate_name": "Maria Ivanova",
        "role_title": "Support agent",
        "salary": "36 000 ₽ per month",
        "currency": "RUB",
        "start_date": "1 April 2025",
        "work_format": "Remote, with one office day a month",
        "conditions": ["Probation period of three months", "Paid training in the first week"],
        "expires_on": "17 March 2025",
        "accept_url": "https://recruit.example.org/offers/OF-7K2QX9/respond",
        "signatory_title": "Head of Support Recruitment",
    },
    "ru": {
        "company_name": "Северный ветер",
        "company_address": "Санкт-Петербург, Невский проспект, 28",
        "letter_date": "3 марта 2025 г.",
        "reference": "OF-7K2QX9",
        "candidate_name": "Мария Иванова",
        "role_title": "Агент поддержки",
        "salary": "36 000 ₽ в месяц",
        "currency": "RUB",
        "start_date": "1 апреля 2025 г.",
        "work_format": "Удалённо, один день в месяц в офисе",
        "conditions": ["Испытательный срок три месяца", "Оплачиваемое обучение"],
        "expires_on": "17 марта 2025 г.",
        "accept_url": "https://recruit.example.org/offers/OF-7K2QX9/respond",
        "signatory_title": "Руководитель отбора в поддержку",
    },
}

IDENTITY = {
    "candidate_name": "Мария Иванова",
    "email": "maria.ivanova@example.com",
    "phone": "+7 921 555-01-02",
    "birth_date": "1999-02-28",
}


def dossier_context(lang: str) -> dict:
    ru = lang == "ru"
    review = {
        "label": "R1",
        "score": "3.90",
        "raw": "4.20",
        "criteria": [
            {"title": "Грамотность" if ru else "Literacy", "value": 4},
            {"title": "Эмпатия" if ru else "Empathy", "value": 5},
        ],
        "comment": "Тёплый тон, ясный ответ" if ru else "Warm tone, clear next step",
    }
    return {
        "company_name": OFFER[lang]["company_name"],
        "lang": lang,
        "code": "C-4F7Q-9KXM",
        "campaign_title": "Весенняя волна 2025" if ru else "Spring wave 2025",
        "generated_on": "3 марта 2025 г." if ru else "3 March 2025",
        "stages": [
            {
                "title": "Этап 1: письменные задания" if ru else "Stage 1: written tasks",
                "decision": {
                    "outcome": "Дальше" if ru else "Advance",
                    "reason": "Сильные ответы" if ru else "Strong, kind answers",
                    "decided_on": "28 февраля 2025 г." if ru else "28 February 2025",
                },
                "score": 4.05,
                "raw": 4.12,
                "tasks": [
                    {
                        "title": "Разгневанный пользователь" if ru else "An angry user",
                        "score": "4.05",
                        "raw": "4.10",
                        "reviews": [review, {**review, "label": "R2", "comment": ""}],
                    },
                    {"title": "Ban appeal", "score": None, "raw": None, "reviews": []},
                ],
                "criteria": [
                    {"title": "Грамотность" if ru else "Literacy", "average": "4.00"},
                    {"title": "Эмпатия" if ru else "Empathy", "average": 4.5},
                ],
            },
            {
                "title": "Stage 2",
                "decision": None,
                "score": None,
                "raw": None,
                "tasks": [],
                "criteria": [],
            },
        ],
        "matches": [
            {
                "role_title": "Модератор" if ru else "Moderator",
                "reasons": ["Суждение 4,5 ≥ 4,0" if ru else "Judgement 4.5 ≥ 4.0"],
            }
        ],
    }


def report_context(lang: str) -> dict:
    ru = lang == "ru"
    funnel = [
        ("Зарегистрированы" if ru else "Registered", 1200),
        ("Допущены" if ru else "Eligible", 950),
        ("Этап 1" if ru else "Stage 1", 610),
        ("Офферы" if ru else "Offers", 40),
        ("Приняты" if ru else "Accepted", 31),
    ]
    failures = [("Младше 18 лет" if ru else "Younger than 18", 120), ("Citizenship", 130)]
    return {
        "company_name": OFFER[lang]["company_name"],
        "lang": lang,
        "campaign_title": "Весенняя волна 2025" if ru else "Spring wave 2025",
        "generated_on": "3 марта 2025 г." if ru else "3 March 2025",
        "funnel_svg": charts.funnel_chart(steps=funnel, title="Воронка" if ru else "Funnel"),
        "eligibility_failures": failures,
        "eligibility_svg": charts.bar_chart(items=failures, title="Eligibility failures"),
        "stage_sections": [
            {
                "title": "Этап 1" if ru else "Stage 1",
                "histogram_svg": charts.histogram(
                    values=[1.5, 2.2, 3.1, 3.4, 3.9, 4.0, 4.4, 4.8, 5.0],
                    bins=[1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5],
                    title="Score distribution",
                ),
                "criteria_svg": charts.bar_chart(
                    items=[("Эмпатия" if ru else "Empathy", 3.8), ("Tone", 3.2)],
                    title="Criterion averages",
                ),
                "reviewers": [
                    {"label": "R1", "load": 42, "severity": "+0.31"},
                    {"label": "R2", "load": 38, "severity": -0.12},
                ],
                "alpha": 0.71,
                "median_days_to_decision": "4",
            }
        ],
        "integrity": {
            "threshold": 35, "pairs": 4, "stored": 6, "flagged_similar": 4,
            "flagged_pasted": 1, "paste_threshold": 50,
            "histogram_svg": charts.histogram(values=[36, 41, 78, 100], bins=range(25, 101, 5),
                                              title="Similarity of pairs"),
            "clusters": [{"task": "Задание 1" if ru else "Task 1",
                          "codes": ["K7-QX3M", "P2-ZZ9A", "T4-M8CW"], "highest": "87 %"}],
        },
        "offers": [
            {
                "role_title": "Агент поддержки" if ru else "Support agent",
                "issued": 40,
                "accepted": 31,
                "declined": 5,
                "expired": 2,
                "open": 2,
            }
        ],
    }


@pytest.fixture(scope="module", params=["en", "ru"])
def lang(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def offer_pdf(env, lang) -> bytes:
    html = env.get_template("pdf/offer_letter.html").render(lang=lang, **OFFER[lang])
    return render_pdf(html, title="Offer OF-7K2QX9", author=OFFER[lang]["company_name"], lang=lang)


@pytest.fixture(scope="module")
def dossier(env, lang) -> tuple[str, bytes]:
    # Identity keys in the context stand in for anything a context processor might add.
    html = env.get_template("pdf/dossier.html").render(**dossier_context(lang), **IDENTITY)
    return html, render_pdf(html, title="C-4F7Q-9KXM", lang=lang)


@pytest.fixture(scope="module")
def report_pdf(env, lang) -> bytes:
    html = env.get_template("pdf/campaign_report.html").render(**report_context(lang))
    return render_pdf(html, title="Campaign report", author="Coordinator", lang=lang)


def test_offer_letter_holds_every_term(offer_pdf, lang):
    text = pdf_text(offer_pdf)
    data = OFFER[lang]
    for key in (
        "candidate_name",
        "role_title",
        "salary",
        "start_date",
        "work_format",
        "expires_on",
        "accept_url",
        "signatory_title",
        "reference",
        "company_name",
    ):
        assert data[key] in text, key
    for condition in data["conditions"]:
        assert condition in text
    assert "1 / 1" in text or "1 / 2" in text


def test_offer_letter_metadata_is_exactly_what_was_passed(offer_pdf, lang):
    info = pdf_info(offer_pdf)
    assert info["/Title"] == "Offer OF-7K2QX9"
    assert info["/Author"] == OFFER[lang]["company_name"]
    assert set(info) <= {"/Title", "/Author", "/Producer"}


def test_dossier_shows_scores_and_decisions(dossier, lang):
    text = pdf_text(dossier[1])
    context = dossier_context(lang)
    stage = context["stages"][0]
    for expected in (
        context["code"],
        context["campaign_title"],
        stage["title"],
        stage["decision"]["outcome"],
        stage["decision"]["reason"],
        stage["tasks"][0]["title"],
        "R1",
        "R2",
        "4.05",
        "4.50",
        "3.90",
        stage["criteria"][0]["title"],
        review_comment(lang),
        context["matches"][0]["role_title"],
        context["matches"][0]["reasons"][0],
    ):
        assert expected in text, expected


def review_comment(lang: str) -> str:
    return dossier_context(lang)["stages"][0]["tasks"][0]["reviews"][0]["comment"]


def test_dossier_carries_no_identity_even_when_the_context_does(dossier):
    html, pdf = dossier
    text, info = pdf_text(pdf), pdf_info(pdf)
    for secret in IDENTITY.values():
        assert secret not in html
        assert secret not in text
        assert all(secret not in value for value in info.values())
    assert info["/Title"] == "C-4F7Q-9KXM"
    assert "/Author" not in info


def test_campaign_report_holds_charts_and_tables(report_pdf, lang):
    text = pdf_text(report_pdf)
    context = report_context(lang)
    for expected in (
        context["campaign_title"],
        context["eligibility_failures"][0][0],
        context["offers"][0]["role_title"],
        "0.71",
        "+0.31",
        "-0.12",
        context["stage_sections"][0]["title"],
    ):
        assert expected in text, expected
    # The integrity section: the cluster of three by code.
    assert "K7-QX3M, P2-ZZ9A, T4-M8CW" in text
    # Labels and counts drawn inside the SVG funnel come through as text too.
    assert "1200" in text
    assert ("Приняты" if lang == "ru" else "Accepted") in text


@pytest.mark.parametrize("lang", ["ru"], indirect=True)
def test_russian_text_is_extractable(offer_pdf, dossier, report_pdf):
    assert "Мария Иванова" in pdf_text(offer_pdf)
    assert "Разгневанный пользователь" in pdf_text(dossier[1])
    assert "Младше 18 лет" in pdf_text(report_pdf)


def test_html_title_and_meta_cannot_override_metadata():
    html = (
        '<html><head><title>Maria Ivanova</title><meta name="author" content="Maria">'
        '<meta name="description" content="secret"></head><body>x</body></html>'
    )
    info = pdf_info(render_pdf(html, title="C-1", author=None))
    assert info["/Title"] == "C-1"
    assert set(info) <= {"/Title", "/Producer"}


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://example.com/x.png",
        "https://example.com/x.css",
        "ftp://example.com/x.png",
        "file://evil.example.com/share/x.png",
        "x.png",
    ],
)
def test_fetcher_refuses_outside_urls(url):
    with pytest.raises(ValueError, match="may"):
        RestrictedURLFetcher().fetch(url)


def test_fetcher_serves_data_urls_and_asset_files_only(tmp_path):
    assets = tmp_path / "assets"
    assets.mkdir()
    (assets / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (tmp_path / "secret.txt").write_text("secret")
    (assets / "link.txt").symlink_to(tmp_path / "secret.txt")
    fetcher = RestrictedURLFetcher(asset_dir=assets)

    assert fetcher.fetch(PIXEL_PNG).read().startswith(b"\x89PNG")
    response = fetcher.fetch((assets / "logo.svg").as_uri())
    assert response.content_type == "image/svg+xml"
    for escape in (f"{assets.as_uri()}/../secret.txt", (assets / "link.txt").as_uri()):
        with pytest.raises(ValueError, match="may only use files"):
            fetcher.fetch(escape)


def test_refused_resources_are_skipped_and_nothing_is_fetched(monkeypatch, caplog):
    connections = []
    monkeypatch.setattr(socket.socket, "connect", lambda self, addr: connections.append(addr))
    html = (
        '<p>Still renders</p><img src="file:///etc/passwd"><img src="../../../../etc/hosts">'
        '<img src="http://example.com/x.png"><link rel="stylesheet" href="https://example.com/a.css">'
        f'<img src="{PIXEL_PNG}">'
    )
    pdf = render_pdf(html, title="t")
    assert "Still renders" in pdf_text(pdf)
    assert connections == []
    assert "may only use files" in caplog.text
    assert "may not fetch http URLs" in caplog.text


def test_letter_renderer_writes_every_letter_in_job_order(env, tmp_path):
    template = env.get_template("pdf/offer_letter.html")
    names = [f"offer-{n}.pdf" for n in range(4)]
    jobs = [
        (
            name,
            {
                "html": template.render(**{**OFFER["en"], "candidate_name": f"Person {n}"}),
                "title": f"Offer {n}",
                "author": "Northwind Social",
                "lang": "en",
            },
        )
        for n, name in enumerate(names)
    ]
    progress = []
    with LetterRenderer(processes=2) as renderer:
        paths = renderer.render_many(
            jobs, out_dir=tmp_path, on_progress=lambda d, t: progress.append((d, t))
        )
    assert [path.name for path in paths] == names
    assert progress == [(1, 4), (2, 4), (3, 4), (4, 4)]
    for n, path in enumerate(paths):
        pdf = path.read_bytes()
        assert f"Person {n}" in pdf_text(pdf)
        assert pdf_info(pdf)["/Title"] == f"Offer {n}"
    assert sorted(p.name for p in tmp_path.iterdir()) == names


@pytest.mark.parametrize("name", ["../x.pdf", "a/b.pdf", "", ".."])
def test_letter_renderer_refuses_paths_as_file_names(tmp_path, name):
    # Jobs are checked before any process is involved, so no pool is started here.
    with pytest.raises(ValueError, match="bare name"):
        LetterRenderer(processes=1).render_many(
            [(name, {"html": "x", "title": "t"})], out_dir=tmp_path
        )
