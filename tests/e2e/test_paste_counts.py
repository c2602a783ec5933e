"""The stage page counts typing and pasting in a real browser and sends counts only; two tabs
of one answer add up their counts, and a stale tab's refused save adds nothing (issue 18)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from recruit.db import utcnow
from recruit.domain import applications, tracks
from recruit.models import Answer, Candidacy
from tests.e2e.conftest import DESKTOP, serving
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.e2e


def _in_stage(db):
    tracks.load_shipped(db)
    now = utcnow()
    campaign = tracks.create_campaign(db, track_key="support-agent", key="paste-wave",
                                      opens_at=now - timedelta(days=1),
                                      closes_at=now + timedelta(days=5))
    stage = campaign.stages[0]
    user = make_user(db, email="paster@example.org")
    candidacy = Candidacy(user_id=user.id, campaign_id=campaign.id, state="applied",
                          current_stage_id=stage.id)
    db.add(candidacy)
    db.flush()
    submission = applications.start_stage(db, candidacy=candidacy, stage=stage, now=now)
    first = min(submission.answers, key=lambda a: a.task.position)
    return f"/me/candidacies/{candidacy.id}/stages/{stage.id}", first.id


def test_typing_and_pasting_in_two_tabs_are_counted_once_each(new_database, tmp_path, browser):
    with serving(new_database, tmp_path) as server:
        path, answer_id = server.run(_in_stage)

        def counts():
            return server.run(lambda db: (lambda a: (a.typed_chars, a.pasted_chars,
                                                     a.longest_paste))(db.get(Answer, answer_id)))

        context = browser.new_context(viewport=DESKTOP, locale="en-GB")
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
        try:
            one = context.new_page()
            one.goto(server.url + "/login")
            one.fill("input[name=email]", "paster@example.org")
            one.fill("input[name=password]", PASSWORD)
            one.press("input[name=password]", "Enter")
            one.wait_for_load_state()
            one.goto(server.url + path)
            assert "never what you pasted" in one.content()
            area = f"#text-{answer_id}"
            state = f'[data-state-for="{answer_id}"]'
            one.click(area)
            one.keyboard.type("Привет")
            one.evaluate("text => navigator.clipboard.writeText(text)", "x" * 300)
            one.keyboard.press("Control+V")
            one.locator(area).blur()
            expect(one.locator(state)).to_have_class(re.compile(r"\bok\b"), timeout=30_000)
            assert counts() == (6, 300, 300)

            two = context.new_page()
            two.goto(server.url + path)
            two.click(area)
            two.keyboard.press("End")
            two.keyboard.type("abcde")
            two.locator(area).blur()
            expect(two.locator(state)).to_have_class(re.compile(r"\bok\b"), timeout=30_000)
            assert counts() == (11, 300, 300)

            # The first tab still holds the older version: its save is refused, its counts
            # are not added (they stay with its text, in case the applicant keeps it).
            one.bring_to_front()
            one.click(area)
            one.keyboard.type("zzz")
            one.locator(area).blur()
            expect(one.locator(state)).to_have_class(re.compile(r"\bbad\b"), timeout=30_000)
            assert "another tab" in one.text_content(state)
            assert counts() == (11, 300, 300)
        finally:
            context.close()
