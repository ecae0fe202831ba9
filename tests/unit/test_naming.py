"""concord.naming: the physical names infra gives a stage's resources and the operator looks up."""

from __future__ import annotations

from concord.naming import Names, source_queue_of

DEV = Names("dev")


def test_every_name_is_the_stage_prefix_and_the_hyphenated_name() -> None:
    assert DEV.prefix == DEV.bus == "concord-dev"
    assert DEV.function("quote_to_cash_validate_customer") == "concord-dev-quote-to-cash-validate-customer"
    assert DEV.queue("audit_trail") == DEV.queue("audit-trail") == "concord-dev-audit-trail"
    assert DEV.dlq("audit_trail") == "concord-dev-audit-trail-dlq"
    assert DEV.state_machine("quote_to_cash") == "concord-dev-quote-to-cash"
    assert (DEV.audit_table, DEV.xref_table, DEV.rate_budget_table) == (
        "concord-dev-audit", "concord-dev-xref", "concord-dev-rate-budget")
    assert DEV.archive == "concord-dev-events" and DEV.alarm_topic("high") == "concord-dev-alarms-high"
    assert DEV.resource("webhooks", "rate_limit") == "concord-dev-webhooks-rate-limit"


def test_secrets_live_under_the_project_and_stage() -> None:
    assert DEV.webhook_secret_prefix == "concord/dev/webhooks"
    assert Names("prod").systems_secret_prefix == "concord/prod/systems"


def test_a_dlq_named_in_any_form_resolves_to_its_full_name_and_back_to_its_queue() -> None:
    for given in ("concord-dev-audit-trail-dlq", "audit-trail-dlq", "audit-trail", "audit_trail"):
        assert DEV.resolve_dlq(given) == "concord-dev-audit-trail-dlq", given
    assert source_queue_of(DEV.resolve_dlq("audit-trail")) == DEV.queue("audit_trail")
    assert DEV.short("concord-dev-audit-trail-dlq") == "audit-trail-dlq"
