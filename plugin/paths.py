"""Where the files the tool reads at run time live, in a checkout and in an installed wheel."""
from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = PACKAGE_DIR / "data"
STATIC_DIR = PACKAGE_DIR / "static"


def templates_dir() -> Path:
    """``templates/`` of the checkout, or the ``plugin.templates`` package of a wheel."""
    try:
        import plugin.templates as packaged  # installed wheel or editable install
        return Path(packaged.__file__).resolve().parent
    except ImportError:
        return PACKAGE_DIR.parent / "templates"
