"""Which vendor plays each role (CRM, PSA, ERP) in the local stack, and what follows from it.

`concord local up --systems crm=salesforce,psa=certinia` picks the vendors; a role not named
is played by Tryton. Which kinds a role accepts comes from the connector registry, so the local
stack offers exactly what a deployed stage could be configured with.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

from ..connectors.registry import KINDS, Role

TRYTON = "tryton"
ROLES: tuple[str, ...] = tuple(role.value for role in Role)
ALL_TRYTON: Mapping[str, str] = MappingProxyType({role: TRYTON for role in ROLES})
# The sandbox vendor that serves a SaaS kind (Certinia PSA is a managed package on Salesforce).
SANDBOX_OF_KIND: Mapping[str, str] = MappingProxyType(
    {
        "salesforce": "salesforce",
        "certinia": "salesforce",
        "kantata": "kantata",
        "hubspot": "hubspot",
        "business_central": "business_central",
        "netsuite": "netsuite",
        "dynamics_finance": "dynamics_finance",
        "quickbooks": "quickbooks",
        "xero": "xero",
        "workday": "workday",
    }
)
# The change-capture source of a SaaS kind: the webhook source whose push the poll stands in
# for, so an event announced by both push and poll has one id.
POLL_SOURCE_OF_KIND: Mapping[str, str] = MappingProxyType(
    {
        "salesforce": "salesforce",
        "certinia": "certinia",
        "kantata": "kantata",
        "hubspot": "hubspot",
        "business_central": "business_central",
        "netsuite": "netsuite",
        "dynamics_finance": "dynamics_finance",
        "quickbooks": "quickbooks",
        "xero": "xero",
        "workday": "workday",
    }
)
# What change capture polls in a SaaS system of each role. The local sandboxes push nothing, so
# polling is their change feed here; on AWS, Salesforce pushes Change Data Capture events
# through Event Relay (webhook source "salesforce") and the poll only closes the gaps.
SAAS_WATCHES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "crm": ("opportunity", "customer"),
        "psa": ("time_entry",),
        # NetSuite pushes nothing; Business Central's subscriptions need a public notification URL
        # and Dynamics 365 Finance's business events are not wired to the ingress: locally their
        # postings and payments are polled
        "erp": ("invoice", "payment"),
    }
)


class SystemsChoiceError(ValueError):
    """A --systems value that names an unknown role or kind, or a kind the role cannot play."""


def kinds_for(role: str) -> list[str]:
    """The kinds that can play `role`, as the connector registry declares them."""
    return sorted(kind for kind, (_, roles) in KINDS.items() if Role(role) in roles)


def parse_systems(text: str | None) -> dict[str, str]:
    """`crm=salesforce,psa=certinia` -> a kind for every role (Tryton where none is named)."""
    chosen = dict(ALL_TRYTON)
    named: set[str] = set()
    for item in filter(None, (part.strip() for part in (text or "").split(","))):
        role, sep, kind = (s.strip().lower() for s in item.partition("="))
        if not sep or not kind:
            raise SystemsChoiceError(f"{item!r}: expected role=kind, e.g. crm=salesforce")
        if role not in ROLES:
            raise SystemsChoiceError(f"unknown role {role!r}; the roles are {', '.join(ROLES)}")
        if role in named:
            raise SystemsChoiceError(f"role {role!r} is named twice")
        if kind not in kinds_for(role):
            raise SystemsChoiceError(
                f"{kind!r} cannot be the {role.upper()}; choose one of {', '.join(kinds_for(role))}"
            )
        if kind != TRYTON and kind not in SANDBOX_OF_KIND:
            raise SystemsChoiceError(f"the local stack has no sandbox for {kind!r}")
        named.add(role)
        chosen[role] = kind
    return chosen


def describe(choice: Mapping[str, str]) -> str:
    """The inverse of parse_systems: `crm=salesforce,psa=certinia,erp=tryton`."""
    return ",".join(f"{role}={choice[role]}" for role in ROLES)


def saas_roles(choice: Mapping[str, str]) -> dict[str, str]:
    """Role -> kind of the roles a vendor sandbox plays."""
    return {role: kind for role, kind in choice.items() if kind != TRYTON}


def poll_watches(template_watches: Sequence[Mapping[str, str]], choice: Mapping[str, str]) -> list[dict[str, str]]:
    """The poller's watches for this choice: the template's for Tryton roles, and for a SaaS
    role the records it must poll, with the vendor's change-capture source."""
    saas = saas_roles(choice)
    watches = [dict(w) for w in template_watches if w["system"] not in saas]
    for role, kind in saas.items():
        watches += [
            {"system": role, "record_type": record_type, "source": POLL_SOURCE_OF_KIND[kind]}
            for record_type in SAAS_WATCHES.get(role, ())
        ]
    return watches
