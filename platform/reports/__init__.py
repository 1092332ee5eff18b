"""Reports domain: no web framework here."""
