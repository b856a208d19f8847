"""The Jupyter kernel the notebooks run on: this interpreter, registered under a fixed name.

Naming the kernel explicitly (instead of 'python3') keeps papermill from picking up some
other Python that a user's Jupyter installation calls python3.
"""

from __future__ import annotations

import sys

from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

DEFAULT_KERNEL = "nhl-props-ops"


def ensure_kernel(name: str) -> str:
    """Register `name` for this interpreter in sys.prefix unless it already points here."""
    if name != DEFAULT_KERNEL:
        return name  # a user-chosen kernel is used as it is
    try:
        spec = KernelSpecManager().get_kernel_spec(name)
        if spec.argv and spec.argv[0] == sys.executable:
            return name
    except NoSuchKernel:
        pass
    from ipykernel.kernelspec import install

    install(kernel_name=name, display_name="Python (nhl-props-ops)", prefix=sys.prefix)
    return name
