"""The public program page's text in every language of the site (the hashtag is the same in
all of them)."""

from modeltranslation.translator import TranslationOptions, register

from .models import ProgramHub


@register(ProgramHub)
class ProgramHubTranslation(TranslationOptions):
    fields = ("title", "introduction", "body")
    required_languages = {"en": ("title", "introduction")}
    empty_values = None
