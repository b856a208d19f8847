"""Vendor modules: one per odds source, each satisfying `VendorModule`.

The list of vendors is `helpers.core.vendors.VENDOR_SPECS` (name, module, default base URL,
secret variables); this package imports a vendor's module when it is first used. Adding a
vendor: one line there, one module here, its fixtures and contract tests.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any, Protocol, cast

from helpers.core.vendors import vendor_spec
from helpers.odds.vendors.base import Fetched, RawPayload
from helpers.odds.vendors.parsing import ParseResult


class VendorModule(Protocol):
    """What the capture and renormalize code use of a vendor module."""

    VENDOR: str           # the registry name, e.g. "UNABATED"
    PARSER_VERSION: str   # bump when the parser's output changes; stored on every row

    def request_headers(self, settings: Any) -> dict[str, str]:
        """Headers for every request (cookies from the settings' secrets)."""

    def fetch(self, client: Any) -> Iterator[Fetched]:
        """The module's only network use: yield each body as soon as it arrives."""

    def parse(self, raw: RawPayload) -> ParseResult:
        """Pure: the canonical rows and counted rejections of one saved payload."""


def vendor_module(vendor: str) -> VendorModule:
    try:
        spec = vendor_spec(vendor)
    except KeyError as exc:
        raise ValueError(str(exc.args[0])) from None
    module = importlib.import_module(spec.module)
    if spec.name != module.VENDOR:
        raise ValueError(f"{spec.module} declares VENDOR={module.VENDOR!r}, registered as "
                         f"{spec.name!r}")
    return cast(VendorModule, module)
