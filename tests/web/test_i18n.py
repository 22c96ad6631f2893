"""English and French: every message has a French translation, the compiled catalogue is current,
and a French launch gets French pages with French dates and numbers."""
from __future__ import annotations

import io
import re

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from tests.conftest import REPO
from tests.web.helpers import launch

PO = REPO / "plugin" / "translations" / "fr" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None, "N_": None}


def _source_messages() -> set:
    """What ``pybabel extract -F babel.cfg -k _l -k lazy_gettext -k N_`` finds in the code today."""
    from babel.messages.frontend import parse_mapping_cfg
    with open(REPO / "babel.cfg") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(str(REPO), method_map, options_map,
                                                                   keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


def test_every_message_in_the_code_has_a_french_translation():
    catalog = read_po(PO.open("rb"), locale="fr")
    missing = []
    for msgid in _source_messages():
        key = msgid[0] if isinstance(msgid, tuple) else msgid
        message = catalog.get(key)
        if message is None or message.fuzzy or not message.string or \
                (isinstance(message.string, tuple) and not all(message.string)):
            missing.append(msgid)
    assert not missing, f"{len(missing)} messages lack a French translation (run pybabel extract/update): {missing[:10]}"


def test_translations_keep_their_placeholders():
    catalog = read_po(PO.open("rb"), locale="fr")
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(re.findall(r"%\(\w+\)[sd]", ids[-1]))
        for s in strings:
            assert set(re.findall(r"%\(\w+\)[sd]", s)) <= wanted | set(re.findall(r"%\(\w+\)[sd]", ids[0])), message.id


def test_compiled_catalogue_is_up_to_date():
    catalog = read_po(PO.open("rb"), locale="fr")
    fresh = io.BytesIO()
    write_mo(fresh, catalog)
    fresh.seek(0)
    compiled = read_mo(MO.open("rb"))
    rebuilt = read_mo(fresh)
    def as_dict(c):
        key = lambda v: tuple(v) if isinstance(v, (list, tuple)) else v  # noqa: E731
        return {key(m.id): key(m.string) for m in c if m.id}
    assert as_dict(compiled) == as_dict(rebuilt), "messages.mo is stale: run pybabel compile -d plugin/translations"


def test_french_launch_gets_french_pages_dates_and_numbers(client, services):
    lid = launch(services, ["instructor"], locale="fr-CA")
    html = client.get(f"/instructor/?launch={lid}").get_data(as_text=True)
    assert '<html lang="fr">' in html
    assert "Certification de Introduction to Data Science" in html
    assert "Décrire la certification" in html
    form = client.get(f"/instructor/definition?launch={lid}").get_data(as_text=True)
    assert "Acquis d&#39;apprentissage" in form or "Acquis d'apprentissage" in form
    assert "Examen écrit" in form  # the EU assessment types, with their French labels
    assert "Conception et analyse de logiciels" in form  # ISCED-F labels in French
    english = launch(services, ["instructor"], locale="en-GB", sub="prof-en")
    assert "Describe the credential" in client.get(f"/instructor/?launch={english}").get_data(as_text=True)


def test_localised_dates_and_numbers_in_the_admin_area(client, services):
    from plugin.cli.admin import create_admin
    from plugin.storage.models import AuditLog
    create_admin(services, "root", "a very long password")
    from tests.web.helpers import make_platform
    pid = make_platform(services)
    with services.session() as s:  # events of the launch's platform: what its administrator sees and counts
        s.add_all([AuditLog(actor="cli", action=f"test.{i}", target_type="platform", target_id=str(pid))
                   for i in range(1234)])
    lid = launch(services, ["admin"], locale="fr", platform_id=pid)
    html = client.get(f"/admin/?launch={lid}").get_data(as_text=True)
    assert re.search(r"1[\u202f\u00a0 ]234", html)  # French grouping
    html = client.get(f"/admin/audit?launch={lid}").get_data(as_text=True)
    assert re.search(r"1[\u202f\u00a0 ]234 événements", html)  # the list says the same number
    months = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.")
    assert any(m in html for m in months)
