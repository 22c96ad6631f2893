from django.urls import include, path

urlpatterns = [path("microcred/", include("plugin.openedx_app.urls"))]
