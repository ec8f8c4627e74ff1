"""The staff client's administration: staff accounts and the operation log (administrators), and every staff
member's own password page."""

from shoka.staff.account_pages import ACCOUNT_ROUTES
from shoka.staff.audit_pages import AUDIT_ROUTES
from shoka.staff.password_page import PASSWORD_ROUTES

ADMINISTRATION_ROUTES = [*ACCOUNT_ROUTES, *PASSWORD_ROUTES, *AUDIT_ROUTES]
