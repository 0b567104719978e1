"""Verification: vets new registrants and overrides their domains' name servers until verified."""
