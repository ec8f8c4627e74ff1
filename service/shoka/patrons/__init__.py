"""Patrons on the web: password login with lockout and legacy-hash upgrade, the signed session cookie, and the
patron's own account (my page), always read and changed through the staff database role."""
