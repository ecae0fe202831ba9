"""What Concord's mappings send: each canonical event rendered, through the outbound mappers of
the connectors a configuration names (every connector by default), into the vendor requests they
produce (method, path, body), as stable text.

The mapping regression corpus (tests/regression) keeps these renderings as golden files, the
audit trail keeps the rendering made when an event was recorded, and `concord mappings diff`
compares that with what the current mappings render (docs/governance.md).
"""
