"""AWS calls that fail with a message an operator can act on.

Every AWS call of the operator commands goes through `aws_call(resource, permission)`, which
turns botocore's errors into an `OperationsError` naming the resource and the IAM action that
was refused or failed, so "access denied" never reaches an operator without saying to what.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)


class OperationsError(RuntimeError):
    """An AWS call failed; the message names the resource and the permission or problem."""


_ACCESS_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
    "AuthorizationErrorException",
    "UnauthorizedAccess",
    "KMS.AccessDeniedException",
    "AWS.SimpleQueueService.AccessDenied",
}
_BAD_CREDENTIALS = {
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
    "MissingAuthenticationToken",
    "IncompleteSignature",
    "InvalidAccessKeyId",
}
_NOT_FOUND = {
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
    "ResourceNotFoundException",
    "StateMachineDoesNotExist",
    "ExecutionDoesNotExist",
}


def _client_error(error: ClientError, resource: str, permission: str) -> OperationsError:
    details = error.response.get("Error", {})
    code, message = str(details.get("Code", "")), str(details.get("Message", ""))
    if code in _ACCESS_DENIED or "not authorized" in message.lower():
        return OperationsError(f"access denied to {resource}: the caller lacks {permission} ({code}: {message})")
    if code in _BAD_CREDENTIALS:
        return OperationsError(
            f"AWS refused the credentials for {permission} on {resource} ({code}): "
            "refresh them or choose another --profile"
        )
    if code in _NOT_FOUND:
        return OperationsError(f"{resource} does not exist ({code}); is the stage deployed in this account and region?")
    return OperationsError(f"{permission} on {resource} failed: {code}: {message}")


@contextmanager
def aws_call(resource: str, permission: str) -> Iterator[None]:
    """Translate botocore errors raised inside into an OperationsError naming what failed."""
    try:
        yield
    except ClientError as error:
        raise _client_error(error, resource, permission) from error
    except NoCredentialsError as error:
        raise OperationsError(
            f"no AWS credentials for {permission} on {resource}: pass --profile or configure credentials"
        ) from error
    except (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError) as error:
        endpoint = getattr(error, "kwargs", {}).get("endpoint_url", "the endpoint")
        raise OperationsError(
            f"cannot reach {endpoint} for {permission} on {resource}: network down, wrong region, "
            "or (with --local) the local stack is not running"
        ) from error
    except BotoCoreError as error:
        raise OperationsError(f"{permission} on {resource} failed: {error}") from error
