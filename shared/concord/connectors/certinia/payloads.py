"""Certinia PSA's record shapes (pse__ objects) as the Salesforce REST API returns them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import Field

from ..salesforce.payloads import ChildRecords, VendorRecord

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DAY_FIELDS = tuple(f"pse__{day}_Hours__c" for day in WEEKDAYS)


class TimecardRow(VendorRecord):
    """pse__Timecard_Header__c: one person's hours on one project (and task) for one week."""

    id: str = Field(alias="Id")
    project_id: str = Field(alias="pse__Project__c")
    task_id: str | None = Field(default=None, alias="pse__Project_Task__c")
    resource_id: str = Field(alias="pse__Resource__c")
    approved: bool = Field(alias="pse__Approved__c")
    billable: bool = Field(default=False, alias="pse__Billable__c")
    start_date: dt.date = Field(alias="pse__Start_Date__c")
    last_modified: dt.datetime = Field(alias="LastModifiedDate")
    monday: Decimal | None = Field(default=None, alias="pse__Monday_Hours__c")
    tuesday: Decimal | None = Field(default=None, alias="pse__Tuesday_Hours__c")
    wednesday: Decimal | None = Field(default=None, alias="pse__Wednesday_Hours__c")
    thursday: Decimal | None = Field(default=None, alias="pse__Thursday_Hours__c")
    friday: Decimal | None = Field(default=None, alias="pse__Friday_Hours__c")
    saturday: Decimal | None = Field(default=None, alias="pse__Saturday_Hours__c")
    sunday: Decimal | None = Field(default=None, alias="pse__Sunday_Hours__c")

    def hours_by_weekday(self) -> list[Decimal]:
        """Hours of Monday..Sunday (0 where empty)."""
        days = (self.monday, self.tuesday, self.wednesday, self.thursday, self.friday, self.saturday, self.sunday)
        return [hours or Decimal(0) for hours in days]


TIMECARD_FIELDS = (
    "Id",
    "pse__Project__c",
    "pse__Project_Task__c",
    "pse__Resource__c",
    "pse__Approved__c",
    "pse__Billable__c",
    "pse__Start_Date__c",
    "LastModifiedDate",
    *DAY_FIELDS,
)


class TaskRow(VendorRecord):
    id: str = Field(alias="Id")
    name: str = Field(alias="Name")


class BudgetRow(VendorRecord):
    id: str = Field(alias="Id")
    amount: Decimal | None = Field(default=None, alias="pse__Amount__c")
    currency: str | None = Field(default=None, alias="CurrencyIsoCode")
    approved: bool = Field(default=False, alias="pse__Approved__c")


class ProjectRow(VendorRecord):
    """A project with its tasks and budgets (child subqueries)."""

    id: str = Field(alias="Id")
    account_id: str | None = Field(default=None, alias="pse__Account__c")
    tasks: ChildRecords[TaskRow] | None = Field(default=None, alias="pse__Project_Tasks__r")
    budgets: ChildRecords[BudgetRow] | None = Field(default=None, alias="pse__Budgets__r")

    def task_ids(self) -> dict[str, str]:
        return {task.name: task.id for task in (self.tasks.records if self.tasks else [])}

    def has_budget(self) -> bool:
        return bool(self.budgets and self.budgets.records)


BUDGET_FIELDS = ("Id", "pse__Amount__c", "CurrencyIsoCode", "pse__Approved__c")
