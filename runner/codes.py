"""Exit codes and run statuses, in a module that imports nothing: the CLI needs them before
it decides whether to load the driver (bad usage is refused in a fraction of a second)."""

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3
RUN_STATUSES = ("success", "partial", "failed", "interrupted", "running")
