"""Policy-level guarantees of custody: one custodian, who sees identities and never reviews."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from recruit import access
from recruit.db import utcnow
from recruit.domain import accounts, assignment, custody
from recruit.models import AuditEvent, CampaignReviewer, Role, User
from tests.factories import make_user
from tests.world import ROLES, build_world

CUSTODIAN_ONLY = ("may_see_identity", "may_check_redaction", "may_read_audit_log",
                  "may_hand_over_custody", "may_export_hires")


@pytest.fixture
def world(db):
    return build_world(db)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("predicate", CUSTODIAN_ONLY)
def test_identity_predicates_hold_for_the_custodian_alone(world, predicate, role):
    user = world.users[role]
    assert getattr(access, predicate)(user) is (role == "custodian")


@pytest.mark.parametrize("role", ROLES)
def test_every_coordinator_may_ask_for_contact_but_nobody_else(world, role):
    assert access.may_request_contact(world.users[role]) is (role in ("coordinator",
                                                                       "custodian"))


def test_the_custodian_may_not_join_a_reviewer_pool(db, world):
    custodian = world.users["custodian"]
    assert not access.may_join_reviewer_pool(custodian)
    with pytest.raises(assignment.AssignmentError) as refused:
        assignment.join_pool(db, campaign=world.campaign, user=custodian, by=None)
    assert refused.value.code == "custodian"


def test_the_custodian_is_never_handed_an_answer_to_review(db, world):
    custodian = world.users["custodian"]
    task = world.campaign.stages[0].tasks[0]
    with pytest.raises(assignment.AssignmentError) as refused:
        assignment.next_answer(db, reviewer=custodian, task=task,
                               lease_minutes=30, now=utcnow())
    assert refused.value.code == "custodian"
    assert not access.may_work_assignment(custodian, reviewer_id=custodian.id)


def test_the_database_refuses_a_reviewing_custodian(db, world):
    reviewer = world.users["reviewer"]
    with pytest.raises(IntegrityError), db.begin_nested():
        db.execute(sa.update(User).where(User.id == reviewer.id).values(is_custodian=True))


def test_the_database_refuses_a_second_custodian(db, world):
    other = world.users["coordinator"]
    with pytest.raises(IntegrityError), db.begin_nested():
        db.execute(sa.update(User).where(User.id == other.id).values(is_custodian=True))


@pytest.mark.parametrize("make", [
    pytest.param(lambda db, world: world.users["reviewer"], id="a-reviewer"),
    pytest.param(lambda db, world: _pooled_coordinator(db, world), id="a-pool-member"),
])
def test_the_flag_never_goes_to_someone_who_reviews(db, world, make):
    target = make(db, world)
    with pytest.raises(custody.CustodyError):
        custody.hand_over(db, to=target, by=world.users["custodian"])
    assert accounts.current_custodian(db).id == world.users["custodian"].id
    assert target not in custody.eligible_successors(db, current=world.users["custodian"])


def _pooled_coordinator(db, world) -> User:
    user = make_user(db, role=Role.COORDINATOR)
    db.add(CampaignReviewer(campaign_id=world.campaign.id, user_id=user.id))
    db.flush()
    return user


def test_only_the_custodian_hands_the_flag_over(db, world):
    with pytest.raises(custody.CustodyError) as refused:
        custody.hand_over(db, to=world.users["coordinator"], by=world.users["coordinator"])
    assert refused.value.code == "not_custodian"


def test_only_the_custodian_opens_an_identity(db, world):
    with pytest.raises(custody.CustodyError) as refused:
        custody.reveal_identity(db, candidacy=world.candidacy, by=world.users["coordinator"],
                                reason="curiosity")
    assert refused.value.code == "not_custodian"


def test_a_reveal_without_a_reason_records_and_shows_nothing(db, world):
    before = db.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    with pytest.raises(custody.CustodyError):
        custody.reveal_identity(db, candidacy=world.candidacy, by=world.users["custodian"],
                                reason=" \n ")
    assert db.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == before
