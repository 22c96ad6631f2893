"""Django settings of the Open edX stand-in LMS (sqlite, loopback only)."""
import os

BASE_DIR = os.environ["OPENEDX_INTEROP_DIR"]
LMS_ROOT_URL = os.environ["OPENEDX_INTEROP_URL"]
LTI_BASE = LMS_ROOT_URL
LTI_API_BASE = LMS_ROOT_URL

SECRET_KEY = "open-edx-interop-test-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "rest_framework",
    "django_filters",
    "lti_consumer",
    "tests.interop.openedx_platform.apps.InteropLmsConfig",
]

# RequestCacheMiddleware: lti_consumer's TieredCache (launch data between the login and
# the launch gate) needs the request cache the LMS sets up.
MIDDLEWARE = [
    "edx_django_utils.cache.middleware.RequestCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "crum.CurrentRequestUserMiddleware",
]

ROOT_URLCONF = "tests.interop.openedx_platform.urls"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3",
                         "NAME": os.path.join(BASE_DIR, "openedx.sqlite3")}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
}]
# The LMS's own cookie name, so it never collides with the tool's on 127.0.0.1.
SESSION_COOKIE_NAME = "lms_sessionid"
PLATFORM_NAME = "Open edX interop LMS"
USAGE_ID_PATTERN = r"(?P<usage_id>(?:i4x://?[^/]+/[^/]+/[^/]+/[^@]+(?:@[^/]+)?)|(?:[^/]+))"
REST_FRAMEWORK = {"UNAUTHENTICATED_USER": None}
LOGGING = {"version": 1, "disable_existing_loggers": False,
           "handlers": {"console": {"class": "logging.StreamHandler"}},
           "root": {"handlers": ["console"], "level": os.environ.get("OPENEDX_INTEROP_LOG", "WARNING")}}
