"""Thin adapters between Concord's logic and AWS services (also what moto emulates)."""
