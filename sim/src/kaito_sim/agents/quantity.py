"""Kubernetes resource quantities ("500m", "16Gi", "1e3") as numbers."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_SUFFIXES = {
    "": Decimal(1),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}
_QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$")


def parse_quantity(value: object) -> Decimal:
    """The numeric value of a quantity; ValueError when it is not one."""
    text = str(value).strip()
    m = _QUANTITY.match(text)
    if not m or m.group(2) not in _SUFFIXES:
        raise ValueError(
            f"quantities must match the regular expression "
            f"'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': {text!r}"
        )
    try:
        return Decimal(m.group(1)) * _SUFFIXES[m.group(2)]
    except InvalidOperation:
        raise ValueError(f"invalid quantity {text!r}") from None


def add_requests(total: dict[str, Decimal], requests: dict[str, object] | None) -> None:
    for name, value in (requests or {}).items():
        total[name] = total.get(name, Decimal(0)) + parse_quantity(value)
