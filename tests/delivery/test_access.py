from plugin.delivery.access import credential_access_url, make_access_token, read_access_token


def test_token_names_the_learner_and_rejects_tampering_other_secrets_and_age():
    token = make_access_token("s" * 40, "learner-1")
    assert read_access_token("s" * 40, token) == "learner-1"
    assert read_access_token("t" * 40, token) is None
    assert read_access_token("s" * 40, token[:-2] + ("AA" if token[-2:] != "AA" else "BB")) is None
    assert read_access_token("s" * 40, token, max_age=-1) is None
    assert read_access_token("s" * 40, "") is None


def test_access_url_points_at_the_credential_page():
    url = credential_access_url("https://tool.test/", "s" * 40, "cred-1", "learner-1")
    assert url.startswith("https://tool.test/learner/credentials/cred-1?access=")
    assert read_access_token("s" * 40, url.split("access=")[1]) == "learner-1"
