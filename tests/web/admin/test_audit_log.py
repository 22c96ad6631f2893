"""The admin audit log: counts that match the list, readable rows, filters, CSV export."""
from __future__ import annotations

import csv
import io

from plugin.storage.models import AuditLog
from tests.web.helpers import launch, make_platform
from tests.web.admin.test_admin import _issuer_form, admin_client  # noqa: F401 - the fixture


def _noise(services, n, platform_id):
    with services.session() as s:
        s.add_all([AuditLog(actor="system", action="platform.connection_tested", target_type="platform",
                            target_id=str(platform_id), details={}) for _ in range(n)])


def test_an_lti_administrator_sees_the_same_number_on_the_overview_and_in_the_list(client, services):
    mine, other = make_platform(services), make_platform(services, issuer="https://other.example", client_id="c2")
    _noise(services, 1, mine)
    _noise(services, 9, other)  # another platform's events: neither counted nor listed
    lid = launch(services, ["admin"], platform_id=mine)
    overview = client.get(f"/admin/?launch={lid}").get_data(as_text=True)
    listing = client.get(f"/admin/audit?launch={lid}").get_data(as_text=True)
    assert "Audit log</a>: 1" in overview
    assert listing.count('class="audit-row"') == 1 and "1 event" in listing


def test_rows_say_who_did_what_to_which_object_and_what_changed(admin_client, services):
    from plugin.issuance.service import revoke
    from tests.engine_helpers import make_world
    world = make_world(services)
    from plugin.issuance.service import award
    with services.session() as s:
        cred, _ = award(s, services, definition_id=world.definition_id, learner_id=world.learner_id, actor="test")
        cred.display_name = "Éloïse Hôpital"
        revoke(s, cred, "fraude à l’examen", "admin:root")
    html = admin_client.get("/admin/audit?category=credential").get_data(as_text=True)
    row = html[html.index('data-action="credential.revoke"'):]
    row = row[:row.index("</li>")]
    assert "Revoked a credential" in row and "root (administrator)" in row
    assert "Éloïse Hôpital" in row and "active → revoked" in row and "fraude à l’examen" in row
    assert "\\u00" not in html and "{&#34;" not in html and '{"' not in row
    assert 'data-action="issuer.create"' not in html  # the category filter


def test_filters_and_csv_export(admin_client, services):
    _issuer_form(admin_client, "/admin/issuers/new")
    html = admin_client.get("/admin/audit?who=root&category=issuer").get_data(as_text=True)
    assert 'data-action="issuer.create"' in html and 'data-action="admin.login"' not in html
    assert "Université de Lille" in html
    assert 'data-action="issuer.create"' not in admin_client.get("/admin/audit?since=2000-01-01&until=2000-01-02"
                                                                ).get_data(as_text=True)
    resp = admin_client.get("/admin/audit.csv?category=issuer")
    assert resp.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert {r["action"] for r in rows} == {"issuer.create", "issuer.platforms"}
    rows = [r for r in rows if r["action"] == "issuer.create"]
    assert rows[0]["what"] == "Created an issuer" and rows[0]["who"] == "root (administrator)"
    assert "Université de Lille" in rows[0]["object"]
