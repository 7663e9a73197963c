"""Staff pages about nonprofits, funds, grants and payments, mounted under /staff/."""

from django.urls import path

from .views import batches, funds, grants, nonprofits, payout_changes, pickers, receipts

app_name = "donations"

urlpatterns = [
    path("grants/", grants.grant_list, name="grant-list"),
    path("grants/new/", grants.grant_create, name="grant-create"),
    path(
        "grants/new/nonprofits/",
        pickers.grant_nonprofit_search,
        name="grant-nonprofit-search",
    ),
    path("grants/new/creators/", pickers.grant_creator_search, name="grant-creator-search"),
    path("grants/schedule/", grants.grants_schedule, name="grants-schedule"),
    path("grants/schedule/review/", grants.grants_review, name="grants-review"),
    path("grants/<int:pk>/", grants.grant_detail, name="grant-detail"),
    path("grants/<int:pk>/approve/", grants.grant_approve, name="grant-approve"),
    path("grants/<int:pk>/cancel/", grants.grant_cancel, name="grant-cancel"),
    path("grants/<int:pk>/retry/", grants.grant_retry, name="grant-retry"),
    path(
        "grants/<int:pk>/ask-payout-details/",
        grants.grant_payout_details_ask,
        name="grant-payout-details-ask",
    ),
    path(
        "grants/<int:pk>/payment-advice/pdf/",
        receipts.grant_payment_advice,
        name="grant-payment-advice",
    ),
    path("grants/<int:pk>/release-hold/", grants.grant_release_hold, name="grant-release-hold"),
    path(
        "grants/<int:pk>/close-reversal/",
        grants.grant_reversal_close,
        name="grant-reversal-close",
    ),
    path(
        "grants/<int:pk>/record-outcome/",
        grants.grant_outcome_record,
        name="grant-outcome-record",
    ),
    path("batches/", batches.batch_list, name="batch-list"),
    path("batches/<int:pk>/", batches.batch_detail, name="batch-detail"),
    path("batches/<int:pk>/grants.csv", batches.batch_lines_csv, name="batch-lines-csv"),
    path(
        "batches/<int:pk>/transfers.csv",
        batches.batch_instructions_csv,
        name="batch-instructions-csv",
    ),
    path(
        "batches/<int:pk>/transfers.xml",
        batches.batch_instructions_xml,
        name="batch-instructions-xml",
    ),
    path(
        "transfers/<int:pk>/record-sent/",
        batches.instruction_record_sent,
        name="instruction-record-sent",
    ),
    path(
        "batches/<int:pk>/release-hold/",
        batches.batch_release_hold,
        name="batch-release-hold",
    ),
    path("funds/", funds.fund_list, name="fund-list"),
    path(
        "funds/<int:pk>/resolve-overspend/",
        funds.fund_overspend_resolve,
        name="fund-overspend-resolve",
    ),
    path("nonprofits/", nonprofits.nonprofit_list, name="nonprofit-list"),
    path("nonprofits/new/", nonprofits.nonprofit_create, name="nonprofit-create"),
    path("nonprofits/<int:pk>/verify/", nonprofits.nonprofit_verify, name="nonprofit-verify"),
    path("nonprofits/<int:pk>/reject/", nonprofits.nonprofit_reject, name="nonprofit-reject"),
    path(
        "nonprofits/<int:pk>/payout-change/",
        nonprofits.nonprofit_payout_change,
        name="nonprofit-payout-change",
    ),
    path("nonprofits/<int:pk>/payouts/", nonprofits.nonprofit_payouts, name="nonprofit-payouts"),
    path(
        "nonprofits/<int:pk>/payouts/method/",
        nonprofits.nonprofit_payout_method,
        name="nonprofit-payout-method",
    ),
    path(
        "nonprofits/<int:pk>/payouts/bank-details/",
        nonprofits.nonprofit_bank_details,
        name="nonprofit-bank-details",
    ),
    path("nonprofits/<int:pk>/contacts/", nonprofits.nonprofit_contacts, name="nonprofit-contacts"),
    path(
        "nonprofits/<int:pk>/public-page/",
        nonprofits.nonprofit_public_page,
        name="nonprofit-public-page",
    ),
    path(
        "nonprofits/<int:pk>/public-page/approve/",
        nonprofits.nonprofit_description_approve,
        name="nonprofit-description-approve",
    ),
    path(
        "nonprofits/<int:pk>/public-page/decline/",
        nonprofits.nonprofit_description_decline,
        name="nonprofit-description-decline",
    ),
    path(
        "nonprofits/<int:pk>/public-page/causes/",
        nonprofits.nonprofit_causes,
        name="nonprofit-causes",
    ),
    path(
        "nonprofits/<int:pk>/contacts/<int:contact_pk>/send-link/",
        nonprofits.contact_send_link,
        name="contact-send-link",
    ),
    path(
        "nonprofits/<int:pk>/contacts/<int:contact_pk>/revoke-links/",
        nonprofits.contact_revoke_links,
        name="contact-revoke-links",
    ),
    path("payout-changes/", payout_changes.payout_change_list, name="payout-change-list"),
    path(
        "payout-changes/<int:pk>/approve/",
        payout_changes.payout_change_approve,
        name="payout-change-approve",
    ),
    path(
        "payout-changes/<int:pk>/reject/",
        payout_changes.payout_change_reject,
        name="payout-change-reject",
    ),
]
