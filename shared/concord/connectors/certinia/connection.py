"""Certinia PSA's connection: a Salesforce org (its own, or the CRM's) and its field names."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..salesforce.connection import OrgConnection


class OrgMode(StrEnum):
    SEPARATE = "separate"  # PSA in its own org: its client Accounts are Concord's to write
    SAME = "same"  # PSA in the CRM's org: the client IS the CRM Account, owned by the CRM


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PsaFields(_Strict):
    """Custom fields Concord needs in the org (external ids flagged External ID, unique)."""

    project_ref: str = "Concord_Ref__c"  # on pse__Proj__c
    task_ref: str = "Concord_Task_Ref__c"  # on pse__Project_Task__c
    billing_status: str = "Concord_Billing_Status__c"  # on pse__Proj__c
    customer_ref: str = "Concord_Customer_Ref__c"  # on Account (separate orgs)


class Stages(_Strict):
    """pse__Stage__c values (an org's picklist) for each project state."""

    active: str = "In Progress"
    on_hold: str = "On Hold"
    closed: str = "Completed"


class CertiniaConnection(OrgConnection):
    """The PSA role's secret: {"kind": "certinia", "instance_url", "auth", "org", ...}."""

    kind: Literal["certinia"]
    org: OrgMode = OrgMode.SEPARATE
    fields: PsaFields = PsaFields()
    stages: Stages = Stages()
    budget_type: str = Field(
        default="Customer Purchase Order", min_length=1
    )  # pse__Type__c of the budget Concord creates
