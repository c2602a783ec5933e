"""The alternate-role matcher: which roles a criterion profile meets, and why."""

from __future__ import annotations

import pytest

from recruit.domain.matching import RoleSpec, evaluate, match_roles

MODERATOR = RoleSpec(key="moderator", title_en="Content moderator", title_ru="Модератор",
                     requirements={"judgement": 3.5, "rules": 3.5, "literacy": 2.5})
AGENT = RoleSpec(key="support-agent", title_en="Support agent", title_ru="Агент",
                 requirements={"literacy": 3.5, "empathy": 3.5, "tone": 3.5})
EDITOR = RoleSpec(key="help-centre-editor", title_en="Editor", title_ru="Редактор",
                  requirements={"literacy": 4.0, "clarity": 4.0})
ROLES = [AGENT, EDITOR, MODERATOR]


def test_a_role_matches_when_every_minimum_is_met_and_the_reasons_say_by_how_much():
    [match] = match_roles({"judgement": 4.0, "rules": 3.75, "literacy": 2.5, "tone": 2.0},
                          ROLES)
    assert match.role.key == "moderator"
    assert [(c.key, c.met, c.margin) for c in match.checks] == [
        ("judgement", True, 0.5), ("literacy", True, 0.0), ("rules", True, 0.25)]


@pytest.mark.parametrize(("profile", "failing"), [
    ({"judgement": 3.4, "rules": 4.0, "literacy": 3.0}, "judgement"),
    ({"judgement": 4.0, "literacy": 3.0}, "rules"),
], ids=["below-minimum", "never-scored"])
def test_a_role_does_not_match_when_a_criterion_falls_short_or_is_missing(profile, failing):
    result = evaluate(profile, MODERATOR)
    assert not result.matched
    assert [c.key for c in result.checks if not c.met] == [failing]
    assert match_roles(profile, [MODERATOR]) == []


def test_a_missing_criterion_has_no_margin():
    check = next(c for c in evaluate({}, MODERATOR).checks if c.key == "rules")
    assert (check.actual, check.margin, check.met) == (None, None, False)


def test_an_average_that_shows_as_the_minimum_meets_it():
    assert evaluate({"literacy": 3.996, "clarity": 4.0}, EDITOR).matched


def test_a_role_without_requirements_never_matches():
    empty = RoleSpec(key="anyone", title_en="Anyone", title_ru="Любой", requirements={})
    assert match_roles({"literacy": 5.0}, [empty]) == []


def test_the_excluded_role_is_left_out_and_the_best_fit_comes_first():
    profile = {"literacy": 4.5, "clarity": 4.2, "empathy": 4.0, "tone": 4.0, "judgement": 4.0,
               "rules": 4.0}
    assert [m.role.key for m in match_roles(profile, ROLES)] == [
        "moderator", "support-agent", "help-centre-editor"]
    assert [m.role.key for m in match_roles(profile, ROLES, exclude=["support-agent"])] == [
        "moderator", "help-centre-editor"]


def test_titles_follow_the_language():
    assert (MODERATOR.title("ru"), MODERATOR.title("en")) == ("Модератор", "Content moderator")
