from django.urls import path

from quotes import order_views

app_name = "orders"

urlpatterns = [
    path("orders/", order_views.order_list, name="order_list"),
    path("orders/<int:pk>/", order_views.order_detail, name="order_detail"),
    path("orders/<int:pk>/invoice/", order_views.order_invoice, name="order_invoice"),
    path("orders/<int:pk>/contract/", order_views.order_contract, name="order_contract"),
]
