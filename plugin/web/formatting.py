"""Template helpers shared by the instructor and admin blueprints."""
from __future__ import annotations

from flask import Blueprint

from plugin.web.auth import current_actor, launch_url


def install(bp: Blueprint) -> None:
    """Give the blueprint's templates ``launch_url`` and ``actor``."""
    @bp.app_context_processor
    def _helpers():
        return {"launch_url": launch_url, "actor": current_actor()}
