"""Hostile input gets a clear 4xx in the user's language, never a 500: numbers beyond what a
database stores, lone surrogates, JSON nested a hundred thousand deep, bodies of many
megabytes; and every form field has a length limit."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest
import sqlalchemy as sa
from flask import url_for
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.fields.core import UnboundField
from wtforms.validators import Length, NumberRange

import recruit.web
from recruit.db import utcnow
from recruit.domain import applications
from recruit.models import Answer
from tests.factories import make_user
from tests.world import ROLES, build_world, url_params

# 2**31: beyond INTEGER ids on PostgreSQL; the rest beyond any integer a database stores.
HUGE = [2**31, 2**40, 2**63, 2**64, 10**30]


@pytest.fixture
def world(db):
    return build_world(db)


@pytest.fixture
def stage_in_progress(db, client, world):
    """A new applicant of the world's wave, with stage 1 started and its drafts open."""
    user = make_user(db, locale="ru")
    now = utcnow()
    candidacy = applications.apply(db, user=user, campaign=world.campaign, now=now)
    submission = applications.start_stage(db, candidacy=candidacy,
                                          stage=world.campaign.stages[0], now=now)
    db.flush()
    client.login(user)
    return submission


@pytest.mark.parametrize("role", ROLES)
def test_ids_beyond_what_a_database_stores_are_not_found(app, client, world, role):
    params = url_params(world)
    failures = []
    for rule in app.url_map.iter_rules():
        ints = [a for a in rule.arguments if rule._converters[a].__class__.__name__
                == "BoundedInt"]
        if not ints:
            continue
        client.logout()
        if world.users[role] is not None:
            client.login(world.users[role])
        for huge in HUGE:
            with app.test_request_context():
                url = url_for(rule.endpoint, **{a: params[a] for a in rule.arguments})
            # Put the huge number where the id was.
            for name in ints:
                url = url.replace(f"/{params[name]}/", f"/{huge}/", 1) \
                    if f"/{params[name]}/" in url else re.sub(
                        rf"/{params[name]}(?=$|[/?.])", f"/{huge}", url, count=1)
            response = client.get(url) if "GET" in rule.methods else client.post_form(url)
            if response.status_code >= 500 or response.status_code == 200:
                failures.append(f"{rule.endpoint} {url}: {response.status_code}")
            response.close()
    assert failures == []


@pytest.mark.parametrize("url", ["/coordinate/campaigns/{c}/offers?page={p}",
                                 "/coordinate/reviews/stages/{s}?campaign_id={c}&page={p}",
                                 "/custody/?page={p}", "/custody/audit?page={p}"])
def test_a_page_number_no_list_can_have_is_a_400(client, world, url):
    client.login(world.users["custodian"])
    for huge in HUGE:
        target = url.format(c=world.campaign.id, s=world.campaign.stages[0].id, p=huge)
        response = client.get(target)
        assert response.status_code in (400, 404), (target, response.status_code)


def _autosave(client, answer, body, **kwargs):
    return client.post(f"/me/answers/{answer.id}/autosave", data=body,
                       content_type="application/json",
                       headers={"X-CSRFToken": client.csrf_token(), **kwargs.pop("headers", {})},
                       **kwargs)


def test_a_lone_surrogate_in_autosave_is_saved_as_a_replacement_character(client, db,
                                                                          stage_in_progress):
    answer = stage_in_progress.answers[0]
    body = '{"text": "Hello \\ud83d world \\ud83d\\ude00", "version": ' + f"{answer.version}}}"
    response = _autosave(client, answer, body)
    assert response.status_code == 200, response.get_data(as_text=True)
    saved = db.scalar(sa.select(Answer.text).where(Answer.id == answer.id))
    # The lone half of an emoji became U+FFFD; the whole emoji and the rest are kept.
    assert saved == "Hello \ufffd world \U0001f600"


