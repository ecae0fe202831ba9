"""Concord's error hierarchy. Logic raises these; each transport maps them in one place."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from .events.types import ErrorClass


class ConcordError(Exception):
    """Base of every error Concord raises on purpose."""

    error_class: ErrorClass = ErrorClass.PERMANENT


class TransientError(ConcordError):
    """A dependency is unavailable or throttling; the same call may succeed later."""

    error_class = ErrorClass.TRANSIENT


class PermanentError(ConcordError):
    """Retrying the same input cannot succeed; a person or a fix is needed."""

    error_class = ErrorClass.PERMANENT


class ValidationFailed(PermanentError):
    """Input does not satisfy its schema or business rules."""

    error_class = ErrorClass.VALIDATION


class OwnershipConflict(PermanentError):
    """A write would change a field another system is the authority for."""

    error_class = ErrorClass.CONFLICT


class ConfigurationError(PermanentError):
    """Concord's own configuration (environment, secrets) is missing or invalid."""


class PrerequisiteMissing(TransientError):
    """The event needs a record Concord has not seen yet (e.g. a payment before its invoice):
    retried with back-off until it exists, then parked in the DLQ with this reason."""


class DraftClosed(TransientError):
    """The draft invoice lines were sent to was posted or cancelled since the connector last
    saw it: open the project's draft again (a new one) and send them there."""


def classify(error: BaseException) -> ErrorClass:
    """The one classification of a failure, for every transport (queue consumers, saga steps):
    Concord's errors say what they are; invalid input is a validation error; AWS SDK and
    network errors are transient; anything else is permanent (a bug a retry will not fix)."""
    if isinstance(error, ConcordError):
        return error.error_class
    if isinstance(error, ValidationError):
        return ErrorClass.VALIDATION
    if isinstance(error, (BotoCoreError, ClientError, TimeoutError, ConnectionError)):
        return ErrorClass.TRANSIENT
    return ErrorClass.PERMANENT
