"""No page of any role scrolls sideways on a 390 px phone.

Each role logs in with Debian's Chromium at 390 × 844, in Russian (the longer words), and
follows every link from its home page, as the reachability test does in-process; every page
whose content is wider than the screen fails the test, with the elements that stick out.
"""

from __future__ import annotations

from collections import deque
from datetime import timedelta
from urllib.parse import urljoin, urlsplit

import pytest
from werkzeug.exceptions import MethodNotAllowed, NotFound

from recruit.db import utcnow
from recruit.models import (
    Answer,
    Candidacy,
    ContactRequest,
    ReviewAssignment,
    Role,
    Submission,
)
from tests.e2e.conftest import PHONE, serving
from tests.factories import PASSWORD, make_user
from tests.report_world import build_report_world

pytestmark = pytest.mark.e2e

PER_ENDPOINT = 2
MAX_PAGES = 250
# Pages each crawl must have looked at, so a broken login or link cannot pass unnoticed.
SEEN = {
    "anonymous": {"main.index", "auth.login", "auth.register", "auth.reset_request"},
    "applicant": {"applicant.home", "applicant.candidacy", "offers.my_offers", "offers.show",
                  "offers.accept", "applicant.my_data"},
    "writer": {"applicant.home", "applicant.stage", "applicant.stage_submit"},
    "newcomer": {"applicant.home", "applicant.apply", "applicant.profile"},
    "reviewer": {"review.home", "review.answer", "review.mine"},
    "coordinator": {"coordinator.home", "coordinator.campaign", "decisions.stage",
                    "decisions.candidacy", "decisions.alternates", "offers.campaign_offers",
                    "offers.offer_new", "reviewers.pool", "reviewers.progress",
                    "reviewers.stage_scores", "coordinator.tracks_list", "coordinator.track",
                    "coordinator.campaign_new", "custodian.contact_request"},
    "custodian": {"coordinator.home", "custodian.home", "custodian.answer", "custodian.reveal",
                  "custodian.audit", "custodian.handover", "offers.hires", "demo.outbox",
                  "coordinator.campaign"},
}
# Elements wider than the screen, as "tag.class: text", for the failure message.
_WIDE = """() => {
  const limit = document.documentElement.clientWidth + 1;
  return [...document.body.querySelectorAll('*')]
    .filter(e => e.getBoundingClientRect().right > limit && e.getClientRects().length)
    .filter(e => ![...e.children].some(c => c.getBoundingClientRect().right > limit))
    .slice(0, 4)
    .map(e => `${e.tagName.toLowerCase()}.${e.className}: `
              + (e.textContent || '').trim().slice(0, 60));
}"""


def _build(db) -> dict:
    """The report world (three reviewed stages, decisions, offers, alternates) plus what the
    remaining pages need: a lease to review, an applicant writing a stage, an applicant who
    has not applied yet, a contact request and an answer waiting for the custodian."""
    world = build_report_world(db)
    now = utcnow()
    for user in (world.coordinator, world.custodian, *world.reviewers, world.maria,
                 world.other_applicant):
        user.locale = "ru"
    stage = world.campaign.stages[0]
    writer = make_user(db, role=Role.APPLICANT, locale="ru")
    writing = Candidacy(user_id=writer.id, campaign_id=world.campaign.id, state="in_stage",
                        current_stage_id=stage.id)
    waiting = Candidacy(user_id=make_user(db, role=Role.APPLICANT).id,
                        campaign_id=world.campaign.id, state="submitted",
                        current_stage_id=stage.id)
    db.add_all([writing, waiting])
    db.flush()
    for candidacy, submitted in ((writing, None), (waiting, now - timedelta(hours=1))):
        submission = Submission(candidacy_id=candidacy.id, stage_id=stage.id,
                                started_at=now - timedelta(minutes=30),
                                deadline_at=now + timedelta(minutes=60), submitted_at=submitted)
        db.add(submission)
        db.flush()
        for task in stage.tasks:
            text = "Здравствуйте! Спасибо, что написали нам. " * 12
            db.add(Answer(submission_id=submission.id, task_id=task.id, text=text, version=1,
                          saved_at=now, redacted_text=text if submitted else None,
                          check_status="released" if submitted else "draft",
                          released_at=submitted, reviews_wanted=2 if submitted else 0))
    db.flush()
    answers = db.query(Answer).join(Submission).filter(
        Submission.candidacy_id == waiting.id).order_by(Answer.id).all()
    answers[-1].check_status = "pending"
    reviewer = world.reviewers[0]
    db.add(ReviewAssignment(answer_id=answers[0].id, reviewer_id=reviewer.id, status="leased",
                            leased_at=now, lease_expires_at=now + timedelta(minutes=30),
                            draft={}))
    answers[0].reviews_leased = 1
    db.add(ContactRequest(candidacy_id=waiting.id, requested_by_id=world.coordinator.id,
                          message="Уточните, пожалуйста, может ли кандидат выйти в июне."))
    # Passed every stage and waits for an offer: the offers page links to the offer form.
    db.add(Candidacy(user_id=make_user(db, role=Role.APPLICANT).id,
                     campaign_id=world.campaign.id, state="passed"))
    db.flush()
    # The submit confirmation opens from a button, not a link: the crawl starts there too.
    confirm = f"/me/candidacies/{writing.id}/stages/{stage.id}/submit"
    return {"anonymous": (None, []), "applicant": (world.maria.email, []),
            "writer": (writer.email, [confirm]),
            "newcomer": (world.other_applicant.email, []), "reviewer": (reviewer.email, []),
            "coordinator": (world.coordinator.email, []),
            "custodian": (world.custodian.email, [])}


