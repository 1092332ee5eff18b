"""Tell people about things that need them: emails now, more channels later."""
