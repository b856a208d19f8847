"""Vendor modules: one per odds source. Each has VENDOR, PARSER_VERSION, request_headers(),
fetch(client) -> Fetched payloads (its only network use) and a pure parse(raw).

Adding a vendor: one module, one line in `_MODULES`, its fixtures and tests.
"""

from __future__ import annotations

import importlib
from types import ModuleType

_MODULES = {
    "PLAYNOW": "helpers.vendors.playnow",
    "UNABATED": "helpers.vendors.unabated",
    "ODDSSHARK": "helpers.vendors.oddsshark",
}


def vendor_module(vendor: str) -> ModuleType:
    try:
        return importlib.import_module(_MODULES[vendor])
    except KeyError:
        raise ValueError(f"unknown vendor {vendor!r}; known: {', '.join(_MODULES)}") from None
