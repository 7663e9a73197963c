"""What staff write in every language of the site (django-modeltranslation): each field gets a
column per language (`title_en`, `title_fr`, ...); reading `title` gives the active language's
text, or the English when that language has none (MODELTRANSLATION_FALLBACK_LANGUAGES).

The milestone plan's titles and descriptions (the cohort's plan and the milestones stamped from
it): a step's title is unique per cohort (and per enrolment) in each language; an untranslated
title is NULL, so it never collides."""

from modeltranslation.translator import TranslationOptions, register

from .models import Milestone, MilestonePlanItem, Opportunity, ProgressUpdate


@register(MilestonePlanItem)
class MilestonePlanItemTranslation(TranslationOptions):
    fields = ("title", "description")
    required_languages = {"en": ("title",)}
    empty_values = None


@register(Milestone)
class MilestoneTranslation(TranslationOptions):
    fields = ("title", "description")
    required_languages = {"en": ("title",)}
    empty_values = None


@register(ProgressUpdate)
class ProgressUpdateTranslation(TranslationOptions):
    # The summary staff write when they approve an update as a public highlight.
    fields = ("public_summary",)


@register(Opportunity)
class OpportunityTranslationOptions(TranslationOptions):
    fields = ("title", "description")
    required_languages = ("en",)
