"""Look-ups in the cross-reference registry that the flows share, with the error a flow
raises when a link is not there yet (a missing prerequisite: retried, then parked)."""

from __future__ import annotations

from ..errors import PrerequisiteMissing
from ..events.types import System
from .systems import Systems


def project_of_psa(systems: Systems, psa_project_id: str) -> str:
    """The canonical project a PSA project belongs to (quote-to-cash links it)."""
    project_ref = systems.xref.canonical_of(System.PSA, "project", psa_project_id)
    if project_ref is None:
        raise PrerequisiteMissing(
            f"PSA project {psa_project_id} is not linked to a won deal (no quote-to-cash has activated it)"
        )
    return project_ref


def erp_customer_of(systems: Systems, project_ref: str) -> str:
    """The ERP customer id of the project's customer."""
    customer_ref = systems.xref.related("project", project_ref, "customer")
    customer_id = systems.xref.records_of("customer", customer_ref).get(System.ERP) if customer_ref else None
    if customer_id is None:
        raise PrerequisiteMissing(f"project {project_ref} has no ERP customer linked yet")
    return customer_id
