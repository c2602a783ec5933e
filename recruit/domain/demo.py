"""The demo of `make run`: questionnaires, an open wave and staff accounts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from recruit.db import utcnow
from recruit.domain import accounts, tracks
from recruit.models import Campaign, CampaignReviewer, Role

STAFF = (
    ("custodian@demo.example.org", Role.COORDINATOR, True),
    ("coordinator@demo.example.org", Role.COORDINATOR, False),
    ("reviewer1@demo.example.org", Role.REVIEWER, False),
    ("reviewer2@demo.example.org", Role.REVIEWER, False),
    ("reviewer3@demo.example.org", Role.REVIEWER, False),
)


def load_demo(db: Session) -> list[tuple[str, str, str]]:
    """Load what is missing; returns (e-mail, role, password) of accounts created now."""
    tracks.load_shipped(db)
    now = utcnow()
    campaign = db.scalar(select(Campaign).where(Campaign.key == "support-demo"))
    if campaign is None:
        campaign = tracks.create_campaign(
            db, track_key="support-agent", key="support-demo", opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=60), capacity=20)
    created = []
    for email, role, custodian in STAFF:
        if accounts.find_user(db, email=email) is not None:
            continue
        user, password = accounts.create_staff(db, email=email, role=role, custodian=custodian)
        label = "coordinator (custodian)" if custodian else role.value
        created.append((email, label, password))
        if role is Role.REVIEWER:
            db.add(CampaignReviewer(campaign_id=campaign.id, user_id=user.id))
    db.flush()
    return created
