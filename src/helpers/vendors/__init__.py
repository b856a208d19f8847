"""Vendor modules: one per odds source; `fetch()` does the network, `parse()` is pure."""
