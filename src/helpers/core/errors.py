"""The exception hierarchy. Messages say what is wrong and, where possible, what to do."""


class OpsError(Exception):
    """Base class of every error this project raises on purpose."""


class SettingsError(OpsError):
    """An environment variable or CLI value is invalid; the message names it."""

    def __init__(self, name: str, value: object, expected: str, *, secret: bool = False):
        self.name = name
        self.value = None if secret else value
        shown = "(value not shown: secret)" if secret else f"{value!r}"
        super().__init__(f"{name}={shown} is invalid: expected {expected}")


class UsageError(OpsError):
    """A command line that cannot be carried out (bad date, conflicting options)."""


class RunLockedError(OpsError):
    """Another daily run holds the lock on the same database."""


class DatabaseBusyError(OpsError):
    """Another process holds the DuckDB file (DuckDB allows one writer process at a time)."""


class SchemaError(OpsError):
    """The database schema is missing, newer than this code, or otherwise unusable."""


class VendorError(OpsError):
    """A vendor request failed after its retries (network, HTTP status, forced failure)."""


class SchemaDriftError(VendorError):
    """A vendor payload no longer has the shape the parser expects."""


class DataCheckError(OpsError):
    """Data failed a sanity check (impossible values, stale inputs)."""


class PathError(OpsError):
    """A configured path cannot be used: not writable, or not what it should be (a database
    file that is not DuckDB). Found before anything is written."""


class ReportRenderError(OpsError):
    """The report notebook failed, timed out, or its export could not be written; the
    previous reports stay in place."""
