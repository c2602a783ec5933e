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


def test_a_role_does_not_match_when_a_known_criterion_falls_short():
    profile = {"judgement": 3.4, "rules": 4.0, "literacy": 3.0}
    result = evaluate(profile, MODERATOR)
    assert not result.matched
    assert [c.key for c in result.checks if not c.met] == ["judgement"]
    assert match_roles(profile, [MODERATOR]) == []


def test_a_criterion_not_scored_yet_is_not_yet_known_and_does_not_block_the_match():
    # After a stage that never scored judgement, the moderator role is still suggested,
    # saying what is not known yet.
    [match] = match_roles({"rules": 4.0, "literacy": 3.0}, [MODERATOR])
    assert match.matched and not match.complete
    assert [c.key for c in match.unknown] == ["judgement"]
    assert match.surplus == pytest.approx(0.5)


def test_a_profile_with_nothing_known_matches_nothing():
    assert match_roles({"tone": 5.0}, [MODERATOR]) == []


def test_roles_known_in_full_come_before_roles_with_unknown_requirements():
    profile = {"literacy": 4.2, "clarity": 4.1, "rules": 5.0}
    assert [m.role.key for m in match_roles(profile, [EDITOR, MODERATOR])] == [
        "help-centre-editor", "moderator"]


def test_a_missing_criterion_has_no_margin():
    check = next(c for c in evaluate({}, MODERATOR).checks if c.key == "rules")
    assert (check.actual, check.margin, check.met, check.known) == (None, None, False, False)


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
