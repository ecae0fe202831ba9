"""The ingest handler under moto with one source of every scheme (import the fixture `ingest`).

Each source has two active secrets (rotation). Requests are REST API proxy events as API
Gateway builds them for https://hooks.example.com/prod/webhooks/<source>.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ..tables import create_audit_table
from .senders import Sent

BUS = "concord-test"
IDEMPOTENCY_TABLE = "concord-test-idempotency"
AUDIT_TABLE = "concord-test-audit"
SECRET_PREFIX = "concord/test/webhooks"
HOST = "hooks.example.com"
STAGE = "prod"

CRM_SECRET = "whsec_" + base64.b64encode(b"crm-signing-secret-32-bytes-long").decode()
CRM_OLD_SECRET = "whsec_" + base64.b64encode(b"the-previous-crm-secret-32-bytes").decode()
HUBSPOT_SECRET, HUBSPOT_OLD_SECRET = "hubspot-client-secret-0001-aaaa", "hubspot-client-secret-0000-zzzz"
XERO_KEY, XERO_OLD_KEY = "OSd0eLlVIY9ZhViEqlDUh4+6n6M+Lo+eDaEJheJ6OCCgWwIz2D3J", "xero-previous-webhook-key-0000"
QBO_TOKEN, QBO_OLD_TOKEN = "qbo-verifier-token-0001-aaaa", "qbo-verifier-token-0000-zzzz"
SF_TOKEN, SF_OLD_TOKEN = "sf-endpoint-token-0001-aaaa", "sf-endpoint-token-0000-zzzz"
SF_ORG, SF_OTHER_ALLOWED_ORG, SF_FOREIGN_ORG = "00D5e000000KQ2eEAG", "00D5e000000XYZ1", "00D000000000666AAA"
BC_STATE, BC_OLD_STATE = "bc-client-state-0001-aaaa", "bc-client-state-0000-zzzz"

SOURCES: dict[str, dict[str, Any]] = {
    "crm": {"system": "crm", "legal_entity": "acme-us"},
    "hubspot": {"scheme": "hubspot", "system": "crm", "legal_entity": "acme-us"},
    "salesforce": {"scheme": "salesforce", "system": "crm", "legal_entity": "acme-us"},
    "xero": {"scheme": "xero", "system": "erp", "legal_entity": "acme-us"},
    "quickbooks": {"scheme": "quickbooks", "system": "erp", "legal_entity": "acme-us"},
    "businesscentral": {"scheme": "business-central", "system": "erp", "legal_entity": "acme-us"},
}
SECRETS: dict[str, dict[str, Any]] = {
    "crm": {"signing_secrets": [CRM_SECRET, CRM_OLD_SECRET]},
    "hubspot": {"client_secrets": [HUBSPOT_SECRET, HUBSPOT_OLD_SECRET]},
    "salesforce": {"organization_ids": [SF_ORG, SF_OTHER_ALLOWED_ORG], "endpoint_tokens": [SF_TOKEN, SF_OLD_TOKEN]},
    "xero": {"webhook_keys": [XERO_KEY, XERO_OLD_KEY]},
    "quickbooks": {"verifier_tokens": [QBO_TOKEN, QBO_OLD_TOKEN]},
    "businesscentral": {"client_states": [BC_STATE, BC_OLD_STATE]},
}


def url_of(source: str) -> str:
    """The URL a vendor calls (and HubSpot signs)."""
    return f"https://{HOST}/{STAGE}/webhooks/{source}"


def api_event(source: str, sent: Sent, *, method: str = "POST", path: str | None = None) -> dict[str, Any]:
    """A REST API (v1) proxy event, as API Gateway builds it."""
    try:
        body, is_base64 = sent.body.decode("utf-8"), False
    except UnicodeDecodeError:
        body, is_base64 = base64.b64encode(sent.body).decode(), True
    headers = {"Host": HOST, "X-Forwarded-Proto": "https", **sent.headers}
    path = path or f"/webhooks/{source}"
    # API Gateway fills the path parameter from the path it matched (a path it cannot match
    # never reaches the function: these events stand for the route's last segment).
    source = path.rsplit("/", 1)[-1]
    return {
        "resource": "/webhooks/{source}",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": dict(sent.query) or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in sent.query.items()} or None,
        "pathParameters": {"source": source},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/webhooks/{source}",
            "httpMethod": method,
            "path": f"/{STAGE}{path}",
            "stage": STAGE,
            "domainName": HOST,
            "requestId": "req-1",
            "accountId": "123456789012",
            "apiId": "api1234567",
            "identity": {"sourceIp": "203.0.113.10"},
        },
        "body": body if sent.body else None,
        "isBase64Encoded": is_base64,
    }


@dataclass
class Ingest:
    handler: ModuleType
    context: Any
    sqs: Any
    dynamodb: Any
    tap_url: str

    def post(self, sent: Sent, source: str | None = None, **kwargs: Any) -> dict[str, Any]:
        return self.handler.handler(api_event(source or sent.source, sent, **kwargs), self.context)

    def bus_count(self) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.tap_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def messages_on_bus(self) -> list[dict[str, Any]]:
        received = self.sqs.receive_message(QueueUrl=self.tap_url, MaxNumberOfMessages=10, VisibilityTimeout=0)
        return [json.loads(m["Body"]) for m in received.get("Messages", [])]

    def idempotency_records(self) -> int:
        return self.dynamodb.scan(TableName=IDEMPOTENCY_TABLE, Select="COUNT")["Count"]

    def audit_items(self) -> list[dict[str, Any]]:
        return boto3.resource("dynamodb").Table(AUDIT_TABLE).scan()["Items"]

    def effects(self) -> tuple[int, int, int]:
        """(events on the bus, remembered deliveries, audit records): what a request changed."""
        return self.bus_count(), self.idempotency_records(), len(self.audit_items())


def body_of(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


def header_of(response: dict[str, Any], name: str) -> str | None:
    for key, values in (response.get("multiValueHeaders") or {}).items():
        if key.lower() == name.lower():
            return values[0]
    for key, value in (response.get("headers") or {}).items():
        if key.lower() == name.lower():
            return value
    return None


def _stack(load_handler: Any, lambda_context: Any, patch: pytest.MonkeyPatch) -> Ingest:
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(
        TableName=IDEMPOTENCY_TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    create_audit_table(dynamodb, AUDIT_TABLE)
    sqs = boto3.client("sqs")
    tap_url = sqs.create_queue(QueueName="bus-tap")["QueueUrl"]
    tap_arn = sqs.get_queue_attributes(QueueUrl=tap_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events = boto3.client("events")
    events.create_event_bus(Name=BUS)
    events.put_rule(Name="everything", EventBusName=BUS, EventPattern=json.dumps({"source": [{"prefix": "concord."}]}))
    events.put_targets(Rule="everything", EventBusName=BUS, Targets=[{"Id": "tap", "Arn": tap_arn}])
    secrets = boto3.client("secretsmanager")
    for source, value in SECRETS.items():
        secrets.create_secret(Name=f"{SECRET_PREFIX}/{source}", SecretString=json.dumps(value))
    for name, value in {
        "EVENT_BUS_NAME": BUS,
        "IDEMPOTENCY_TABLE_NAME": IDEMPOTENCY_TABLE,
        "AUDIT_TABLE_NAME": AUDIT_TABLE,
        "WEBHOOK_SOURCES": json.dumps(SOURCES),
        "WEBHOOK_SECRET_PREFIX": SECRET_PREFIX,
    }.items():
        patch.setenv(name, value)
    return Ingest(load_handler("webhook_ingest"), lambda_context, sqs, dynamodb, tap_url)


@pytest.fixture
def ingest(monkeypatch: pytest.MonkeyPatch, load_handler: Any, lambda_context: Any) -> Iterator[Ingest]:
    """A fresh stack per test (for tests that accept deliveries)."""
    with mock_aws():
        yield _stack(load_handler, lambda_context, monkeypatch)
