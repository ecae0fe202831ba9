"""The SaaS scenario users of a stack's --systems choice: the CRM's sales rep and the PSA's
consultant, whichever vendors play them (the demo's and the e2e tests' users)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ..vendors import VendorSandboxes
from . import SaasConsultant, SaasSalesRep, hubspot, kantata, salesforce

SALES_REPS: Mapping[str, Callable[[VendorSandboxes], SaasSalesRep]] = {
    "salesforce": salesforce.SalesRep.signed_in,
    "hubspot": hubspot.SalesRep.signed_in,
}
CONSULTANTS: Mapping[str, Callable[[VendorSandboxes], SaasConsultant]] = {
    "certinia": salesforce.Consultant.signed_in,
    "kantata": kantata.Consultant.signed_in,
}


class NoScenarioUser(LookupError):
    """The role is played by a kind without a scripted SaaS user (e.g. Tryton)."""


def sales_rep(vendors: VendorSandboxes) -> SaasSalesRep:
    """The CRM's sales rep, signed in to its sandbox tenant."""
    kind = vendors.saas.get("crm", "")
    if kind not in SALES_REPS:
        raise NoScenarioUser(f"no SaaS sales rep for a CRM of kind {kind or 'tryton'!r}")
    return SALES_REPS[kind](vendors)


def consultant(vendors: VendorSandboxes) -> SaasConsultant:
    """The PSA's consultant, signed in to its sandbox tenant."""
    kind = vendors.saas.get("psa", "")
    if kind not in CONSULTANTS:
        raise NoScenarioUser(f"no SaaS consultant for a PSA of kind {kind or 'tryton'!r}")
    return CONSULTANTS[kind](vendors)
