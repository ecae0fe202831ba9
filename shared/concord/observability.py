"""Logger, Metrics and Tracer: created once here, used by every handler.

Each function's service name comes from POWERTOOLS_SERVICE_NAME (set per function by the
CDK stack); the metrics namespace from POWERTOOLS_METRICS_NAMESPACE.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(utc=True)
metrics = Metrics()
tracer = Tracer()


def bind_event(event_id: str, correlation_id: str, event_type: str) -> None:
    """Attach an event's identity to every log line until the next invocation."""
    logger.append_keys(event_id=event_id, event_type=event_type)
    logger.set_correlation_id(correlation_id)
