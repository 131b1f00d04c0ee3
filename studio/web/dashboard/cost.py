"""What a running thing costs, as the pages show it: its type's hourly price, and so far."""

from decimal import Decimal
from typing import Any

from metering.catalog import InstanceType


def cost_context(instance_type: str, billable_seconds: int | float | None) -> dict[str, Any]:
    """`price` (per hour), `price_label`, and `cost` of `billable_seconds` at that price."""
    price = (
        InstanceType.objects.filter(name=instance_type)
        .values_list("price_per_hour", flat=True)
        .first()
    )
    return {
        "price": price,
        "price_label": "" if price is None else f"{float(price):g}",
        "cost": None
        if price is None or billable_seconds is None
        else price * Decimal(billable_seconds) / Decimal(3600),
    }
