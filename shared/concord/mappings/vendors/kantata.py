"""Kantata OX: the workspace and its stories from OpportunityClosedWon, the billing status custom
field from invoices and payments (concord.connectors.kantata.psa).

Kantata's ids are integers the mappers check, so the ids a run would find are rendered as 0."""

from __future__ import annotations

from ...connectors.kantata import mappers
from ...events import Envelope
from ...events.envelope import InvoicePostedEvent, OpportunityClosedWonEvent, PaymentReceivedEvent
from ..inputs import MappingConfig, plan_of, status_of
from ..requests import VendorRequest

UNKNOWN_ID = "0"  # a workspace id or the billing status field id, known at run time only


def render(event: Envelope, config: MappingConfig) -> list[VendorRequest]:
    if isinstance(event, OpportunityClosedWonEvent):
        rules = config.rules_for(event.legal_entity)
        if rules is None:
            return []
        plan = plan_of(event, rules)
        # https://developer.kantata.com/kantata/specification/workspaces/create-workspace
        requests = [
            VendorRequest(
                operation="create workspace",
                method="POST",
                path="workspaces.json",
                body={"workspace": mappers.to_kantata_workspace(plan)},
            )
        ]
        # https://developer.kantata.com/kantata/specification/stories/create-story
        requests += [
            VendorRequest(
                operation="create story",
                method="POST",
                path="stories.json",
                body={"story": mappers.to_kantata_story(plan, UNKNOWN_ID, position)},
            )
            for position in range(len(plan.tasks))
        ]
        return requests
    if isinstance(event, (InvoicePostedEvent, PaymentReceivedEvent)):
        values = mappers.to_kantata_status_values({UNKNOWN_ID: status_of(event)}, int(UNKNOWN_ID))
        # https://developer.kantata.com/kantata/specification/custom-field-values/create-custom-field-value
        return [
            VendorRequest(
                operation="write billing status",
                method="POST",
                path="custom_field_values.json",
                body={"custom_field_values": values},
            )
        ]
    return []
