"""Staff roles (CONTRACT.md, "Staff roles") and what each may do."""

from __future__ import annotations

import enum


class StaffRole(enum.StrEnum):
    ADMIN = "admin"          # everything, staff accounts, the operation log
    LIBRARIAN = "librarian"  # catalogue, patrons, circulation, reports
    COUNTER = "counter"      # circulation and patron lookup at its branches
    STATS = "stats"          # statistics only, no personal data
    SIP2 = "sip2"            # a self-check terminal; logs in over SIP2 only


# Groups of roles used by route guards. The administrator is in every group.
CIRCULATION_ROLES = frozenset({StaffRole.ADMIN, StaffRole.LIBRARIAN, StaffRole.COUNTER})
PATRON_DATA_ROLES = CIRCULATION_ROLES
CATALOGUE_ROLES = frozenset({StaffRole.ADMIN, StaffRole.LIBRARIAN})
STATISTICS_ROLES = frozenset({StaffRole.ADMIN, StaffRole.LIBRARIAN, StaffRole.STATS})
ADMIN_ONLY = frozenset({StaffRole.ADMIN})
WEB_LOGIN_ROLES = frozenset(StaffRole) - {StaffRole.SIP2}
