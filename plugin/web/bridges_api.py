"""Bridge APIs for the instructor page: catch-up sync with progress a page can poll."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("bridges_api", __name__)
