def test_favicon_ico_points_browsers_at_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response.url.endswith("img/favicon.svg")
    assert client.get(response.url).status_code == 200
