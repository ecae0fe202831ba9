"""The HubSpot CRM connector against the HubSpot sandbox: what travels, and how many calls."""

from __future__ import annotations

from concord.connectors.hubspot.client import RequiredPropertyMissing
from concord.domain import FinancialStatus
from concord.local.sandboxes.hubspot import HubSpotSandbox

from .sandbox_systems import TENANT, hubspot_systems


def test_a_thousand_statuses_are_ten_batch_calls_and_all_land() -> None:
    with hubspot_systems(HubSpotSandbox(per_ten_seconds=10_000)) as systems:
        company = systems.driver.company("Globex", tax_id="12-3456789")
        deals = [
            systems.driver.create("deals", {"dealname": f"Deal {n}", "dealstage": "closedwon"}) for n in range(250)
        ]
        statuses = {deal: FinancialStatus.INVOICED for deal in deals * 4}  # 250 distinct deals
        statuses |= {f"{n}": FinancialStatus.PAID for n in range(10**9, 10**9 + 750)}  # 750 unknown ids
        systems.control.clear_calls(TENANT)

        failed = systems.crm.set_financial_statuses(statuses)

        writes = [c for c in systems.control.calls(TENANT) if c.path.endswith("/deals/batch/update")]
        assert len(writes) == 10  # ceil(1000 / 100)
        assert set(failed) == {f"{n}" for n in range(10**9, 10**9 + 750)}
        assert all(systems.crm.financial_status(deal) is FinancialStatus.INVOICED for deal in deals[:5])
        assert company


def test_from_2026_09_a_write_the_portals_required_properties_refuse_names_them() -> None:
    sandbox = HubSpotSandbox(required={"deals": ("closedate",)})
    with hubspot_systems(sandbox, api_version="2026-09") as systems:
        deal = systems.driver.create("deals", {"dealname": "No close date", "dealstage": "closedwon"})  # as of 2026-03

        failed = systems.crm.set_financial_statuses({deal: FinancialStatus.INVOICED})

        assert isinstance(failed[deal], RequiredPropertyMissing)
        assert failed[deal].properties == ("closedate",) and "closedate" in str(failed[deal])
