"""How saga steps report failures to Step Functions.

A Lambda's error name is its exception's class name, and that name is all a state
machine's Retry and Catch can match on. Connectors raise many classes (per vendor), so
each step's errors are translated into four names here, one per ErrorClass; the state
machine retries only the transient one.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import ValidationError

from ..errors import ConcordError, classify
from ..events.types import ErrorClass


class SagaStepError(Exception):
    error_class: ErrorClass


class SagaTransientError(SagaStepError):
    """A dependency was unavailable; Step Functions retries with back-off and jitter."""

    error_class = ErrorClass.TRANSIENT


class SagaStepInProgress(SagaStepError):
    """An earlier attempt of this step may still be running, or crashed mid-way: retried once
    its time is up (the state machine waits out the function's timeout)."""

    error_class = ErrorClass.TRANSIENT


class SagaPermanentError(SagaStepError):
    error_class = ErrorClass.PERMANENT


class SagaValidationError(SagaStepError):
    error_class = ErrorClass.VALIDATION


class SagaConflictError(SagaStepError):
    error_class = ErrorClass.CONFLICT


_BY_CLASS = {
    cls.error_class: cls for cls in (SagaTransientError, SagaPermanentError, SagaValidationError, SagaConflictError)
}
# Errors Lambda itself raises when it could not run the step, or the step's sandbox died
# (timeout, out of memory, crash); worth retrying too.
LAMBDA_SERVICE_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Lambda.Unknown",
    "Sandbox.Timedout",
]
RETRYABLE_ERRORS = [SagaTransientError.__name__, "States.Timeout", *LAMBDA_SERVICE_ERRORS]


def run_step[T](step: Callable[[], T]) -> T:
    """Run a step, its failure renamed after its class (concord.errors.classify)."""
    try:
        return step()
    except SagaStepError:
        raise
    except ValidationError as error:
        raise SagaValidationError(f"invalid saga input: {error.error_count()} problems") from error
    except Exception as error:
        message = str(error) if isinstance(error, ConcordError) else f"{type(error).__name__}: {error}"
        raise _BY_CLASS[classify(error)](message) from error


def error_class_from_name(error_name: str) -> ErrorClass:
    for error_class, cls in _BY_CLASS.items():
        if cls.__name__ == error_name:
            return error_class
    if error_name in RETRYABLE_ERRORS or error_name == SagaStepInProgress.__name__:
        return ErrorClass.TRANSIENT  # retries ran out
    return ErrorClass.PERMANENT
