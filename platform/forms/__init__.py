"""Forms domain: no web framework here."""
