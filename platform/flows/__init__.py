"""Flows domain: no web framework here."""
