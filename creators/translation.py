"""Staff-written texts of the yearly list, in every language of the site (modeltranslation adds
a column per language: `introduction_en`, `introduction_fr`, ...). What a creator writes about
themselves (bio, mission) stays in the language they wrote it in."""

from modeltranslation.translator import TranslationOptions, register

from .models import ChangeMakersList, ListEntry


@register(ChangeMakersList)
class ChangeMakersListTranslation(TranslationOptions):
    fields = ("title", "introduction")
    required_languages = {"en": ("title",)}
    # A language left empty is NULL, not "": the page then falls back to English.
    empty_values = None


@register(ListEntry)
class ListEntryTranslation(TranslationOptions):
    fields = ("citation",)
    required_languages = {"en": ("citation",)}
    empty_values = None
