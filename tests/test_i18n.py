import json
import shutil

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db

# Every language the site offers besides English, the language of the source strings.
TRANSLATED = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
# How each catalogue writes "5 grants": Arabic's third form (3 to 10), French's and Spanish's
# plural; a wrong Plural-Forms header or a missing form shows here.
FIVE_GRANTS = {
    "fr": "%(counter)s subventions",
    "es": "%(counter)s subvenciones",
    "ar": "%(counter)s منح",
}


def test_the_site_offers_english_french_spanish_and_arabic():
    assert [code for code, _name in settings.LANGUAGES] == ["en", "fr", "es", "ar"]
    assert sorted(FIVE_GRANTS) == sorted(TRANSLATED)


def test_language_switcher_is_a_form_with_label(client, creator_user):
    # Not signed in: a GET, so the public page holds no token (core/language.py).
    content = client.get(reverse("creators:home")).content.decode()
    assert f'method="get" action="{reverse("language")}"' in content
    assert '<label for="language-select">' in content
    assert '<select id="language-select" name="language">' in content
    assert 'value="fr"' in content
    # Signed in: Django's POST form with its token.
    client.force_login(creator_user)
    content = client.get(reverse("creators:home")).content.decode()
    assert f'method="post" action="{reverse("set_language")}"' in content


def test_switching_to_french_changes_the_page_language(client):
    response = client.post(
        reverse("set_language"), {"language": "fr", "next": reverse("creators:home")}
    )
    assert response.status_code == 302
    assert response.url == reverse("creators:home")
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"

    content = client.get(reverse("creators:home")).content.decode()
    assert '<html lang="fr"' in content

    client.post(reverse("set_language"), {"language": "en"})
    assert '<html lang="en"' in client.get(reverse("creators:home")).content.decode()


def test_html_lang_follows_accept_language(client):
    content = client.get(reverse("creators:home"), headers={"accept-language": "fr"})
    assert '<html lang="fr"' in content.content.decode()


@pytest.mark.parametrize("name", ["creators:home", "creators:list", "login", "password_reset"])
def test_pages_render_in_french(client, name):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert '<html lang="fr"' in response.content.decode()


