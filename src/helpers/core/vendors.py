"""The odds vendors, declared once: name, module, default base URL and secret variables.

A plain-data registry, so that settings (core) can validate VENDORS, FORCE_<VENDOR>_FAILURE
and <VENDOR>_BASE_URL without importing the odds stage; `helpers.odds.vendors` imports each
`module` when it is used. Adding a vendor is one line here plus its module and fixtures.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class VendorSpec:
    name: str                   # VENDORS / source_vendor value, upper case
    module: str                 # the module with VENDOR, PARSER_VERSION, fetch, parse, ...
    default_base_url: str
    secret_vars: tuple[str, ...] = ()  # never logged, never shown
    # The largest body accepted (as sent and as decoded): well above the largest real one,
    # far below what a decompression bomb expands to.
    default_max_body_mb: int = 64

    @property
    def max_body_var(self) -> str:
        return f"{self.name}_MAX_BODY_MB"

    @property
    def base_url_var(self) -> str:
        return f"{self.name}_BASE_URL"

    @property
    def force_failure_var(self) -> str:
        return f"FORCE_{self.name}_FAILURE"


VENDOR_SPECS: tuple[VendorSpec, ...] = (
    VendorSpec("PLAYNOW", "helpers.odds.vendors.playnow", "https://content.sb.playnow.com",
               secret_vars=("PLAYNOW_COOKIE",)),
    # A full Unabated board runs to tens of MB (the demo's large one is ~24 MB).
    VendorSpec("UNABATED", "helpers.odds.vendors.unabated", "https://content.unabated.com",
               secret_vars=("UNABATED_API_KEY",), default_max_body_mb=256),
    VendorSpec("ODDSSHARK", "helpers.odds.vendors.oddsshark", "https://www.oddsshark.com"),
)
VENDORS: tuple[str, ...] = tuple(spec.name for spec in VENDOR_SPECS)

# The NHL api-web is a source too (schedule, boxscores), but not an odds vendor.
NHL_API = "NHL_API"
NHL_API_DEFAULT_BASE_URL = "https://api-web.nhle.com"
NHL_API_DEFAULT_MAX_BODY_MB = 64  # a day's schedule or a boxscore is well under 1 MB


def vendor_spec(name: str) -> VendorSpec:
    for spec in VENDOR_SPECS:
        if spec.name == name:
            return spec
    raise KeyError(f"unknown vendor {name!r}; known: {', '.join(VENDORS)}")