@pytest.mark.parametrize("version", [2**31 - 1, 2**31, 2**63, 2**64, -1])
def test_an_autosave_version_beyond_the_database_range_is_a_clear_400(client,
                                                                      stage_in_progress,
                                                                      version):
    answer = stage_in_progress.answers[0]
    response = _autosave(client, answer, '{"text": "x", "version": ' + f"{version}}}")
    assert response.status_code == 400
    message = response.get_json()["message"]
    assert re.search("[а-яА-Я]{4,}", message), message


def test_json_nested_a_hundred_thousand_deep_is_a_400(client, stage_in_progress):
    answer = stage_in_progress.answers[0]
    deep = "[" * 100_000 + "]" * 100_000
    response = _autosave(client, answer, deep)
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request"
    client.logout()
    login = client.post("/login", data='{"email": ' + deep + "}",
                        content_type="application/json",
                        headers={"X-CSRFToken": client.csrf_token()})
    assert login.status_code == 400


def test_a_stage_form_version_beyond_the_database_range_does_not_crash(client,
                                                                       stage_in_progress):
    submission = stage_in_progress
    answer = submission.answers[0]
    url = (f"/me/candidacies/{submission.candidacy_id}/stages/{submission.stage_id}/save")
    response = client.post_form(url, {f"text-{answer.id}": "A draft",
                                      f"version-{answer.id}": str(2**64)})
    assert response.status_code < 500


# -- sizes ------------------------------------------------------------------------------------

def test_a_huge_json_body_to_login_is_refused_before_it_is_read(client):
    body = '{"email": "' + "a" * (6 * 1024 * 1024) + '"}'
    response = client.post("/login", data=body, content_type="application/json",
                           headers={"Accept": "application/json", "Accept-Language": "ru"})
    assert response.status_code == 413
    payload = response.get_json()
    assert payload["error"] == "too_large"
    assert re.search("[а-яА-Я]{4,}", payload["message"])


def test_a_ten_million_character_answer_is_refused_with_a_413_page_not_echoed(
        client, stage_in_progress):
    submission = stage_in_progress
    answer = submission.answers[0]
    url = (f"/me/candidacies/{submission.candidacy_id}/stages/{submission.stage_id}/save")
    response = client.post_form(url, {f"text-{answer.id}": "ж" * 10_000_000,
                                      f"version-{answer.id}": str(answer.version)})
    assert response.status_code == 413
    text = response.get_data(as_text=True)
    assert len(text) < 50_000
    assert "сократите текст" in text  # the applicant reads Russian


def test_a_full_stage_of_long_cyrillic_answers_still_fits(app):
    # Three answers at the autosave limit, URL-encoded as a browser sends them (6 bytes for
    # each Cyrillic letter), fit under the request limit.
    assert app.config["MAX_CONTENT_LENGTH"] > 3 * applications.MAX_ANSWER_CHARS * 6 + 10_000


def _forms():
    for info in pkgutil.iter_modules(recruit.web.__path__):
        module = importlib.import_module(f"recruit.web.{info.name}")
        for name, cls in vars(module).items():
            if (inspect.isclass(cls) and issubclass(cls, FlaskForm)
                    and cls.__module__ == module.__name__):
                yield f"{info.name}.{name}", cls


def test_every_text_and_number_field_of_every_form_has_a_limit():
    unlimited = []
    for form_name, cls in _forms():
        for field_name in dir(cls):
            field = getattr(cls, field_name)
            if not isinstance(field, UnboundField):
                continue
            validators = field.kwargs.get("validators") or []
            text_limit = any(isinstance(v, Length) and v.max not in (None, -1)
                             for v in validators)
            number_limit = any(isinstance(v, NumberRange) and v.max is not None
                               for v in validators)
            if ((issubclass(field.field_class, StringField) and not text_limit)
                    or (issubclass(field.field_class, IntegerField) and not number_limit)):
                unlimited.append(f"{form_name}.{field_name}")
    assert unlimited == []
