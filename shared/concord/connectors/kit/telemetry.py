"""Vendor-call metrics, one way: an EMF metric with its dimensions, inside a function only.

Outside a Lambda function (the CLI, the local tools, tests without a namespace) there is no
metrics namespace: the call's structured log line is all that is written."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from concord.observability import metrics


def vendor_metric(name: str, unit: MetricUnit, value: float, **dimensions: str) -> None:
    if metrics.namespace is None:
        return
    with single_metric(name=name, unit=unit, value=value, namespace=metrics.namespace) as metric:
        for key, dimension in dimensions.items():
            metric.add_dimension(name=key, value=dimension)
