"""Pure domain model (no Flask): the issuer profile, the Annex I definition, EU vocabularies."""
