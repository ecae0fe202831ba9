"""Concord's CDK app: one construct per concern, composed by ConcordStack."""
