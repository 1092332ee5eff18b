"""Identity domain: no web framework here."""
