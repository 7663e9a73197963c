"""The creators' URLs (namespace `creators`), with the public profile composed here: it tells
the creator's impact story from programs and donations, which the creators app may not
import. The root URLconf includes this module in place of `creators.urls`."""

from django.urls import path

from creators.urls import urlpatterns as creators_urlpatterns

from . import public_views

app_name = "creators"

urlpatterns = [
    *creators_urlpatterns,
    path("creators/<str:handle>/", public_views.creator_detail, name="creator-detail"),
]
