import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_language_switcher_is_a_post_form_with_label(client):
    content = client.get(reverse("creators:home")).content.decode()
    assert f'action="{reverse("set_language")}"' in content
    assert '<label for="language-select">' in content
    assert '<select id="language-select" name="language">' in content
    assert 'value="fr"' in content


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
