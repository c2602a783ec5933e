"""Report data: plain values only, right numbers, few queries, no identity where none belongs."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from markupsafe import Markup

from recruit.models import Answer, Submission
from recruit.reports import data, documents
from tests.report_world import MARIA, MARIA_EMAIL, build_report_world

PLAIN = (str, int, float, bool, type(None), date, Markup)


@pytest.fixture
def world(db):
    return build_report_world(db)


def _impure(value, path="context"):
    """Every path in ``value`` that holds something other than a plain value."""
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in _impure(item, f"{path}.{key}")]
    if isinstance(value, list | tuple):
        return [p for n, item in enumerate(value) for p in _impure(item, f"{path}[{n}]")]
    return [] if isinstance(value, PLAIN) else [f"{path}: {type(value).__name__}"]


def _contexts(db, world, locale):
    return {
        "offer_letter": data.offer_letter_context(db, offer=world.maria_offer, locale=locale),
        "dossier": data.dossier_context(db, candidacy=world.maria_candidacy, locale=locale),
        "campaign_report": data.campaign_report_context(db, campaign=world.campaign,
                                                        locale=locale),
    }


@pytest.mark.parametrize("locale", ["en", "ru"])
def test_contexts_hold_only_plain_values(db, world, locale):
    for name, context in _contexts(db, world, locale).items():
        assert _impure(context) == [], name


@pytest.mark.parametrize("locale", ["en", "ru"])
def test_pseudonymous_contexts_hold_no_identity_and_no_reviewer(db, world, locale):
    contexts = _contexts(db, world, locale)
    secrets = [MARIA["first"], MARIA["last"], MARIA["phone"], MARIA["birth_date"], MARIA["vk"],
               MARIA["city"], MARIA_EMAIL, *world.reviewer_emails, world.coordinator.email]
    for name in ("dossier", "campaign_report"):
        text = repr(contexts[name])
        assert [s for s in secrets if s in text] == [], name


def test_offer_letter_names_the_addressee_and_the_terms(db, world):
    context = data.offer_letter_context(db, offer=world.maria_offer, locale="ru")
    assert context["candidate_name"] == "Мария Сергеевна Иванова"
    assert context["role_title"] == "Специалист службы поддержки"
    assert context["salary"] == "40\u00a0000\u00a0₽ в месяц"
    assert context["reference"] == f"OF-{world.maria_offer.id:06d}"
    assert "Испытательный срок — три месяца." in context["conditions"]
    assert context["company_name"] == "Служба поддержки социальной сети"


def test_dossier_labels_reviewers_in_reading_order_per_dossier(db, world):
    context = data.dossier_context(db, candidacy=world.maria_candidacy, locale="en")
    labels = [review["label"] for stage in context["stages"] for task in stage["tasks"]
              for review in task["reviews"]]
    first_seen = list(dict.fromkeys(labels))
    assert first_seen == [f"R{n}" for n in range(1, len(first_seen) + 1)]
    assert 2 <= len(first_seen) <= len(world.reviewers)


def test_dossier_shows_every_stage_reached_with_scores_and_decisions(db, world):
    context = data.dossier_context(db, candidacy=world.maria_candidacy, locale="ru")
    assert context["code"] == world.maria_candidacy.code
    assert len(context["stages"]) == 3
    first = context["stages"][0]
    assert first["decision"]["outcome"]
    assert first["decision"]["reason"] == "Clear, kind answers above the stage cut-off."
    assert "," in first["score"]  # Russian decimals
    assert [t["score"] is not None for t in first["tasks"]] == [True, True, True]
    assert {c["title"] for c in first["criteria"]} >= {"Грамотность", "Ясность", "Тон"}


def test_dossier_shows_each_answer_as_reviewers_read_it_and_never_the_original(db, world):
    answers = db.scalars(sa.select(Answer).join(Submission)
                         .where(Submission.candidacy_id == world.maria_candidacy.id,
                                Submission.stage_id == world.campaign.stages[0].id)
                         .order_by(Answer.task_id)).all()
    answers[0].text = "Я Мария, пишу из Вологды."
    answers[0].redacted_text = "Я ⟦name⟧, пишу из ⟦city⟧."
    answers[1].check_status = "pending"
    db.flush()
    context = data.dossier_context(db, candidacy=world.maria_candidacy, locale="ru")
    first, second, _third = context["stages"][0]["tasks"]
    assert first["answer"] == "Я [имя скрыто], пишу из [город скрыт]."
    assert second["answer"] is None and second["submitted"]
    html = documents.dossier(db, candidacy=world.maria_candidacy, locale="ru").html
    assert "Я [имя скрыто], пишу из [город скрыт]." in html and "Вологды" not in html
    assert "The custodian has not checked" not in html
    assert "Хранитель данных ещё не проверил этот ответ" in html


def test_dossier_of_a_rejected_candidacy_stops_at_the_stage_it_reached(db, world):
    rejected = next(c for c in world.candidacies if c.state == "not_passed")
    context = data.dossier_context(db, candidacy=rejected, locale="en")
    assert len(context["stages"]) in (1, 2)
    assert context["stages"][-1]["decision"]["outcome"] == "Not passed"


def test_campaign_report_funnel_counts_each_step(db, world):
    context = data.campaign_report_context(db, campaign=world.campaign, locale="en")
    funnel = str(context["funnel_svg"])
    # Registered 17 (12 eligible + 5 failed), 12 eligible and through stage 1, 7, 4, 5 offers,
    # 2 accepted: every count is drawn bold beside its bar.
    for count in (17, 12, 7, 4, 5, 2):
        assert f'font-weight="bold" fill="#1f2933">{count}</text>' in funnel


def test_eligibility_failures_count_each_applicant_once_per_rule(db, world):
    context = data.campaign_report_context(db, campaign=world.campaign, locale="en")
    assert dict(context["eligibility_failures"]) == {
        "Younger than 18 years": 2, "Citizenship not accepted": 2, "Confirmation not given": 2}


def test_someone_who_failed_then_got_through_is_not_a_failure_in_the_report(db, world):
    from recruit.models import EligibilityCheck

    # One of the twelve candidates had first failed the age rule, then passed.
    db.add(EligibilityCheck(user_id=world.candidacies[0].user_id, campaign_id=world.campaign.id,
                            passed=False, reasons=["too_young"]))
    db.flush()
    context = data.campaign_report_context(db, campaign=world.campaign, locale="en")
    assert dict(context["eligibility_failures"])["Younger than 18 years"] == 2
    funnel = str(context["funnel_svg"])
    # Still 17 registered and 12 eligible: the five left out are the ones in the table.
    for count in (17, 12):
        assert f'font-weight="bold" fill="#1f2933">{count}</text>' in funnel


def test_campaign_report_stage_statistics(db, world):
    context = data.campaign_report_context(db, campaign=world.campaign, locale="en")
    first, second, third = context["stage_sections"]
    assert first["candidacies"] == 12 and second["candidacies"] == 7
    assert third["candidacies"] == 4
    assert sum(r["load"] for r in first["reviewers"]) == 12 * 3 * 2
    assert all(r["label"].startswith("Reviewer #") for r in first["reviewers"])
    assert first["alpha"] is not None
    assert float(first["median_days_to_decision"]) > 0


def test_campaign_report_offers_by_role_and_outcome(db, world):
    context = data.campaign_report_context(db, campaign=world.campaign, locale="en")
    rows = {row["role_title"]: row for row in context["offers"]}
    assert rows["Support agent"] == {"role_title": "Support agent", "issued": 4, "accepted": 2,
                                     "declined": 1, "expired": 0, "withdrawn": 0, "open": 1}
    assert rows["Content moderator (alternate role)"]["open"] == 1


def test_campaign_report_takes_few_queries_whatever_the_size(app, db, world):
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    engine = app.extensions["recruit.engine"]
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        data.campaign_report_context(db, campaign=world.campaign, locale="en")
        data.campaign_results_table(db, campaign=world.campaign)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    # 12 candidacies, 3 stages, 100+ reviews: a query per anything would pass 100.
    assert len(statements) < 30


def test_results_table_is_pseudonymous_with_a_row_per_candidacy(db, world):
    header, rows = data.campaign_results_table(db, campaign=world.campaign)
    assert header[:5] == ["code", "state", "stage-1_score", "stage-1_raw", "stage-1_reviews"]
    assert "avg_empathy" in header
    assert len(rows) == len(world.candidacies)
    maria = next(row for row in rows if row[0] == world.maria_candidacy.code)
    assert maria[header.index("stage-3_reviews")] == 8
    assert MARIA["last"] not in repr(rows)


def test_hires_table_names_accepted_offers_only(db, world):
    header, rows = data.hires_table(db, campaign=world.campaign, locale="en")
    assert len(rows) == 2
    assert all(row[header.index("code")] != world.maria_candidacy.code for row in rows)
    assert all(row[header.index("last_name")] for row in rows)
    assert all(row[header.index("phone")].startswith("+7") for row in rows)


@pytest.mark.parametrize(("value", "locale", "expected"), [
    (3.456, "en", "3.46"), (3.456, "ru", "3,46"), (None, "en", None)], ids=["en", "ru", "none"])
def test_scores_are_formatted_for_the_locale(app, value, locale, expected):
    assert data._Fmt(locale).score(value) == expected


def test_unknown_languages_fall_back_to_the_default(app):
    with app.app_context():
        assert data.document_locale("ru_RU") == "ru"
        assert data.document_locale("de") == "en"
        assert data.document_locale(None) == "en"
