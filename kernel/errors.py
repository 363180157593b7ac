"""Small domain errors, turned into a friendly reply or an HTTP status at the edge."""


class CoachError(Exception):
    """Base of every error the product reports to a person (with what to do next)."""


class ConfigError(CoachError):
    """A setting is missing or inconsistent."""


class NotFound(CoachError):
    """The thing asked for does not exist."""


class ModelUnavailable(CoachError):
    """The language model failed (timeout, rate limit, server error) within the time budget."""


class Forbidden(CoachError):
    """The person asking may not do this (e.g. nudge a team they do not manage)."""
