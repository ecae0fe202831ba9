"""Connectors: one package per vendor system, implementing the ports in concord.ports."""
