"""Admin for nonprofits, funds, grants and disbursements.

Money never moves by hand here: committed and disbursed totals, grant states and
disbursements are read-only; nonprofits are verified or rejected and grants approved or
cancelled through actions that call the services. Disbursements are made by jobs.

One module per subject; importing them here registers their models when the admin
autodiscovers `donations.admin`.
"""

from . import funds, grants, nonprofits, payments

__all__ = ["funds", "grants", "nonprofits", "payments"]
