"""Tryton's sales rep and consultant in the shapes the SaaS users share (SaasSalesRep,
SaasConsultant), so the lifecycle demo and the e2e tests run a SaaS ERP with Tryton as CRM and
PSA: the same scripted people (scenarios/tryton.py), and reads through the Tryton connectors over
their sessions, as an operator would check by hand."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import ClassVar

from ...connectors.tryton import TrytonCrm, TrytonPsa
from ..consistency import LEGAL_ENTITY
from ..systems import LocalSystems
from . import DealState
from .tryton import Consultant, SalesRep, user_client

# fill_week answers one id for what `approve` takes: Tryton approves timesheet lines, so the
# lines of the week, joined.
LINE_IDS = ","


@dataclass
class TrytonSaasRep:
    rep: SalesRep
    crm: TrytonCrm
    vendor: ClassVar[str] = "Tryton"
    account_word: ClassVar[str] = "party"

    @classmethod
    def signed_in(cls, systems: LocalSystems) -> TrytonSaasRep:
        client = user_client(systems, "crm")
        return cls(SalesRep(client), TrytonCrm(client, legal_entity=LEGAL_ENTITY))

    def create_account(self, name: str, *, street: str | None, city: str, country: str, tax_id: str | None) -> str:
        return str(self.rep.create_account(name, street=street, city=city, country=country, tax_id=tax_id))

    def win_opportunity(self, account_id: str, description: str, hours: list[tuple[str, float]]) -> str:
        return str(self.rep.win_opportunity(int(account_id), description, hours))

    def rename_account(self, account_id: str, name: str) -> None:
        self.rep.crm.write("party.party", [int(account_id)], {"name": name})

    def account_name(self, account_id: str) -> str:
        return self.crm.get_customer(account_id).name

    def deal(self, opportunity_id: str) -> DealState:
        opportunity = self.crm.get_opportunity(opportunity_id)
        return DealState(won=opportunity.won, amount=float(opportunity.amount.amount))

    def financial_status(self, opportunity_id: str) -> str | None:
        status = self.crm.financial_status(opportunity_id)
        return status.value if status else None


@dataclass
class TrytonSaasConsultant:
    consultant: Consultant
    psa: TrytonPsa
    vendor: ClassVar[str] = "Tryton"
    project_word: ClassVar[str] = "project"
    timesheet_word: ClassVar[str] = "timesheet lines"

    @classmethod
    def signed_in(cls, systems: LocalSystems) -> TrytonSaasConsultant:
        client = user_client(systems, "psa")
        return cls(Consultant(client), TrytonPsa(client))

    def task_names(self, project_id: str) -> list[str]:
        tasks = self.psa.client.search_read("project.work", [["parent", "=", int(project_id)]], ["name"])
        return sorted(str(task["name"]) for task in tasks)

    def fill_week(self, project_id: str, daily_hours: list[float], *, week_of: dt.date | None = None) -> str:
        day = week_of or dt.date.today()
        monday = day - dt.timedelta(days=day.weekday())
        lines = [
            self.consultant.log_time(project_id, hours, worked_on=monday + dt.timedelta(days=n))
            for n, hours in enumerate(daily_hours)
            if hours
        ]
        return LINE_IDS.join(map(str, lines))

    def approve(self, timesheet_ids: list[str]) -> None:
        self.consultant.approve([int(line) for week in timesheet_ids for line in week.split(LINE_IDS)])

    def billing_status(self, project_id: str) -> str | None:
        status = self.psa.billing_status(project_id)
        return status.value if status else None
