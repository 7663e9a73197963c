from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DonationsConfig(AppConfig):
    name = "donations"
    verbose_name = _("Donations")

    def ready(self) -> None:
        from changemakers.core.emails import email_language_declare
        from changemakers.core.events import event_types_declare
        from changemakers.core.personal_data import personal_data_declare
        from changemakers.core.roles import (
            VIEW_EVERY_MODEL,
            Role,
            StaffRole,
            role_link_declare,
            staff_role_grants_declare,
        )
        from changemakers.core.timezones import time_zone_country_declare
        from changemakers.core.verbs import verbs_declare

        from .events import GrantEvent, NonprofitEvent, grant_event_data, nonprofit_event_data
        from .models import AuditVerb

        # Connects the receiver that reloads payout providers when their settings change.
        from .payouts import registry  # noqa: F401
        from .services.personal_data import (
            donations_data_collect,
            donations_data_erase,
            donations_data_refusal,
        )

        verbs_declare(AuditVerb)
        personal_data_declare(
            "donations",
            collect=donations_data_collect,
            erase=donations_data_erase,
            refusal=donations_data_refusal,
        )
        event_types_declare(GrantEvent, payload=grant_event_data)
        event_types_declare(NonprofitEvent, payload=nonprofit_event_data)
        role_link_declare(Role.NONPROFIT, "nonprofit_contact")
        # A nonprofit contact's time zone is first guessed from the nonprofit's country.
        time_zone_country_declare(_contact_country)
        # And their emails are in the language they chose as a contact.
        email_language_declare(_contact_language)
        # Whoever proposes a grant does not approve it, and whoever vets a nonprofit does not
        # pay it: three roles share the money's path, and the auditor reads it all.
        payments = ["view_grant", "view_disbursement", "view_disbursementbatch"]
        staff_role_grants_declare(
            "donations",
            {
                StaffRole.PROGRAM_MANAGER: [
                    "view_fund",
                    *payments,
                    "add_grant",  # proposing
                    "view_nonprofit",
                    # Program managers bring in the nonprofits creators nominate; a vetter,
                    # never the one who added it, verifies each.
                    "add_nonprofit",
                ],
                StaffRole.FINANCE_APPROVER: [
                    "view_fund",
                    "add_fund",
                    "change_fund",
                    *payments,
                    "approve_grant",
                    "schedule_grant",
                    "cancel_grant",
                    "view_sandboxpayment",
                    "view_nonprofit",
                    "view_payoutdetailschange",
                    "approve_payoutdetailschange",
                    # Bank transfers by hand: the instructions (full bank details), and
                    # recording a transfer as sent (never by whoever scheduled it).
                    "view_paymentinstruction",
                    "record_transfer",
                    "view_payoutfailure",
                ],
                StaffRole.NONPROFIT_VETTER: [
                    "view_nonprofit",
                    "add_nonprofit",
                    "change_nonprofit",
                    "verify_nonprofit",
                    # Which rail reaches the nonprofit; its unpaid grants are then held
                    # until a finance approver re-confirms each payee.
                    "set_payout_method",
                    "view_nonprofitcontact",
                    "add_nonprofitcontact",
                    "change_nonprofitcontact",
                    "view_nonprofitsigninlink",
                    "view_payoutdetailschange",
                ],
                StaffRole.AUDITOR: [VIEW_EVERY_MODEL],
            },
        )


def _contact_country(user) -> str | None:
    from .models import nonprofit_contact_of

    contact = nonprofit_contact_of(user)
    return contact.nonprofit.country.code if contact is not None else None


def _contact_language(user) -> str:
    from .models import nonprofit_contact_of

    contact = nonprofit_contact_of(user)
    return contact.language if contact is not None else ""
