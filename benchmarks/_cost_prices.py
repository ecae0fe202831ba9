"""The AWS list prices the cost model multiplies by (benchmarks.cost_model, benchmarks.cost_floor)."""

from __future__ import annotations

# us-east-1 public on-demand list prices, USD, first pricing tier. Checked (2026-06) against:
#   Lambda: https://aws.amazon.com/lambda/pricing/ ($0.20 per 1M requests; $0.0000166667 x86_64 and
#     $0.0000133334 arm64 per GB-second, first 6 / 7.5 billion GB-seconds a month). Function URLs add
#     no charge of their own: https://docs.aws.amazon.com/lambda/latest/dg/urls-configuration.html
#   API Gateway: https://aws.amazon.com/api-gateway/pricing/ and the AWS whitepaper "Best Practices for
#     Designing Amazon API Gateway Private APIs", cost optimization (REST $3.50 per 1M, first 333M;
#     HTTP API $1.00 per 1M, first 300M)
#   AWS WAF: https://aws.amazon.com/waf/pricing/ ($0.60 per 1M requests inspected, plus $5 per web ACL
#     and $1 per rule a month, fixed; the AWS managed baseline rule groups used add no request fee)
#   EventBridge: https://aws.amazon.com/eventbridge/pricing/ ($1.00 per 1M custom events, 64 KB chunks)
#   DynamoDB: https://aws.amazon.com/dynamodb/pricing/on-demand/ ($0.625 per 1M WRU, $0.125 per 1M RRU,
#     since the November 2024 on-demand price cut; a strongly consistent read of up to 4 KB is 1 RRU)
#   SQS: https://aws.amazon.com/sqs/pricing/ ($0.40 per 1M standard-queue requests, first 100B a month)
# Not re-checked this round: the EventBridge archive's two rates (processing per GB, storage per
# GB-month, as last read from the EventBridge pricing page) and Step Functions.
PRICES_AS_OF = "us-east-1 list prices, Lambda / API Gateway / WAF / EventBridge / DynamoDB / SQS checked 2026-06"
PRICES: dict[str, tuple[float, str]] = {
    "lambda_request": (0.20 / 1e6, "per request"),
    "lambda_gb_second_x86_64": (0.0000166667, "per GB-second (x86_64, first pricing tier)"),
    "lambda_gb_second_arm64": (0.0000133334, "per GB-second (arm64, first pricing tier)"),
    "api_gateway_rest_request": (3.50 / 1e6, "per REST API request (first 333M/month)"),
    "api_gateway_http_request": (1.00 / 1e6, "per HTTP API request (first 300M/month, 512 KB increments)"),
    "waf_request": (0.60 / 1e6, "per web request a WAF web ACL inspects"),
    "sqs_request": (0.40 / 1e6, "per standard-queue request (64 KB chunk)"),
    "eventbridge_event": (1.00 / 1e6, "per custom event published (64 KB chunk)"),
    "eventbridge_archive_gb": (0.10, "per GB archived"),
    "eventbridge_archive_gb_month": (0.023, "per GB-month of archive storage"),
    "dynamodb_write_unit": (0.625 / 1e6, "per on-demand write request unit"),
    "dynamodb_read_unit": (0.125 / 1e6, "per on-demand read request unit"),
    "sfn_standard_transition": (0.025 / 1000, "per Standard workflow state transition"),
}
