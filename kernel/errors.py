"""Small domain errors, turned into a friendly reply or an HTTP status at the edge."""


class CoachError(Exception):
    """Base of every error the product reports to a person (with what to do next)."""


class ConfigError(CoachError):
    """A setting is missing or inconsistent."""


class NotFound(CoachError):
    """The thing asked for does not exist."""


class ModelUnavailable(CoachError):
    """The language model gave no usable answer within the time budget: `outcome` says why (unavailable: errors or
    no answer; budget: the deadline passed while it wrote; busy: no free slot in time; cancelled: the learner's
    request went away), `output_tokens` how much it streamed before that."""

    def __init__(self, message: str, *, outcome: str = "unavailable", output_tokens: int = 0) -> None:
        super().__init__(message)
        self.outcome, self.output_tokens = outcome, output_tokens


class Forbidden(CoachError):
    """The person asking may not do this (e.g. nudge a team they do not manage)."""
