"""The public catalogue (OPAC): search, records, patron login and my page, kiosk mode, and its static files.

Anonymous pages read through the public database role, which cannot see patrons; a logged-in patron's own data
is read and changed through the staff role, always scoped to the session's patron.
"""

from pathlib import Path

from litestar.datastructures import CacheControlHeader
from litestar.static_files import create_static_files_router

from shoka.opac.advanced import opac_advanced_search
from shoka.opac.detail import opac_place_hold, opac_record
from shoka.opac.home import opac_home
from shoka.opac.kiosk import opac_kiosk_form, opac_kiosk_switch
from shoka.opac.login import opac_login, opac_login_form, opac_logout, opac_logout_form, opac_session_keepalive
from shoka.opac.my_page import (opac_cancel_hold, opac_change_password, opac_change_pickup, opac_my_page,
                                opac_reading_record, opac_renew_loan)
from shoka.opac.search_page import opac_search

STATIC_FOLDER = Path(__file__).parents[1] / "web" / "static"

opac_static_files = create_static_files_router(
    path="/static", directories=[STATIC_FOLDER], name="opac_static",
    cache_control=CacheControlHeader(max_age=3600, public=True))

# Every OPAC page handler; app.py serves this list.
OPAC_ROUTES = [
    opac_home, opac_search, opac_advanced_search, opac_record, opac_place_hold,
    opac_login_form, opac_login, opac_logout_form, opac_logout, opac_session_keepalive,
    opac_my_page, opac_renew_loan, opac_cancel_hold, opac_change_pickup, opac_reading_record, opac_change_password,
    opac_kiosk_form, opac_kiosk_switch, opac_static_files,
]