def test_french_pages_show_french_text(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    content = client.get(reverse("creators:home")).content.decode()
    assert "Se connecter" in content
    assert "Sign in" not in content


def _po_entries(path):
    """(msgid, msgstr, fuzzy) for each entry of a .po file, header left out. A msgid with a
    context is keyed as gettext keys it ("context\x04msgid"); a plural entry's msgstr is its
    first form, and empty if any of its forms is."""
    import ast
    import re

    entries, current, field, fuzzy = [], {}, None, False
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if current.get("msgid"):
                msgid = current["msgid"]
                if "msgctxt" in current:
                    msgid = f"{current['msgctxt']}\x04{msgid}"
                forms = [v for k, v in sorted(current.items()) if k.startswith("msgstr")]
                msgstr = forms[0] if forms and all(forms) else ""
                entries.append((msgid, msgstr, fuzzy))
            current, field, fuzzy = {}, None, False
        elif line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif match := re.match(r"(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?) (.*)", line):
            field, value = match.groups()
            current[field] = ast.literal_eval(value)
        elif line.startswith('"') and field:
            current[field] += ast.literal_eval(line)
    return entries


@pytest.mark.parametrize("language", TRANSLATED)
def test_each_catalogue_is_complete_and_compiled(language):
    """Every string is translated, nothing is fuzzy, and the committed .mo matches the .po
    (run `manage.py makemessages -l fr -l es -l ar` then `compilemessages` after changing
    strings)."""
    import gettext

    folder = settings.LOCALE_PATHS[0] / language / "LC_MESSAGES"
    entries = _po_entries(folder / "django.po")
    assert len(entries) > 300
    assert [msgid for msgid, msgstr, _ in entries if not msgstr] == []
    assert [msgid for msgid, _, fuzzy in entries if fuzzy] == []
    with (folder / "django.mo").open("rb") as mo:
        catalogue = gettext.GNUTranslations(mo)
    stale = [
        msgid
        for msgid, msgstr, _ in entries
        if catalogue._catalog.get(msgid, catalogue._catalog.get((msgid, 0))) != msgstr
    ]
    assert stale == []


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext (xgettext)")
def test_every_string_in_the_code_is_in_every_catalogue(tmp_path, settings, monkeypatch):
    """makemessages run on a copy of the catalogues finds nothing new to translate: a string
    added to a template or a module without its translations fails here, not in front of a
    user."""
    from django.core.management import call_command

    # makemessages writes into any locale/ folder under the directory it runs in, so it runs
    # in a scratch tree that links to the sources and holds a copy of the catalogue.
    root = tmp_path / "src"
    root.mkdir()
    for name in ("changemakers", "creators", "programs", "donations", "templates"):
        (root / name).symlink_to(settings.BASE_DIR / name)
    shutil.copytree(settings.LOCALE_PATHS[0], root / "locale")
    settings.LOCALE_PATHS = [root / "locale"]
    monkeypatch.chdir(root)
    call_command("makemessages", locale=TRANSLATED, symlinks=True, verbosity=0)
    missing = {
        language: [
            msgid
            for msgid, msgstr, fuzzy in _po_entries(
                root / "locale" / language / "LC_MESSAGES" / "django.po"
            )
            if not msgstr or fuzzy
        ]
        for language in TRANSLATED
    }
    assert missing == {language: [] for language in TRANSLATED}


@pytest.mark.parametrize("language", TRANSLATED)
def test_plurals_have_every_form_the_catalogue_declares(language):
    """French and Spanish here declare three plural forms (one, many-millions, other), Arabic
    six (zero, one, two, few, many, other): a missing form makes gettext fall back to English
    for those counts."""
    import gettext
    import re

    folder = settings.LOCALE_PATHS[0] / language / "LC_MESSAGES"
    text = (folder / "django.po").read_text(encoding="utf-8")
    forms = int(re.search(r"nplurals=(\d+)", text).group(1))
    blocks = [b for b in text.split("\n\n") if "msgid_plural" in b and not b.startswith("#~")]
    assert blocks
    for block in blocks:
        filled = re.findall(r'^msgstr\[(\d+)\] ((?:".*"\n?)+)', block, flags=re.MULTILINE)
        assert sorted(int(n) for n, text in filled if text.strip('"\n')) == list(range(forms)), (
            block
        )
    with (folder / "django.mo").open("rb") as mo:
        catalogue = gettext.GNUTranslations(mo)
    assert (
        catalogue.ngettext("%(counter)s grant", "%(counter)s grants", 5) == (FIVE_GRANTS[language])
    )


def test_required_country_fields_start_unchosen_and_in_the_active_language():
    from django.utils import translation

    from creators.forms import ProfileForm
    from donations.forms import NonprofitCreateForm
    from programs.forms import ApplicationForm, InviteNewForm

    for form_class in (ProfileForm, ApplicationForm, InviteNewForm, NonprofitCreateForm):
        choices = list(form_class().fields["country"].choices)
        assert choices[0] == ("", "Choose a country"), form_class
        assert ("KE", "Kenya") in choices
    with translation.override("fr"):
        choices = list(ApplicationForm().fields["country"].choices)
        assert choices[0] == ("", "Choisissez un pays")
        assert ("DE", "Allemagne") in choices


@pytest.mark.parametrize(
    ("language", "direction", "sign_in"),
    [("es", "ltr", "Iniciar sesión"), ("ar", "rtl", "تسجيل الدخول")],
)
def test_spanish_and_arabic_pages_are_written_their_way(client, language, direction, sign_in):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    content = client.get(reverse("creators:home")).content.decode()
    assert f'<html lang="{language}" dir="{direction}">' in content
    assert sign_in in content
    assert "Sign in" not in content


def test_the_language_switch_offers_each_language_in_its_own_script(client):
    content = client.get(reverse("creators:home")).content.decode()
    assert '<option value="ar" lang="ar" dir="rtl">العربيّة</option>' in content
    assert '<option value="es" lang="es" dir="ltr">Español</option>' in content


def test_a_handle_stays_left_to_right_inside_arabic_text(client):
    from tests.factories import CreatorFactory

    creator = CreatorFactory(handle="maya.speaks")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"
    content = client.get(creator.get_absolute_url()).content.decode()
    assert "<bdi>@maya.speaks</bdi>" in content


def test_the_audit_log_arrow_points_the_way_the_page_reads():
    from django.contrib import admin
    from django.utils import translation

    from changemakers.core.models import AuditEvent

    event = AuditEvent(object_repr="Grant 1", from_state="approved", to_state="scheduled")
    transition = admin.site._registry[AuditEvent].transition
    with translation.override("ar"):
        assert transition(event) == "approved ← scheduled"
    with translation.override("fr"):
        assert transition(event) == "approved → scheduled"


@pytest.mark.parametrize(
    ("language", "today"), [("es", "Hoy (%(date)s)"), ("ar", "اليوم (%(date)s)")]
)
def test_the_admin_scripts_speak_spanish_and_arabic_too(admin_client, language, today):
    """Django's own es and ar catalogues for the admin's scripts miss the date shortcuts'
    accessible names (new in Django 6.1): locale/<language>/LC_MESSAGES/djangojs.po adds them,
    or the name would be English beside a Spanish "Hoy" (axe: label-content-name-mismatch)."""
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    script = admin_client.get(reverse("admin:jsi18n")).content.decode()
    assert json.dumps(today)[1:-1] in script or today in script
