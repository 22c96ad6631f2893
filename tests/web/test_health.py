def test_healthz_reports_database_and_keys(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["signing_keys"]["ok"] is True
    assert response.headers["X-Request-ID"]


def test_unknown_page_is_html_for_people_and_json_for_api_clients(client):
    html = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert html.status_code == 404
    assert html.mimetype == "text/html"
    assert b"Not Found" in html.data
    api = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert api.status_code == 404
    assert api.get_json()["error"] == "Not Found"
    assert api.get_json()["request_id"]
