"""edx-platform's ``UserProfile`` (``user.profile``), which lti_consumer's NRPS view prefetches."""
from django.conf import settings
from django.db import models


class UserProfile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    name = models.CharField(max_length=255, blank=True)

    class Meta:
        app_label = "interop_lms"
