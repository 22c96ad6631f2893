"""The LTI fixtures (tests/lti/fixtures.py) for the tests in this folder."""
from tests.lti.fixtures import live, registered, sandbox  # noqa: F401
