"""Staff-written content in every language of the site, and sorting names the way readers do.

Texts staff write (a list's introduction, citations, the program page, milestone titles) are
registered with modeltranslation in each app's `translation.py`: each has a column per language
(`introduction_en`, `introduction_fr`, ...), English required, the others optional, and the
original attribute (`introduction`) reads the active language's text, or the English one.

Services write these texts with `translated_values()` inside `in_default_language()`: the
original column then always holds the English text (its unique constraints stay meaningful)
and `update_fields` names it, which modeltranslation extends to the `_en` column. Forms add
the other languages' inputs with `TranslatedFieldsMixin`.
"""

import copy
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.db import connection, models
from django.db.models.functions import Collate
from django.utils import translation
from django.utils.translation import get_language_info


def default_language() -> str:
    return settings.MODELTRANSLATION_DEFAULT_LANGUAGE


def content_languages() -> list[str]:
    """Every language of the site, the default (required) one first."""
    codes = [code for code, _name in settings.LANGUAGES]
    return [default_language(), *(code for code in codes if code != default_language())]


def other_languages() -> list[str]:
    return content_languages()[1:]


def localized(field: str, language: str) -> str:
    """`introduction`, `fr` -> `introduction_fr`, the column of that language."""
    return f"{field}_{language.replace('-', '_')}"


def text_direction(language: str) -> str:
    return "rtl" if get_language_info(language)["bidi"] else "ltr"


@contextmanager
def in_default_language() -> Iterator[None]:
    """Writes of translated texts happen here: the original attribute is then the default
    language's column, whatever language the person saving reads the site in."""
    with translation.override(default_language()):
        yield


def translated_values(
    texts: Mapping[str, str], translations: Mapping[str, str | None] | None = None
) -> dict[str, str | None]:
    """The values a service saves for translated `texts` ({"introduction": english}) and their
    `translations` ({"introduction_fr": "..."}): the English under the original name, each
    translation given under its own (an empty one is None: that language shows the English).
    A language not given is left as it is."""
    translations = dict(translations or {})
    values: dict[str, str | None] = dict(texts)
    for field in texts:
        for language in other_languages():
            name = localized(field, language)
            if name in translations:
                text = translations.pop(name)
                values[name] = (text or "").strip() or None
    if translations:
        raise TypeError(f"Not translations of {sorted(texts)}: {sorted(translations)}")
    return values


def fallback_language(obj: models.Model, field: str) -> str:
    """The language of the text `obj.field` shows now: the active language's own, or the
    default language's when it has none (so a page can mark that paragraph `lang`)."""
    active = translation.get_language() or default_language()
    own = getattr(obj, localized(field, active), None)
    if own or active == default_language():
        return active
    return default_language()


# --- Forms ----------------------------------------------------------------------------------


@dataclass
class TranslationGroup:
    """One text's inputs in the other languages, each labelled with its language."""

    label: str
    fields: list[forms.BoundField]

    @property
    def filled(self) -> bool:
        return any(field.value() for field in self.fields)

    @property
    def has_errors(self) -> bool:
        return any(field.errors for field in self.fields)


class TranslatedFieldsMixin:
    """A form whose `translated_fields` get an input per other language (optional, `lang` and
    `dir` set on each, labelled with the language's name), shown by
    `components/translated_fields.html` grouped by text. The form's own field is the English
    one; `translations()` gives the others for the service."""

    translated_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        default = default_language()
        for name in self.translated_fields:
            base = self.fields[name]
            base.widget.attrs.update(lang=default, dir=text_direction(default))
            for language in other_languages():
                field = copy.deepcopy(base)
                field.label = dict(settings.LANGUAGES)[language]
                field.required = False
                field.widget.attrs.update(lang=language, dir=text_direction(language))
                field.widget.is_required = False
                self.fields[localized(name, language)] = field

    @property
    def translation_names(self) -> list[str]:
        return [
            localized(name, language)
            for name in self.translated_fields
            for language in other_languages()
        ]

    def default_language_fields(self) -> list[forms.BoundField]:
        """Every field but the other languages' inputs, in the form's order."""
        others = set(self.translation_names)
        return [self[name] for name in self.fields if name not in others]

    def translation_groups(self) -> list[TranslationGroup]:
        return [
            TranslationGroup(
                label=self.fields[name].label,
                fields=[self[localized(name, language)] for language in other_languages()],
            )
            for name in self.translated_fields
        ]

    def translations(self) -> dict[str, str]:
        """The other languages' texts, for a service's `translations`."""
        return {name: self.cleaned_data.get(name) or "" for name in self.translation_names}

    def default_language_data(self) -> dict:
        """`cleaned_data` without the other languages' texts."""
        others = set(self.translation_names)
        return {name: value for name, value in self.cleaned_data.items() if name not in others}

    @classmethod
    def initial_from(cls, obj: models.Model, names: Iterable[str] | None = None) -> dict:
        """Initial values for `obj`'s texts: the English column under the original name, and
        each other language's column (never the fallback, which would copy English into
        every language)."""
        initial = {}
        for name in names if names is not None else cls.translated_fields:
            initial[name] = getattr(obj, localized(name, default_language()), None) or ""
            for language in other_languages():
                initial[localized(name, language)] = getattr(obj, localized(name, language)) or ""
        return initial


# --- Sorting names the way readers do --------------------------------------------------------

# ICU's root collation, which every PostgreSQL built with ICU has: "Égypte" before "Sénégal",
# case and accents second. SQLite has nothing like it, so Python sorts there (`sort_key`).
ICU_COLLATION = "und-x-icu"


def sort_key(text: str) -> str:
    """A key that sorts text as a reader expects in any Latin-script language: accents and case
    set aside ("Égypte" with the E's). Not full collation, but no locale data needed."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def sorted_by_name[T](items: Iterable[T], key=lambda item: item) -> list[T]:
    """`items` sorted by `key(item)` with `sort_key`, ties by the text itself."""
    return sorted(items, key=lambda item: (sort_key(key(item)), str(key(item))))


def collated(field: str) -> models.Expression | str:
    """An `order_by` term for a text column in reader order: ICU collation on PostgreSQL,
    the column itself elsewhere (sort in Python there when accents matter)."""
    if connection.vendor == "postgresql":
        return Collate(models.F(field), ICU_COLLATION)
    return field


# --- The admin ------------------------------------------------------------------------------


def texts_of(obj: models.Model, fields: Iterable[str]) -> dict[str, str]:
    """`obj`'s English texts under the original names, as a service takes them (an admin form
    fills the `_en` columns)."""
    default = default_language()
    return {field: getattr(obj, localized(field, default)) or "" for field in fields}


def translations_of(obj: models.Model, fields: Iterable[str]) -> dict[str, str]:
    """`obj`'s other languages' texts, as a service's `translations`."""
    return {
        localized(field, language): getattr(obj, localized(field, language)) or ""
        for field in fields
        for language in other_languages()
    }


def changed_texts(changed: Iterable[str], fields: Iterable[str]) -> bool:
    """Whether an admin form's changed fields touch any language of `fields`."""
    names = {localized(field, language) for field in fields for language in content_languages()}
    return bool(names & set(changed))
