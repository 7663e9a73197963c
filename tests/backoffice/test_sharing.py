"""Sharing: the Open Graph and Twitter card tags of the public pages, the preview images drawn
for creators, nonprofits and the program (/share/...png), and the "Share your page" box of
the creator's and the nonprofit contact's portals."""

import datetime as dt
import io
from html.parser import HTMLParser

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from changemakers.backoffice import sharing
from creators.models import ChangeMakersList, Creator, PublicField
from donations.models import Grant, Nonprofit
from donations.services import (
    disbursement_pay,
    grant_approve,
    grant_propose,
    grant_schedule,
    nonprofit_verify,
)
from tests.factories import (
    ChangeMakersListFactory,
    CreatorFactory,
    FundFactory,
    ListEntryFactory,
    NonprofitContactFactory,
    NonprofitFactory,
    StaffFactory,
    UserFactory,
)

OTHER_LOCALES = {"en_GB", "fr_FR", "es_ES", "ar_AR"}


class Meta(HTMLParser):
    """The <meta> tags of a page: {property or name: [content, ...]}."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: dict[str, list[str]] = {}
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        key = attrs.get("property") or attrs.get("name")
        if tag == "meta" and key:
            self.tags.setdefault(key, []).append(attrs.get("content", ""))

    def one(self, key: str) -> str:
        values = self.tags.get(key, [])
        assert len(values) == 1, (key, values)
        return values[0]


def meta(response) -> Meta:
    assert response.status_code == 200
    return Meta(response.content.decode())


def png(response) -> Image.Image:
    assert response["Content-Type"] == "image/png"
    return Image.open(io.BytesIO(b"".join(response) if response.streaming else response.content))


@pytest.fixture
def edition(db):
    return ChangeMakersListFactory(
        year=2026,
        title="Change Makers 2026",
        status=ChangeMakersList.Status.PUBLISHED,
        published_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
    )


@pytest.fixture
def joel(edition):
    creator = CreatorFactory(
        display_name="Joel Bervell",
        handle="joelbervell",
        country="US",
        causes=["health", "education"],
        user=UserFactory(),
    )
    ListEntryFactory(change_makers_list=edition, creator=creator, position=1)
    return creator


@pytest.fixture
def shy(edition):
    """A creator who has not yet said what the public sees."""
    return CreatorFactory(
        handle="not.yet", consent=Creator.Consent.UNANSWERED, public_fields=[], user=UserFactory()
    )


@pytest.fixture
def vetter(db):
    from changemakers.core.roles import StaffRole

    return StaffFactory(username="vetter@program.example", roles=[StaffRole.NONPROFIT_VETTER])


def _verified(vetter, **fields) -> Nonprofit:
    return nonprofit_verify(nonprofit=NonprofitFactory(**fields), actor=vetter)


@pytest.fixture
def readers(vetter, staff_user, proposer_user):
    """Verified and paid: it has a public page."""
    nonprofit = _verified(
        vetter, legal_name="Readers of Nairobi", country="KE", causes=["education"]
    )
    grant = grant_propose(
        fund=FundFactory(),
        nonprofit=nonprofit,
        amount="25000.00",
        creator=None,
        purpose="Donation",
        actor=proposer_user,
    )
    grant = grant_schedule(grant=grant_approve(grant=grant, actor=staff_user), actor=staff_user)
    disbursement_pay(disbursement_id=grant.disbursement.pk)
    assert Grant.objects.get(pk=grant.pk).status == Grant.Status.DISBURSED
    return nonprofit


@pytest.fixture
def unpaid(vetter):
    return _verified(vetter, legal_name="Never Paid", country="GB")


# --- The tags of the public pages -----------------------------------------------------------


def _public_pages(joel, readers) -> dict[str, tuple[str, str]]:
    """Each public page, and the image it names."""
    program_image = reverse("share:program-image")
    return {
        "home": (reverse("creators:home"), program_image),
        "list": (reverse("creators:list-year", kwargs={"year": 2026}), program_image),
        "profile": (
            joel.get_absolute_url(),
            reverse("share:creator-image", kwargs={"handle": "joelbervell"}),
        ),
        "nonprofits": (reverse("nonprofits:nonprofit-list"), program_image),
        "nonprofit": (
            readers.get_absolute_url(),
            reverse("share:nonprofit-image", kwargs={"slug": readers.slug}),
        ),
        "program": (reverse("hub:program"), program_image),
    }


@override_settings(PROGRAM_SOCIAL_ACCOUNT="@impacthub")
def test_every_public_page_has_its_open_graph_and_twitter_card(client, joel, readers):
    for name, (path, image) in _public_pages(joel, readers).items():
        tags = meta(client.get(path))
        absolute_image = f"http://testserver{image}"
        assert tags.one("og:url") == f"http://testserver{path}", name
        assert tags.one("og:title"), name
        assert tags.one("og:description"), name
        assert tags.one("og:type") in ("website", "profile"), name
        assert tags.one("og:image") == absolute_image, name
        assert tags.one("og:image:width") == "1200"
        assert tags.one("og:image:height") == "630"
        assert tags.one("og:image:alt"), name
        assert tags.one("og:locale") == "en_GB"
        assert set(tags.tags["og:locale:alternate"]) == OTHER_LOCALES - {"en_GB"}
        assert tags.one("twitter:card") == "summary_large_image"
        assert tags.one("twitter:site") == "@impacthub"
        assert tags.one("twitter:title") == tags.one("og:title")
        assert tags.one("twitter:description") == tags.one("og:description")
        assert tags.one("twitter:image") == absolute_image
        assert tags.one("twitter:image:alt") == tags.one("og:image:alt")
        # The image each page names is there to fetch.
        assert client.get(image).status_code == 200, name


@pytest.mark.parametrize(
    ("language", "locale"), [("fr", "fr_FR"), ("es", "es_ES"), ("ar", "ar_AR"), ("en", "en_GB")]
)
def test_the_tags_say_the_pages_language_and_name_its_image_in_it(client, joel, language, locale):
    tags = meta(client.get(joel.get_absolute_url(), headers={"accept-language": language}))
    assert tags.one("og:locale") == locale
    assert set(tags.tags["og:locale:alternate"]) == OTHER_LOCALES - {locale}
    suffix = "" if language == "en" else f"?lang={language}"
    assert tags.one("og:image") == f"http://testserver/share/creators/joelbervell.png{suffix}"
    assert tags.one("og:title") == "Joel Bervell"
    assert tags.one("og:type") == "profile"


def test_https_addresses_behind_the_production_proxy(client, joel, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    tags = meta(
        client.get(
            joel.get_absolute_url(), headers={"x-forwarded-proto": "https"}, SERVER_PORT="443"
        )
    )
    assert tags.one("og:url").startswith("https://testserver/")
    assert tags.one("og:image").startswith("https://testserver/share/")


def test_a_creator_not_yet_public_shows_the_programs_image(client, shy):
    tags = meta(client.get(shy.get_absolute_url()))
    assert tags.one("og:image") == "http://testserver/share/program.png"
    assert (
        client.get(reverse("share:creator-image", kwargs={"handle": shy.handle})).status_code == 404
    )


def test_signed_in_pages_carry_the_programs_card_only(client, joel):
    client.force_login(joel.user)
    tags = meta(client.get(reverse("programs:portal")))
    assert tags.one("og:image") == "http://testserver/share/program.png"
    assert "joelbervell.png" not in tags.one("og:image")


@override_settings(PROGRAM_HASHTAG="#ShareTest", PROGRAM_SOCIAL_ACCOUNT="@share_hub")
def test_the_hashtag_and_account_are_on_the_public_pages(client, joel):
    body = client.get(joel.get_absolute_url()).content.decode()
    assert 'Share with <bdi class="hashtag">#ShareTest</bdi>' in body
    assert "<bdi>@share_hub</bdi>" in body  # the footer


# --- The images -----------------------------------------------------------------------------


def test_a_creators_image_is_a_1200_by_630_png(client, joel, django_assert_max_num_queries):
    url = reverse("share:creator-image", kwargs={"handle": "joelbervell"})
    with django_assert_max_num_queries(2):  # the creator, the year of their latest list
        response = client.get(url)
    assert response.status_code == 200
    image = png(response)
    assert image.format == "PNG"
    assert image.size == (1200, 630)
    assert "public" in response["Cache-Control"]
    assert "max-age=3600" in response["Cache-Control"]
    assert response["ETag"].startswith('"')


def test_a_nonprofits_image_is_a_1200_by_630_png(client, readers):
    response = client.get(reverse("share:nonprofit-image", kwargs={"slug": readers.slug}))
    assert png(response).size == (1200, 630)
    program = client.get(reverse("share:program-image"))
    assert png(program).size == (1200, 630)


def test_an_unchanged_image_answers_304_to_its_etag(client, joel):
    url = reverse("share:creator-image", kwargs={"handle": "joelbervell"})
    etag = client.get(url)["ETag"]
    again = client.get(url, headers={"if-none-match": etag})
    assert again.status_code == 304
    assert again["ETag"] == etag
    assert not again.content
    other = client.get(url, headers={"if-none-match": '"something-else"'})
    assert other.status_code == 200


@pytest.mark.parametrize(
    "handle", ["nobody.here", "not.yet", "bad%00handle", "erased.one", "withdrawn.one"]
)
def test_no_image_for_a_creator_without_a_public_page_or_consent(client, shy, handle):
    erased = CreatorFactory(handle="erased.one")
    Creator.objects.filter(pk=erased.pk).update(erased_at=timezone.now())
    CreatorFactory(handle="withdrawn.one", consent=Creator.Consent.WITHDRAWN)
    response = client.get(f"/share/creators/{handle}.png")
    assert response.status_code == 404


def test_no_image_for_a_nonprofit_without_a_public_page(client, unpaid, vetter):
    pending = NonprofitFactory(legal_name="Still Pending")
    for nonprofit in (unpaid, pending):
        url = reverse("share:nonprofit-image", kwargs={"slug": nonprofit.slug})
        assert client.get(url).status_code == 404
    assert client.get("/share/nonprofits/no-such-one.png").status_code == 404


def test_the_image_changes_when_the_name_does_and_only_then(client, joel):
    url = reverse("share:creator-image", kwargs={"handle": "joelbervell"})
    first = client.get(url)["ETag"]
    Creator.objects.filter(pk=joel.pk).update(bio="Another bio, not on the image.")
    assert client.get(url)["ETag"] == first
    Creator.objects.filter(pk=joel.pk).update(display_name="Joel B. Bervell")
    renamed = client.get(url)
    assert renamed["ETag"] != first
    assert client.get(url, headers={"if-none-match": first}).status_code == 200


def test_an_image_is_drawn_once_while_the_cache_keeps_it(pages, client, joel, monkeypatch):
    drawn = []
    render = sharing.render
    monkeypatch.setattr(sharing, "render", lambda card: drawn.append(card) or render(card))
    url = reverse("share:creator-image", kwargs={"handle": "joelbervell"})
    first = client.get(url).content
    assert client.get(url).content == first
    assert len(drawn) == 1
    Creator.objects.filter(pk=joel.pk).update(display_name="Joel B.")
    assert client.get(url).content != first
    assert len(drawn) == 2


def test_the_image_draws_only_the_fields_the_creator_shows(joel):
    joel.public_fields = [PublicField.BIO]
    card = sharing.creator_card(joel, year=2026, language="en")
    assert card.title == "Joel Bervell"
    assert card.handle == "@joelbervell"
    assert card.details == ()
    assert card.kicker == "Change Makers 2026"
    joel.public_fields = [PublicField.COUNTRY, PublicField.CAUSES]
    card = sharing.creator_card(joel, year=None, language="fr")
    assert card.details == ("États-Unis d'Amérique", "Santé · Éducation")
    assert card.kicker == "Change Makers"


@override_settings(PROGRAM_HASHTAG="#ImageTag")
def test_the_image_carries_the_programs_hashtag(joel, readers):
    assert sharing.creator_card(joel, year=2026, language="en").footer == "#ImageTag"
    nonprofit = sharing.nonprofit_card(readers, language="en")
    assert nonprofit.footer == "#ImageTag"
    assert nonprofit.kicker == "Supported by Change Makers"
    assert nonprofit.title == "Readers of Nairobi"
    assert nonprofit.details == ("Kenya", "Education")


def _arabic_creator() -> Creator:
    return Creator(
        display_name="نورة الحربي",
        handle="noura.cares",
        country="SA",
        causes=["health"],
        consent=Creator.Consent.AGREED,
        public_fields=[PublicField.COUNTRY, PublicField.CAUSES],
    )


@pytest.mark.skipif(not sharing.can_shape(), reason="Pillow without libraqm here")
def test_an_arabic_name_is_drawn_right_to_left_where_it_can_be_shaped():
    card = sharing.creator_card(_arabic_creator(), year=2026, language="ar")
    assert card.title == "نورة الحربي"
    assert card.rtl
    assert card.handle == "@noura.cares"
    image = Image.open(io.BytesIO(sharing.render(card)))
    assert image.size == (1200, 630)


def test_without_shaping_an_arabic_name_gives_way_to_the_handle_and_latin_text(monkeypatch):
    monkeypatch.setattr(sharing, "can_shape", lambda: False)
    language = sharing.card_language("ar")
    assert language == "en"
    card = sharing.creator_card(_arabic_creator(), year=2026, language=language)
    assert card.title == ""
    assert card.handle == "@noura.cares"
    assert card.details == ("Saudi Arabia", "Health")
    assert not card.rtl
    image = Image.open(io.BytesIO(sharing.render(card)))
    assert image.size == (1200, 630)
    # A name in a script the font has no glyphs for gives way the same.
    chinese = Creator(display_name="李华", handle="lihua", country="CN", causes=[])
    assert sharing.creator_card(chinese, year=None, language="en").title == ""


def test_an_unknown_language_draws_the_default_one(client, joel):
    url = reverse("share:creator-image", kwargs={"handle": "joelbervell"})
    assert client.get(f"{url}?lang=xx")["ETag"] == client.get(url)["ETag"]
    assert client.get(f"{url}?lang=fr")["Content-Language"] == "fr"


# --- The portals' "Share your page" ---------------------------------------------------------


def test_a_creator_finds_their_own_link_to_copy_in_the_portal(client, joel, shy):
    client.force_login(joel.user)
    body = client.get(reverse("programs:portal")).content.decode()
    assert 'value="http://testserver/creators/joelbervell/"' in body
    assert "readonly" in body
    assert "Copy link" in body
    assert "js/copy-link.js" in body
    assert "not.yet" not in body


def test_a_creator_not_yet_public_is_told_why_there_is_no_link(client, shy):
    client.force_login(shy.user)
    body = client.get(reverse("programs:portal")).content.decode()
    assert "its link to share appears here" in body
    assert "/creators/not.yet/" not in body.split('id="share-title"', 1)[1].split("</section>")[0]
    assert "data-copy-source" not in body


def test_a_nonprofit_contact_finds_the_public_pages_link(client, readers, unpaid):
    contact = NonprofitContactFactory(nonprofit=readers)
    client.force_login(contact.user)
    body = client.get(reverse("nonprofit:public-page")).content.decode()
    assert f'value="http://testserver/nonprofits/{readers.slug}/"' in body
    other = NonprofitContactFactory(nonprofit=unpaid)
    client.force_login(other.user)
    body = client.get(reverse("nonprofit:public-page")).content.decode()
    assert "data-copy-source" not in body
    assert unpaid.slug not in body
