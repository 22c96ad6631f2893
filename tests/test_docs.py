"""The deployer's documentation keeps up with the code."""
from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VARIABLE = re.compile(r"\b(MICROCRED_[A-Z0-9_]+|DATABASE_URL)\b")


def variables_in(folder: Path) -> set[str]:
    found: set[str] = set()
    for path in folder.rglob("*.py"):
        found |= set(VARIABLE.findall(path.read_text(encoding="utf-8")))
    return found


def documented() -> set[str]:
    text = (REPO / "docs" / "settings.md").read_text(encoding="utf-8")
    # a variable counts as documented when it heads a row of a settings table
    return set(re.findall(r"^\| `([A-Z0-9_]+)` \|", text, flags=re.M))


def test_every_environment_variable_read_by_the_tool_is_documented():
    used = set()
    for folder in ("plugin", "lti"):
        if (REPO / folder).is_dir():
            used |= variables_in(REPO / folder)
    assert "MICROCRED_KEK" in used and "DATABASE_URL" in used
    missing = sorted(used - documented())
    assert not missing, f"add these to docs/settings.md: {missing}"


def test_documented_variables_exist():
    """No stale rows: everything documented is read somewhere (code, tests or the server)."""
    # gunicorn reads the first two, prometheus_client the third
    used = variables_in(REPO / "tests") | {"WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS", "PROMETHEUS_MULTIPROC_DIR"}
    for folder in ("plugin", "lti", "integrations/openedx"):  # the last: the Open edX plugin's LMS settings
        if (REPO / folder).is_dir():
            used |= variables_in(REPO / folder)
    stale = sorted(documented() - used)
    assert not stale, f"docs/settings.md documents variables nothing reads: {stale}"


def test_every_settings_field_has_its_variable_documented():
    from dataclasses import fields

    from plugin.settings import Settings
    source = (REPO / "plugin" / "settings.py").read_text(encoding="utf-8")
    derived = {"env": "MICROCRED_ENV", "instance_dir": "MICROCRED_INSTANCE_DIR", "database_url": "DATABASE_URL",
               "kek": "MICROCRED_KEK"}
    for field in fields(Settings):
        if field.name == "generated":
            continue
        name = derived.get(field.name, f"MICROCRED_{field.name.upper()}")
        assert name in source, f"Settings.{field.name} is not read from {name}"
        assert name in documented(), f"Settings.{field.name} ({name}) is not in docs/settings.md"


def test_docs_the_readme_links_to_exist():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for link in re.findall(r"\]\((docs/[^)#]+)", readme):
        assert (REPO / link).is_file(), link
