from django.urls import path

from spaces import views

app_name = "spaces"

urlpatterns = [
    path("bookings/", views.index, name="index"),
    path("bookings/rooms/", views.room_list, name="room_list"),
    path("bookings/rooms/<int:pk>/", views.room_detail, name="room_detail"),
    path("bookings/search/", views.search, name="search"),
    path("bookings/queue/", views.queue, name="queue"),
    path("bookings/sites/<int:pk>/calendar/", views.site_calendar, name="calendar"),
    path("bookings/sites/<int:pk>/occupancy/", views.occupancy, name="occupancy"),
    path("bookings/sites/<int:pk>/leases/", views.lease_list, name="lease_list"),
    path("bookings/sites/<int:pk>/leases/new/", views.lease_create, name="lease_create"),
    path("bookings/<int:pk>/", views.booking_detail, name="booking_detail"),
    path("bookings/<int:pk>/cancel/", views.booking_cancel, name="booking_cancel"),
    path("bookings/<int:pk>/move/", views.booking_move, name="booking_move"),
    path("bookings/<int:pk>/check-in/", views.booking_check_in, name="booking_check_in"),
    path("bookings/<int:pk>/approve/", views.booking_approve, name="booking_approve"),
    path("bookings/<int:pk>/refuse/", views.booking_refuse, name="booking_refuse"),
    path("bookings/<int:pk>/no-show/", views.booking_no_show, name="booking_no_show"),
    path("bookings/lookup/members/", views.lookup_members, name="lookup_members"),
    path("bookings/lookup/activities/", views.lookup_activities, name="lookup_activities"),
    path("bookings/lookup/organisations/", views.lookup_organisations, name="lookup_organisations"),
    path("bookings/feeds/", views.feeds, name="feeds"),
    path("bookings/feeds/<str:secret>.ics", views.feed, name="feed"),
]
