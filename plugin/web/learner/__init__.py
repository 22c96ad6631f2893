"""The learner's pages (``/learner``): claiming and downloading a credential, its page,
wallet offers, the European Digital Credential export, pathways and the learner record."""
