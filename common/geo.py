"""An optional position (latitude, longitude) sent by a phone."""

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def parse_position(latitude: Any, longitude: Any) -> tuple[Decimal | None, Decimal | None]:
    """Both or neither; within range; six decimals (about 0.1 m)."""
    if latitude in (None, "") and longitude in (None, ""):
        return None, None
    try:
        lat, lon = Decimal(str(latitude)), Decimal(str(longitude))
    except (InvalidOperation, ValueError):
        raise ValidationError({"latitude": _("位置格式不正确。")}) from None
    if not (lat.is_finite() and lon.is_finite()) or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValidationError({"latitude": _("位置超出范围。")})
    return lat.quantize(Decimal("0.000001")), lon.quantize(Decimal("0.000001"))
