"""The scenario users of a running stack's --systems choice, whoever plays each role: the CRM's
sales rep and the PSA's consultant (a SaaS vendor's, else Tryton's in the same shape) and the
ERP's finance user (finance.py). What the lifecycle demo and the e2e tests drive."""

from __future__ import annotations

from dataclasses import dataclass

from ..roles import ALL_TRYTON, TRYTON
from ..stack import LocalStack
from ..systems import LocalSystems
from ..vendors import VendorSandboxes
from . import ErpFinanceUser, SaasConsultant, SaasSalesRep
from .finance import finance_user
from .saas import NoScenarioUser, consultant, sales_rep
from .tryton_saas import TrytonSaasConsultant, TrytonSaasRep


@dataclass(frozen=True)
class StackUsers:
    rep: SaasSalesRep
    consultant: SaasConsultant
    finance: ErpFinanceUser


def stack_users(stack: LocalStack) -> StackUsers:
    """The users of a running stack (NoScenarioUser: a role has none scripted)."""
    choice = stack.current_state().systems or dict(stack.systems_choice or ALL_TRYTON)
    systems, vendors = stack.systems(), stack.vendors()
    rep = TrytonSaasRep.signed_in(_tryton(systems)) if choice["crm"] == TRYTON else sales_rep(_sandboxes(vendors))
    person = (
        TrytonSaasConsultant.signed_in(_tryton(systems)) if choice["psa"] == TRYTON else consultant(_sandboxes(vendors))
    )
    return StackUsers(rep, person, finance_user(choice["erp"], systems=systems, vendors=vendors))


def _tryton(systems: LocalSystems | None) -> LocalSystems:
    if systems is None:
        raise NoScenarioUser("Tryton plays a role but the stack runs no Tryton (--no-systems)")
    return systems


def _sandboxes(vendors: VendorSandboxes | None) -> VendorSandboxes:
    if vendors is None:
        raise NoScenarioUser("a SaaS vendor plays a role but the stack runs no vendor sandbox")
    return vendors
