from django.urls import include, path

from tests.interop.openedx_platform import views

urlpatterns = [
    # Where the LMS mounts lti_consumer (its plugin_app url_config: regex ^api/).
    path("api/", include("lti_consumer.plugin.urls")),
    # The LMS pages a browser would visit (sign-in, the unit showing the LTI component).
    path("interop/setup", views.setup),
    path("interop/login", views.login_view),
    path("interop/courseware/<str:block_id>", views.courseware),
    path("interop/gradebook", views.gradebook),
]
