"""Models, one module per aggregate; importing this package registers them all."""

from recruit.models.audit import AuditEvent
from recruit.models.campaigns import (
    Campaign,
    CampaignReviewer,
    Criterion,
    JobRole,
    Stage,
    StageFeedback,
    Task,
    TrackVersion,
    WaitlistEntry,
)
from recruit.models.candidacy import Answer, Candidacy, Decision, EligibilityCheck, Submission
from recruit.models.identity import ContactRequest, Identity
from recruit.models.integrity import AnswerBand, AnswerSignature, SimilarPair
from recruit.models.offers import Offer
from recruit.models.outbox import OutboxMessage
from recruit.models.review import CalibrationAnswer, CriterionScore, Review, ReviewAssignment
from recruit.models.users import Role, User

__all__ = [
    "Answer",
    "AnswerBand",
    "AnswerSignature",
    "AuditEvent",
    "CalibrationAnswer",
    "Campaign",
    "CampaignReviewer",
    "Candidacy",
    "ContactRequest",
    "Criterion",
    "CriterionScore",
    "Decision",
    "EligibilityCheck",
    "Identity",
    "JobRole",
    "Offer",
    "OutboxMessage",
    "Review",
    "ReviewAssignment",
    "Role",
    "SimilarPair",
    "Stage",
    "StageFeedback",
    "Submission",
    "Task",
    "TrackVersion",
    "User",
    "WaitlistEntry",
]
