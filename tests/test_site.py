def test_favicon_ico_points_browsers_at_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response.url.endswith("img/favicon.svg")
    assert client.get(response.url).status_code == 200


def test_no_template_comment_leaks_into_pages(client, db):
    """Django's {# #} comments are one line only; a multi-line one is printed as text."""
    from pathlib import Path

    from django.conf import settings

    for template in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        for number, line in enumerate(template.read_text().splitlines(), 1):
            if "{#" in line:
                assert "#}" in line, f"{template}:{number} opens a comment it does not close"
    assert "{#" not in client.get("/").content.decode()


def test_htmx_never_settles_style_attributes_the_csp_forbids(client, db):
    """htmx copies `style` attributes while it settles a swap, which the CSP (no inline
    styles) reports as a violation; the config leaves them out and keeps 422 swaps."""
    import json
    import re

    page = client.get("/").content.decode()
    config = json.loads(re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", page).group(1))
    assert "style" not in config["attributesToSettle"]
    assert {"code": "422", "swap": True} in config["responseHandling"]
    assert config["includeIndicatorStyles"] is False


def test_only_staff_get_the_staff_navigation(client, staff_user, creator_user, nonprofit_user):
    staff_nav = 'class="site-nav site-nav--staff" aria-label="Staff"'
    assert staff_nav not in client.get("/").content.decode()
    for user in (creator_user, nonprofit_user):
        client.force_login(user)
        page = client.get("/").content.decode()
        assert staff_nav not in page
        assert 'href="/staff/"' not in page
    client.force_login(staff_user)
    page = client.get("/").content.decode()
    assert staff_nav in page
    for path in ("/staff/", "/staff/grants/", "/staff/lists/", "/staff/payout-changes/"):
        assert f'href="{path}"' in page


def test_an_unknown_address_gets_the_sites_not_found_page_in_the_visitors_language(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "<h1>Page not found</h1>" in page
    assert 'href="#main"' in page  # the site's own layout, skip link and all
    french = client.get("/no-such-page/", headers={"accept-language": "fr"})
    assert french.status_code == 404
    assert "<h1>Page introuvable</h1>" in french.content.decode()


def test_a_refused_page_says_so_and_shows_nothing_of_it(client, creator_user):
    client.force_login(creator_user)
    response = client.get("/staff/grants/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "<h1>Not allowed</h1>" in page
    assert "Grants" not in page.split('id="main"')[1]


def test_a_server_error_page_stands_alone(rf, settings):
    """Django renders 500.html without a request or context processors: it must still
    render, with the stylesheet, and name no URL that could fail again."""
    from django.views.defaults import server_error

    response = server_error(rf.get("/"))
    assert response.status_code == 500
    page = response.content.decode()
    assert "<h1>Something went wrong</h1>" in page
    assert "css/app" in page
    assert "<script" not in page
