"""The local Lambda runtime: runs the project's handlers the way AWS would trigger them.

It plays three parts that moto does not execute:
  - the Lambda service (pool.py, invoke_api.py): an Invoke API
    (`POST /2015-03-31/functions/{name}/invocations`) that the emulator forwards Step
    Functions Tasks to; each function runs in its own worker process (see ../worker.py) with
    its timeout enforced;
  - API Gateway (api_gateway.py): an HTTP front that turns requests on the template's routes
    into REST API proxy events and the function's answer back into an HTTP response;
  - SQS event source mappings (queues.py): pollers with the mapping's batch size and batching
    window that delete what succeeded and honour ReportBatchItemFailures; the queue's
    visibility timeout and redrive policy (in the emulator) bring failures back or park them;
and EventBridge's scheduled rules (schedules.py).

Run as `python -m concord.local.runtime --state-dir DIR` (__main__.py). It can be killed at any
moment (`kill -9` included) and started again: unacknowledged messages simply come back.
"""
