"""Six-month cohorts, enrolments, milestones, the progress updates creators submit (with their
TikTok videos and impact figures), applications, opportunities and their sign-ups, and the
records of scheduled emails, by subject. Every model is imported here, so Django and the
migrations find them as `programs.models.<Model>` (0001 refers to `programs.models.AddMonths`)."""

from .applications import Application
from .cohorts import (
    COHORT_EARLIEST,
    COHORT_LATEST,
    COHORT_MONTHS,
    AddMonths,
    Cohort,
    Enrolment,
    EnrolmentQuerySet,
    MilestonePlanItem,
    add_months,
)
from .impact import ImpactIndicator, ImpactValue, ImpactValueQuerySet
from .milestones import Milestone, MilestoneQuerySet, ProgressUpdate, ProgressUpdateQuerySet
from .opportunities import (
    Opportunity,
    OpportunityQuerySet,
    OpportunitySignup,
    OpportunitySignupQuerySet,
)
from .reminders import MilestoneReminder, StaffDigest, StaffDigestDelivery
from .tiktok import TikTokVideo, TikTokVideoQuerySet
from .verbs import AuditVerb

__all__ = [
    "COHORT_EARLIEST",
    "COHORT_LATEST",
    "COHORT_MONTHS",
    "AddMonths",
    "Application",
    "AuditVerb",
    "Cohort",
    "Enrolment",
    "EnrolmentQuerySet",
    "ImpactIndicator",
    "ImpactValue",
    "ImpactValueQuerySet",
    "Milestone",
    "MilestonePlanItem",
    "MilestoneQuerySet",
    "MilestoneReminder",
    "Opportunity",
    "OpportunityQuerySet",
    "OpportunitySignup",
    "OpportunitySignupQuerySet",
    "ProgressUpdate",
    "ProgressUpdateQuerySet",
    "StaffDigest",
    "StaffDigestDelivery",
    "TikTokVideo",
    "TikTokVideoQuerySet",
    "add_months",
]
