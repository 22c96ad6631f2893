"""Only the package list lives here; every other piece of metadata is declarative, in setup.cfg.

The Jinja templates sit in the top-level ``templates/`` folder and ship as the
``plugin.templates`` package (``package_dir`` in setup.cfg). ``packages = find:``
cannot list a package whose folder is outside its parent's folder, and a wheel
built without it has no templates at all, so the list is computed here.
"""
from setuptools import find_packages, setup

setup(packages=find_packages(include=["plugin", "plugin.*", "lti", "lti.*"]) + ["plugin.templates"])
