"""Stateful local sandboxes: SaaS vendors Concord cannot reach locally, played by small HTTP
servers that speak each vendor's documented API (shapes, errors, paging, limits).

A sandbox is a test double that must be able to disagree with a connector, so it shares no
code or models with `concord.connectors` and is checked against the vendor's documentation.

    python -m concord.local.sandboxes --host 127.0.0.1 --port 8780 --tenant crm=hubspot --tenant psa=kantata

`kit` is the machinery every vendor reuses (server, routing, record store, OAuth, request
budget, control API); each vendor package adds only its routes and schema.
"""
