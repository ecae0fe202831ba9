"""What the operator commands (`concord exceptions | dlq | trace | status | replay | saga | reconcile`)
do on AWS: one module per command group, mirroring concord.cli.ops, which renders them.

Plain functions over boto3 clients (SQS, DynamoDB, Step Functions, EventBridge, Lambda, STS), so
the same code runs against a deployed stage and against the local stack. Only the CLI imports
this package: it is not part of the Lambda layer. See docs/operations.md.
"""
