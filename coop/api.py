"""What every API view shares: error mapping."""

from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from coop.errors import CoopError


def exception_handler(exc, context):
    """Turn domain and validation errors into HTTP 400 JSON answers."""
    if isinstance(exc, CoopError):
        body = {"detail": exc.message, "code": exc.code}
        if exc.field:
            body["field"] = exc.field
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ValidationError):
        if hasattr(exc, "message_dict"):
            return Response(exc.message_dict, status=status.HTTP_400_BAD_REQUEST)
        return Response({"detail": exc.messages}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, PermissionDenied):
        return Response(
            {"detail": str(exc) or "Permission denied."}, status=status.HTTP_403_FORBIDDEN
        )
    return drf_exception_handler(exc, context)
