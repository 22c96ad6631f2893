"""Composition of the Open Badges 3.0 micro-credential from issuer, definition, learner and evidence."""
