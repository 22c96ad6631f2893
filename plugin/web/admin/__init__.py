"""The administrator's pages (``/admin``): awarding bodies and their keys, platforms and
registrations, the audit log, the issuance overview, catch-up syncs and badge designs."""
