"""The tool's own exceptions: a user mistake raises ForecastError, which the CLI prints as one line."""


class ForecastError(Exception):
    """Bad input or options: the message says what is wrong, where, and how to fix it."""


class DataError(ForecastError):
    """The CSV cannot be used as a time series as given."""


class RunError(ForecastError):
    """A run folder is missing, incomplete, or cannot be loaded."""
