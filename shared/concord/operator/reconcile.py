"""`concord reconcile`: run the stage's reconciliation function and return its drift report."""

from __future__ import annotations

import json
from typing import Any

from ..catalog import RECONCILIATION
from ..naming import Names
from .calls import OperationsError, aws_call


def invoke_reconcile(
    lambda_client: Any, names: Names, objects: list[str], repair: bool, entities: list[tuple[str, str]] | None = None
) -> dict[str, Any]:
    """Run the stage's reconciliation function (it reaches the systems with its own role and network)
    and return its report: {"objects", "repair", "drift": [...]}. `entities` ((object type,
    canonical id)) limits it to those."""
    function = RECONCILIATION.physical_name(names.prefix)
    request: dict[str, Any] = {"objects": objects, "repair": repair}
    if entities is not None:
        request["entities"] = [{"object_type": kind, "canonical_id": ref} for kind, ref in entities]
    # Invoke: https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
    with aws_call(f"function {function}", "lambda:InvokeFunction"):
        response = lambda_client.invoke(FunctionName=function, Payload=json.dumps(request).encode())
    payload = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        message = payload.get("errorMessage", payload) if isinstance(payload, dict) else payload
        raise OperationsError(f"function {function} failed: {message}")
    if not isinstance(payload, dict):
        raise OperationsError(f"function {function} answered without a report: {payload!r}")
    return payload
