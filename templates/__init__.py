"""Jinja templates; installed as the ``plugin.templates`` package (see setup.cfg)."""
