"""One module per connector: `render(event, config)`, the requests that connector's mappers make
for a canonical event. A connector joins by adding its module here and its name to CONNECTORS.
No connector's module is imported here: concord.mappings.render imports the ones a stage
renders, so the audit trail loads only those."""

from typing import Annotated

from pydantic import AfterValidator

CONNECTORS: tuple[str, ...] = (
    "business_central",
    "certinia",
    "dynamics_finance",
    "hubspot",
    "kantata",
    "netsuite",
    "quickbooks",
    "salesforce",
    "tryton",
    "workday",
    "xero",
)


def connectors_named(names: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """`names` as a configuration's rendered connectors (sorted, once each); ValueError names an
    unknown one."""
    unknown = sorted(set(names) - set(CONNECTORS))
    if unknown:
        raise ValueError(f"unknown connectors {unknown}; known: {', '.join(CONNECTORS)}")
    return tuple(sorted(set(names)))


# A stage's `rendered_connectors` as configuration reads it (cdk.json, RENDERED_CONNECTORS).
RenderedConnectors = Annotated[tuple[str, ...], AfterValidator(connectors_named)]
