from django.urls import include, path

urlpatterns = [path("microcred/", include("microcred_openedx.urls"))]
