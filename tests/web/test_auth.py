"""Launch state kept on the server survives the round trip through the database."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from plugin.storage.models import KeyValue
from plugin.web.auth import Actor, load_launch, store_launch


def test_stored_launch_loads_back_until_it_expires(services):
    actor = Actor(kind="lti", roles=["learner"], platform_issuer="https://lms.test", sub="s-1")
    with services.session() as s:
        launch_id = store_launch(s, actor)
    with services.session() as s:
        loaded = load_launch(s, launch_id)
        assert loaded is not None and loaded.sub == "s-1" and loaded.roles == ["learner"]
        s.get(KeyValue, f"launch:{launch_id}").expires_at = datetime.now(timezone.utc) - timedelta(seconds=1)
    with services.session() as s:
        assert load_launch(s, launch_id) is None
