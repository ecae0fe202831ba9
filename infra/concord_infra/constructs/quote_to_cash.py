"""The quote-to-cash saga: a Step Functions state machine over one Lambda per step, built from
concord.catalog.SAGA (its steps in order, their retries, compensation and report).

Each Task retries transient errors with exponential back-off and full jitter; any other error
is caught, the failed step noted, and the saga compensates, then raises a SyncExceptionRaised
event and fails. Triggered by OpportunityClosedWon through a queue-with-DLQ and the start function.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from aws_cdk import CfnElement, Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from concord import catalog
from concord.catalog import SAGA, Access, Step
from concord.events.types import System
from concord.naming import Names

from ..nag import LOG_KEY_REASON, SECRET_KEY_REASON, acknowledge, skip_checkov
from .bus import grant_publish
from .consumer import EventConsumer
from .data import DataTables, grant_items
from .functions import RETENTION, ConcordFunction
from .ops import AlarmTopics
from .token_write_back import grant_token_write_back


class QuoteToCash(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        names: Names,
        make_function: Callable[..., ConcordFunction],
        tables: DataTables,
        bus: events.IEventBus,
        topics: AlarmTopics,
        legal_entities: dict,
        system_of_record: str,
        retry_interval_seconds: int,
        retry_attempts: int,
        secret_cache_seconds: int,
        default_legal_entity: str,
        max_receive_count: int,
        log_retention_days: int,
        retain: bool,
        erp_token_write_back: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        self.erp_token_write_back = erp_token_write_back
        secret_prefix = names.systems_secret_prefix
        # Connection of each system, {"kind": "tryton", "url": ..., ...}: set after deploying.
        self.system_secrets = {
            system: secretsmanager.Secret(
                self,
                f"{system.title()}Connection",
                secret_name=f"{secret_prefix}/{system}",
                description=f"How Concord connects to the {system.upper()} (kind, url, credentials)",
                removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
            )
            for system in catalog.ALL_SYSTEMS
        }
        for secret in self.system_secrets.values():
            acknowledge(
                secret,
                "AwsSolutions-SMG4",
                "Credentials of the firm's CRM, PSA and ERP are issued by those products; the firm "
                "rotates them there and updates the secret (Concord re-reads it within the cache period).",
            )
            skip_checkov(secret, "CKV_AWS_149", SECRET_KEY_REASON)
        # What every function that talks to the systems needs (concord.aws.systems.SystemsSettings).
        self.systems_environment = {
            "IDEMPOTENCY_TABLE_NAME": tables.idempotency.table_name,
            "XREF_TABLE_NAME": tables.xref.table_name,
            "EVENT_BUS_NAME": bus.event_bus_name,
            "SYSTEMS_SECRET_PREFIX": secret_prefix,
            "LEGAL_ENTITIES": json.dumps(legal_entities, sort_keys=True),
            "SYSTEM_OF_RECORD": system_of_record,
            "SECRET_CACHE_SECONDS": str(secret_cache_seconds),
            "DEFAULT_LEGAL_ENTITY": default_legal_entity,
            "RATE_BUDGET_TABLE_NAME": tables.rate_budget.table_name,
        }
        environment = self.systems_environment

        step_functions: list[ConcordFunction] = []

        def step_function(step: Step) -> ConcordFunction:
            function = make_function(
                SAGA.folder(step),
                step.description,
                environment=environment,
                timeout=Duration.seconds(step.timeout_seconds),
            )
            step_functions.append(function)
            self.grant_systems_access(function, tables, bus, step.access)
            skip_checkov(
                function.function,
                "CKV_AWS_116",
                "Invoked synchronously by the state machine: a failure is retried by the Task, then caught, "
                "compensated and reported (SyncExceptionRaised), and alarms as a failed saga.",
            )
            return function

        def invoke(step: Step) -> tasks.LambdaInvoke:
            function = step_function(step)
            task = tasks.LambdaInvoke(
                self,
                step.state,
                lambda_function=function.function,
                payload=sfn.TaskInput.from_object(
                    {"execution": sfn.JsonPath.string_at("$$.Execution.Name"), "state": sfn.JsonPath.entire_payload}
                ),
                payload_response_only=True,
                result_path=f"$.{step.result}",
                retry_on_service_exceptions=False,  # the catalog's transient retry covers them, with jitter
            )
            for retry in step.retries:
                task.add_retry(
                    errors=list(retry.errors),
                    interval=(
                        function.function.timeout or Duration.seconds(step.timeout_seconds)
                        if retry.wait_out_function_timeout
                        else Duration.seconds(retry_interval_seconds)
                    ),
                    max_attempts=retry_attempts if retry.max_attempts is None else retry.max_attempts,
                    backoff_rate=retry.backoff_rate,
                    jitter_strategy=sfn.JitterType.FULL if retry.full_jitter else None,
                )
            return task

        # Any error: note the failed step, compensate, report, fail (concord.catalog.Saga).
        raise_exception = invoke(SAGA.raise_exception)
        failed = sfn.Fail(self, "QuoteToCashFailed", error="QuoteToCashFailed", cause="see SyncExceptionRaised")
        # If even the report cannot be published, the execution's failure is the alarm.
        raise_exception.add_catch(failed, errors=["States.ALL"], result_path="$.exception_error")
        raise_exception.next(failed)
        compensate = invoke(SAGA.compensation)
        compensate.add_catch(raise_exception, errors=["States.ALL"], result_path="$.compensation_error")
        compensate.next(raise_exception)

        chain: sfn.Chain | None = None
        for step in SAGA.steps:
            task = invoke(step)
            noted = sfn.Pass(
                self,
                f"{step.state}Failed",
                result=sfn.Result.from_string(step.state),
                result_path=f"$.{SAGA.failed_step_field}",
            ).next(compensate)
            task.add_catch(noted, errors=["States.ALL"], result_path=f"$.{SAGA.error_field}")
            chain = sfn.Chain.start(task) if chain is None else chain.next(task)
        assert chain is not None, "the saga has at least one step"
        chain = chain.next(sfn.Succeed(self, "ProjectActive"))

        log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/vendedlogs/states/{SAGA.physical_name(names.prefix)}",
            retention=RETENTION[log_retention_days],
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
        )
        skip_checkov(log_group, "CKV_AWS_158", LOG_KEY_REASON)
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=SAGA.physical_name(names.prefix),
            definition_body=sfn.DefinitionBody.from_chainable(chain),
            timeout=Duration.hours(1),
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
        )

        self._acknowledge_invoke_grants(step_functions)

        start = make_function(
            SAGA.flow.folder,
            SAGA.flow.description,
            environment={
                "AUDIT_TABLE_NAME": tables.audit.table_name,
                "STATE_MACHINE_ARN": self.state_machine.state_machine_arn,
            },
            scope=self,
        )
        self.state_machine.grant_start_execution(start.function)
        grant_items(tables.audit, start.function, "dynamodb:PutItem")
        # A saga that fails delays a project (and so billing): warning, as its exceptions are.
        for metric, what in (
            (self.state_machine.metric_failed(period=Duration.minutes(5)), "failed"),
            (self.state_machine.metric_timed_out(period=Duration.minutes(5)), "timed-out"),
        ):
            topics.alarm(
                self,
                f"Sagas{what.title().replace('-', '')}",
                metric=metric,
                name=f"{SAGA.physical_name(names.prefix)}-{what}",
                description=f"{SAGA.flow.label} sagas {what}: see SyncExceptionRaised and `concord exceptions`",
                severity=SAGA.flow.severity,
            )

        self.trigger = EventConsumer(
            self,
            "Trigger",
            flow=SAGA.flow,
            names=names,
            bus=bus,
            function=start,
            topics=topics,
            max_receive_count=max_receive_count,
        )

    def grant_systems_access(
        self, function: ConcordFunction, tables: DataTables, bus: events.IEventBus, access: Access
    ) -> None:
        """What a function working with the systems may do: read the connections of the systems
        it calls, keep its idempotency records, read and write the cross-reference registry,
        publish the events it emits; with `erp_token_write_back`, a function calling the ERP also
        writes its rotated refresh token back (constructs/token_write_back.py)."""
        for system in access.systems:
            self.system_secrets[system].grant_read(function.function)
        if self.erp_token_write_back and System.ERP.value in access.systems:
            grant_token_write_back(function.function, self.system_secrets[System.ERP.value], tables.rate_budget)
        tables.idempotency.grant(
            function.function, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"
        )
        grant_items(tables.xref, function.function, "dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Query")
        tables.rate_budget.grant(function.function, "dynamodb:GetItem", "dynamodb:UpdateItem")
        if access.publishes:
            grant_publish(bus, function.function, access.publishes)

    def _acknowledge_invoke_grants(self, functions: list[ConcordFunction]) -> None:
        role = self.state_machine.role
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray tracing and CloudWatch Logs delivery of a state machine have no resource-level permissions.",
        )
        stack = Stack.of(self)
        for function in functions:
            cfn = function.function.node.default_child
            assert isinstance(cfn, CfnElement), f"{function.function.node.path} has no CloudFormation resource"
            logical_id = stack.resolve(stack.get_logical_id(cfn))
            acknowledge(
                role,
                f"AwsSolutions-IAM5[Resource::<{logical_id}.Arn>:*]",
                "Invoking the versions and aliases of this one step function (CDK's grant for LambdaInvoke).",
            )
