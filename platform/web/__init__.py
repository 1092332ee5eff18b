"""The web layer: blueprints, templates and htmx partials over the domain."""
