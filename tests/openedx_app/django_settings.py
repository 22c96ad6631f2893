"""A minimal LMS-like Django settings module, configured the way edx-platform does it:
plugin apps come from the ``lms.djangoapp`` entry point and inject their settings."""
import os

from edx_django_utils.plugins import add_plugins, get_plugin_apps

SECRET_KEY = "test-only"
DEBUG = False
USE_TZ = True
ROOT_URLCONF = "tests.openedx_app.django_urls"
ALLOWED_HOSTS = ["testserver", "127.0.0.1"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
LMS_ROOT_URL = os.environ["TEST_LMS_ROOT_URL"]
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth"]
# Only our plugin: the other installed plugin (lti_consumer) needs a whole edx-platform.
INSTALLED_APPS += [app for app in get_plugin_apps("lms.djangoapp") if app.startswith("plugin.openedx_app")]

MICROCRED_WEBHOOK_URL = os.environ["TEST_WEBHOOK_URL"]
MICROCRED_WEBHOOK_PRIVATE_KEY_FILE = os.environ["TEST_WEBHOOK_KEY_FILE"]
MICROCRED_WEBHOOK_ASYNC = False
MICROCRED_WEBHOOK_ATTEMPTS = 2
# edx-platform's default reads openedx.core.djangoapps.external_user_ids, absent here.
MICROCRED_EXTERNAL_ID_FUNCTION = "tests.openedx_app.django_settings.test_external_id"

add_plugins(__name__, "lms.djangoapp", "common")


def test_external_id(user_data):
    return f"ext-{user_data.id}"