@pytest.fixture(scope="module")
def phone_server(new_database, tmp_path_factory):
    with serving(new_database, tmp_path_factory.mktemp("phone"), DEMO=True) as server:
        yield server, server.run(_build)


def _overflowing_pages(server, browser, email: str | None,
                       seeds: list[str]) -> tuple[dict[str, str], set[str]]:
    from playwright.sync_api import Error as PlaywrightError

    context = browser.new_context(viewport=PHONE, locale="ru-RU",
                                  extra_http_headers={"Accept-Language": "ru"})
    context.set_default_timeout(60_000)
    page = context.new_page()
    if email:
        page.goto(server.url + "/login")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", PASSWORD)
        page.click("main form [type=submit]")
        page.wait_for_load_state()
    adapter = server.app.url_map.bind("localhost")
    asked: dict[str, int] = {}
    queue, seen, wide, visited = deque(["/", *seeds]), {"/", *seeds}, {}, set()
    while queue and len(visited) < MAX_PAGES:
        path = queue.popleft()
        try:
            endpoint = adapter.match(urlsplit(path).path, method="GET")[0]
        except (NotFound, MethodNotAllowed):
            continue
        if endpoint == "static" or asked.get(endpoint, 0) >= PER_ENDPOINT:
            continue
        asked[endpoint] = asked.get(endpoint, 0) + 1
        try:
            response = page.goto(server.url + path)
        except PlaywrightError as exc:
            # A PDF or CSV link starts a download instead of a page: nothing to measure.
            if "Download is starting" in str(exc):
                continue
            raise
        if response is None or "text/html" not in response.headers.get("content-type", ""):
            continue
        visited.add(endpoint)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            wide[page.url] = f"{width} px: {'; '.join(page.evaluate(_WIDE))}"
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
            parts = urlsplit(urljoin(page.url, href))
            if parts.netloc != urlsplit(server.url).netloc or "logout" in parts.path:
                continue
            local = parts.path + (f"?{parts.query}" if parts.query else "")
            if local not in seen:
                seen.add(local)
                queue.append(local)
    context.close()
    return wide, visited


@pytest.mark.parametrize("role", ["anonymous", "applicant", "writer", "newcomer", "reviewer",
                                  "coordinator", "custodian"])
def test_no_page_scrolls_sideways_on_a_phone(phone_server, browser, role):
    server, visitors = phone_server
    email, seeds = visitors[role]
    wide, visited = _overflowing_pages(server, browser, email, seeds)
    assert visited >= SEEN[role], "the crawl must reach these pages"
    assert wide == {}, "pages wider than 390 px:\n" + "\n".join(
        f"{url}: {why}" for url, why in wide.items())
