"""The instructor's pages (``/instructor``): the course's credential definition and its
preview, the issued list and its actions, the dashboard, pending issuances."""
