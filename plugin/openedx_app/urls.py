from django.urls import path

from plugin.openedx_app.views import webhook_jwks

app_name = "microcred"
urlpatterns = [path("webhook-jwks.json", webhook_jwks, name="webhook-jwks")]
