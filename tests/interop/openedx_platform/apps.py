from django.apps import AppConfig


class InteropLmsConfig(AppConfig):
    name = "tests.interop.openedx_platform"
    label = "interop_lms"

    def ready(self):
        from tests.interop.openedx_platform import edx_platform_standins
        edx_platform_standins.install()
