"""A minimal LMS-like Django settings module, configured the way edx-platform does it:
plugin apps come from the ``lms.djangoapp`` entry point and inject their settings.

The webhook URL and key come from the environment (``TEST_WEBHOOK_URL``,
``TEST_WEBHOOK_KEY_FILE``, ``TEST_LMS_ROOT_URL``), so the same settings serve the
package's own tests and the tool's end-to-end tests.
"""
import os

from edx_django_utils.plugins import add_plugins, get_plugin_apps

SECRET_KEY = "test-only"
DEBUG = False
USE_TZ = True
ROOT_URLCONF = "lms_urls"
ALLOWED_HOSTS = ["testserver", "127.0.0.1"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
LMS_ROOT_URL = os.environ.get("TEST_LMS_ROOT_URL", "https://lms.test")
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth"]
# Only our plugin: another installed plugin (lti_consumer, in the tool's test environment)
# needs a whole edx-platform.
INSTALLED_APPS += [app for app in get_plugin_apps("lms.djangoapp") if app.startswith("microcred_openedx")]

MICROCRED_WEBHOOK_URL = os.environ.get("TEST_WEBHOOK_URL", "")
MICROCRED_WEBHOOK_PRIVATE_KEY_FILE = os.environ.get("TEST_WEBHOOK_KEY_FILE", "")
MICROCRED_WEBHOOK_ASYNC = False
MICROCRED_WEBHOOK_ATTEMPTS = 2
# edx-platform's default reads openedx.core.djangoapps.external_user_ids, absent here.
MICROCRED_EXTERNAL_ID_FUNCTION = "lms_settings.test_external_id"

add_plugins(__name__, "lms.djangoapp", "common")


def test_external_id(user_data):
    """ext-<id>; user 13 has no LTI identity (the plugin sends nothing for them)."""
    return None if user_data.id == 13 else f"ext-{user_data.id}"
