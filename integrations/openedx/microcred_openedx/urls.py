from django.urls import path

from microcred_openedx.views import webhook_jwks

app_name = "microcred"
urlpatterns = [path("webhook-jwks.json", webhook_jwks, name="webhook-jwks")]
