"""Django app config, discovered by edx-platform through the ``lms.djangoapp`` entry point."""
from django.apps import AppConfig

_RECEIVERS = [
    {"receiver_func_name": "on_course_passing_status_updated",
     "signal_path": "openedx_events.learning.signals.COURSE_PASSING_STATUS_UPDATED",
     "dispatch_uid": "microcred.course_passing_status_updated"},
    {"receiver_func_name": "on_course_passing_status_updated",
     "signal_path": "openedx_events.learning.signals.CCX_COURSE_PASSING_STATUS_UPDATED",
     "dispatch_uid": "microcred.ccx_course_passing_status_updated"},
    {"receiver_func_name": "on_certificate_created",
     "signal_path": "openedx_events.learning.signals.CERTIFICATE_CREATED",
     "dispatch_uid": "microcred.certificate_created"},
]


class MicrocredOpenedxConfig(AppConfig):
    name = "microcred_openedx"
    label = "microcred_openedx"
    verbose_name = "microcred (EU micro-credentials) bridge"
    default_auto_field = "django.db.models.AutoField"

    plugin_app = {
        "settings_config": {
            "lms.djangoapp": {
                "common": {"relative_path": "settings.common"},
                "production": {"relative_path": "settings.production"},
            },
        },
        "signals_config": {
            "lms.djangoapp": {"relative_path": "signals", "receivers": _RECEIVERS},
        },
        "url_config": {
            "lms.djangoapp": {"namespace": "microcred", "regex": r"^microcred/", "relative_path": "urls"},
        },
    }
