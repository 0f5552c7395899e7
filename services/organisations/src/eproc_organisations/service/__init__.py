"""Use cases of the organisations service, one module per area:

- :mod:`.directory`: browse, search, edit and bootstrap organisations (R-ORG-1..4);
- :mod:`.memberships`: grant, change, revoke, default organisation, guards (R-ROLE-*, R-MEM-*,
  R-REQ-8) and the Superuser functions (R-SU-1);
- :mod:`.approvals`: applying approved requests and recording dossier links and users.
"""
