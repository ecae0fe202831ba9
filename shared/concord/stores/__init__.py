"""Typed stores, one per DynamoDB table: the key layout written once, pydantic item models
validated on read, and the reads and writes flows and operator commands share.

  audit.AuditTrail        the sync audit trail (events, failures, deliveries, redrives, replays)
  registry.Registry       the cross-reference registry (concord.ports.CrossReferences)
  checkpoints.Checkpoints the change-capture poller's checkpoints

The vendor rate budget stays with the connector kit (concord.connectors.kit.budget); Powertools
owns the idempotency table.
"""
