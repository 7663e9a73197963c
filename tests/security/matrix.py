"""Who gets what from every URL of the project: the authorisation matrix.

One row per URL pattern (a few patterns have a second row for another case, such as a draft
year). Each row names the objects to fill the pattern with, always A's or X's, and what each
of the ten people of `world.ROLES` gets (the last four are staff holding one staff role each:
`staff_page(...)` and `staff_posts(...)` name the roles a staff URL is for, the others get a
403):

- on GET, always;
- on POST, for URLs that take it: the answer for everyone the action is not for, who must be
  refused without anything changing. `OWN` marks the people the action is for; the matrix
  does not post as them (their own tests do) except to prove CSRF protection.

A URL pattern added to the project without a row here fails test_every_url_is_in_the_matrix.
"""

from collections.abc import Callable
from dataclasses import dataclass, fields, replace

from donations.models import grants_digest
from tests.security.world import World

LOGIN = "302 to the sign-in page, back here after"
ADMIN_LOGIN = "302 to the admin's sign-in page, back here after"
OWN = None  # the action is for this role: not posted by the matrix


@dataclass(frozen=True)
class Redirect:
    """302 to exactly this URL (a function of the world, or a string)."""

    to: Callable[[World], str] | str

    def url(self, world: World) -> str:
        return self.to if isinstance(self.to, str) else self.to(world)


Answer = int | str | Redirect | None


@dataclass(frozen=True)
class Answers:
    anonymous: Answer
    creator_a: Answer
    creator_b: Answer
    nonprofit_x: Answer
    nonprofit_y: Answer
    staff: Answer  # a superuser: every permission
    program_manager: Answer
    finance: Answer
    vetter: Answer
    auditor: Answer

    @classmethod
    def everyone(cls, answer: Answer) -> "Answers":
        return cls(*(answer,) * len(fields(cls)))

    def but(self, **changes: Answer) -> "Answers":
        return replace(self, **changes)

    def items(self) -> list[tuple[str, Answer]]:
        return [(f.name, getattr(self, f.name)) for f in fields(self)]


PUBLIC = Answers.everyone(200)
STAFF_MEMBERS = ("program_manager", "finance", "vetter", "auditor")
NO_STAFF = dict.fromkeys(STAFF_MEMBERS, 403)
# Every member of staff, whatever their roles (the dashboard).
STAFF_ONLY = Answers(
    anonymous=LOGIN,
    creator_a=403,
    creator_b=403,
    nonprofit_x=403,
    nonprofit_y=403,
    staff=200,
    **dict.fromkeys(STAFF_MEMBERS, 200),
)
CREATORS_ONLY = Answers(
    anonymous=LOGIN,
    creator_a=200,
    creator_b=200,
    nonprofit_x=403,
    nonprofit_y=403,
    staff=403,
    **NO_STAFF,
)
NONPROFITS_ONLY = Answers(
    anonymous=LOGIN,
    creator_a=403,
    creator_b=403,
    nonprofit_x=200,
    nonprofit_y=200,
    staff=403,
    **NO_STAFF,
)
SIGNED_IN = Answers.everyone(200).but(anonymous=LOGIN)
# GET of a POST-only view whose method check comes first (`@require_POST` outermost).
POST_ONLY = Answers.everyone(405)
# A staff action every member of staff may take, whatever their roles.
STAFF_POSTS = STAFF_ONLY.but(staff=OWN, **dict.fromkeys(STAFF_MEMBERS, OWN))
# A public form or action: everyone may post it.
ANYONE_POSTS = Answers.everyone(OWN)


def staff_page(*members: str) -> Answers:
    """A staff page the named members' roles may read (and the superuser); 403 for the
    other members of staff."""
    return STAFF_ONLY.but(**NO_STAFF | dict.fromkeys(members, 200))


def staff_posts(*members: str) -> Answers:
    """A staff action the named members' roles may take (and the superuser): the other
    members of staff are refused with a 403 and change nothing."""
    return STAFF_ONLY.but(staff=OWN, **NO_STAFF | dict.fromkeys(members, OWN))


PM, FINANCE, VETTER, AUDITOR = STAFF_MEMBERS
READERS = (PM, AUDITOR)  # what the program manager runs, the auditor reads
MONEY_READERS = (PM, FINANCE, AUDITOR)
CREATORS_POST = CREATORS_ONLY.but(creator_a=OWN, creator_b=OWN)
NONPROFITS_POST = NONPROFITS_ONLY.but(nonprofit_x=OWN, nonprofit_y=OWN)
ADMIN = Answers(
    anonymous=ADMIN_LOGIN,
    creator_a=ADMIN_LOGIN,
    creator_b=ADMIN_LOGIN,
    nonprofit_x=ADMIN_LOGIN,
    nonprofit_y=ADMIN_LOGIN,
    staff=200,
    **dict.fromkeys(STAFF_MEMBERS, 200),
)
# The admin takes POST on every page (forms, actions); only staff's are let through.
ADMIN_POSTS = ADMIN.but(staff=OWN)


def _none(world: World) -> dict:
    return {}


@dataclass(frozen=True)
class Url:
    name: str
    get: Answers
    post: Answers | None = None  # None: the URL refuses POST (405) for everyone allowed in
    kwargs: Callable[[World], dict] = _none
    data: Callable[[World], dict] = _none  # what the POSTs send
    query: str = ""
    case: str = ""  # tells apart two rows for one pattern
    # Also GET with `HX-Request: true` in the page checks (the view answers a fragment).
    htmx_fragment: bool = False

    @property
    def id(self) -> str:
        return f"{self.name}[{self.case}]" if self.case else self.name


def _year(world: World, edition: str = "draft") -> dict:
    return {"year": getattr(world, edition).year}


MATRIX: list[Url] = [
    # --- Public pages ----------------------------------------------------------------------
    Url(
        "favicon",
        get=Answers.everyone(Redirect("/static/img/favicon.svg")),
        post=ANYONE_POSTS,  # a RedirectView answers every method
    ),
    Url("creators:home", get=PUBLIC),
    Url("creators:list", get=Answers.everyone(Redirect("/list/2026/"))),  # the latest year
    Url(
        "creators:list-year",
        get=PUBLIC,
        kwargs=lambda w: _year(w, "published"),
        htmx_fragment=True,
    ),
    Url(
        "creators:list-year",
        case="draft",
        get=Answers.everyone(404),  # drafts are never public, not even to staff here
        kwargs=_year,
    ),
    Url("creators:creator-detail", get=PUBLIC, kwargs=lambda w: {"handle": w.creator_a.handle}),
    Url("creators:creator-photo", get=PUBLIC, kwargs=lambda w: {"handle": w.creator_a.handle}),
    Url("hub:program", get=PUBLIC),
    # The nonprofits the program supports: X is verified and paid; Y (never paid) and the
    # pending nonprofit have no public page, for anyone.
    Url("nonprofits:nonprofit-list", get=PUBLIC, htmx_fragment=True),
    Url("nonprofits:nonprofit-detail", get=PUBLIC, kwargs=lambda w: {"slug": w.nonprofit_x.slug}),
    Url(
        "nonprofits:nonprofit-detail",
        case="unpaid",
        get=Answers.everyone(404),
        kwargs=lambda w: {"slug": w.nonprofit_y.slug},
    ),
    Url(
        "nonprofits:nonprofit-detail",
        case="pending",
        get=Answers.everyone(404),
        kwargs=lambda w: {"slug": w.nonprofit_pending.slug},
    ),
    # Share images (PNG): a creator's and a nonprofit's exactly where their public page is.
    Url("share:program-image", get=PUBLIC),
    Url("share:creator-image", get=PUBLIC, kwargs=lambda w: {"handle": w.creator_a.handle}),
    Url(
        "share:creator-image",
        case="unknown",
        get=Answers.everyone(404),
        kwargs=lambda w: {"handle": "nobody.here"},
    ),
    Url("share:nonprofit-image", get=PUBLIC, kwargs=lambda w: {"slug": w.nonprofit_x.slug}),
    Url(
        "share:nonprofit-image",
        case="unpaid",
        get=Answers.everyone(404),
        kwargs=lambda w: {"slug": w.nonprofit_y.slug},
    ),
    Url(
        "share:nonprofit-image",
        case="pending",
        get=Answers.everyone(404),
        kwargs=lambda w: {"slug": w.nonprofit_pending.slug},
    ),
    Url("programs:apply", get=PUBLIC, post=ANYONE_POSTS),
    Url("programs:apply-done", get=PUBLIC),
    Url("healthz", get=PUBLIC),
    Url("healthz-live", get=PUBLIC),
    # The matrix asks from loopback, which may scrape; other networks without the token get a
    # 404 (tests/backoffice/test_metrics.py).
    Url("metrics", get=PUBLIC),
    Url(
        "set_language",
        get=Answers.everyone(Redirect("/")),
        post=ANYONE_POSTS,
        data=lambda w: {"language": "fr", "next": "/"},
    ),
    # Not signed in, the language changes with a GET (no token on public pages).
    Url("language", get=Answers.everyone(Redirect("/")), post=Answers.everyone(405)),
    # --- Signing in ------------------------------------------------------------------------
    Url("login", get=PUBLIC, post=ANYONE_POSTS),
    Url("logout", get=Answers.everyone(405), post=ANYONE_POSTS),
    Url("password_reset", get=PUBLIC, post=ANYONE_POSTS),
    Url("password_reset_done", get=PUBLIC),
    Url(
        "password_reset_confirm",
        # Django keeps the token in the session and sends the browser on without it.
        get=Answers.everyone(Redirect(lambda w: f"/accounts/reset/{w.reset_uid}/set-password/")),
        post=ANYONE_POSTS,
        kwargs=lambda w: {"uidb64": w.reset_uid, "token": w.reset_token},
    ),
    Url("password_reset_complete", get=PUBLIC),
    Url(
        "invitation-accept",
        get=PUBLIC,  # the link is the credential: whoever holds it may set the password
        post=ANYONE_POSTS,
        kwargs=lambda w: dict(zip(("pk", "token"), w.invitation_path.split("/")[3:5], strict=True)),
    ),
    Url(
        "nonprofit:sign-in",
        get=PUBLIC.but(nonprofit_x=Redirect("/nonprofit/"), nonprofit_y=Redirect("/nonprofit/")),
        post=ANYONE_POSTS,
    ),
    Url("nonprofit:sign-in-sent", get=PUBLIC),
    Url(
        "nonprofit:link",
        get=PUBLIC,  # shows a button; only its POST signs in
        post=ANYONE_POSTS,
        kwargs=lambda w: dict(zip(("pk", "token"), w.link_x_path.split("/")[3:5], strict=True)),
    ),
    # --- Two-factor sign-in: nobody in the world has a second factor -----------------------
    Url("twofactor:security", get=SIGNED_IN),
    # --- One's own settings: no id in the URL, so nobody reaches another's ------------------
    Url(
        "preferences",
        get=SIGNED_IN,
        post=Answers.everyone(OWN).but(anonymous=LOGIN),
        data=lambda w: {"time_zone": "Pacific/Auckland", "language": "fr"},
    ),
    Url(
        "twofactor:verify",
        # Nothing to ask for: on to where they were going (their start page).
        get=Answers.everyone(Redirect("/")).but(
            anonymous=LOGIN,
            staff=Redirect("/staff/"),
            **dict.fromkeys(STAFF_MEMBERS, Redirect("/staff/")),
        ),
        post=Answers.everyone(OWN).but(anonymous=LOGIN),
        data=lambda w: {"code": "123456"},
    ),
    Url(
        "twofactor:setup",
        get=SIGNED_IN,
        post=Answers.everyone(OWN).but(anonymous=LOGIN),
        data=lambda w: {"code": "123456"},
    ),
    Url(
        "twofactor:recovery-codes",
        get=SIGNED_IN,
        # For anyone signed in with a second factor (tests/core/test_twofactor.py).
        post=Answers.everyone(OWN).but(anonymous=LOGIN),
    ),
    Url(
        "twofactor:device-remove",
        get=POST_ONLY,
        post=Answers.everyone(OWN).but(anonymous=LOGIN),
        kwargs=lambda w: {"kind": "app", "pk": 1},
    ),
    Url("twofactor-staff:list", get=STAFF_ONLY),
    Url(
        "twofactor-staff:reset",
        get=POST_ONLY,
        post=STAFF_POSTS,
        kwargs=lambda w: {"user_id": w.creator_a.user.pk},
        data=lambda w: {"reason": "Taken over."},
    ),
    # django-otp-webauthn's passkey ceremony (JSON, POST only); no passwordless sign-in.
    *(
        Url(
            f"otp_webauthn:credential-{step}",
            # Who may take part is checked before the method: strangers get 403 either way.
            get=Answers.everyone(405).but(anonymous=403),
            post=Answers.everyone(OWN).but(anonymous=403),
        )
        for step in (
            "registration-begin",
            "registration-complete",
            "authentication-begin",
            "authentication-complete",
        )
    ),
    Url("otp_webauthn:js-i18n-catalog", get=PUBLIC),
    # --- The creator's portal: A's objects, so B is refused --------------------------------
    Url("programs:portal", get=CREATORS_ONLY),
    Url(
        "creators:profile-edit",
        get=CREATORS_ONLY,
        post=CREATORS_POST,
        data=lambda w: {"display_name": "Hijacked", "handle": "hijacked", "country": "KE"},
    ),
    Url(
        "creators:consent-edit",
        get=CREATORS_ONLY,
        post=CREATORS_POST,
        data=lambda w: {"public_fields": ["bio", "country"], "agree": "on"},
    ),
    Url("creators:consent-withdraw", get=POST_ONLY, post=CREATORS_POST),
    Url(
        "programs:portal-milestone",
        get=CREATORS_ONLY.but(creator_b=404),
        post=CREATORS_POST.but(creator_b=404),
        kwargs=lambda w: {"pk": w.milestone_a.pk},
        data=lambda w: {"body": "Written by someone else."},
    ),
    Url(
        "programs:portal-enrolment-accept",
        get=POST_ONLY,
        post=CREATORS_POST.but(creator_b=404),
        kwargs=lambda w: {"pk": w.offered_a.pk},
    ),
    Url(
        "programs:update-attachment",
        get=Answers(
            anonymous=LOGIN,
            creator_a=200,
            creator_b=404,
            nonprofit_x=404,
            nonprofit_y=404,
            staff=200,
            # Who reviews the milestone, and who reads everything.
            **NO_STAFF | {"program_manager": 200, "auditor": 200},
        ),
        kwargs=lambda w: {"pk": w.update_a.pk},
    ),
    Url(
        "programs:tiktok-thumbnail",
        get=Answers(
            anonymous=LOGIN,
            creator_a=200,
            creator_b=404,
            nonprofit_x=404,
            nonprofit_y=404,
            staff=200,
            # As the update's attachment: who reviews the milestone, and who reads everything.
            **NO_STAFF | {"program_manager": 200, "auditor": 200},
        ),
        kwargs=lambda w: {"pk": w.video_a.pk},
    ),
    Url(
        "programs:portal-update-highlight",
        get=POST_ONLY,
        post=CREATORS_POST.but(creator_b=404),
        kwargs=lambda w: {"pk": w.update_a.pk},
        data=lambda w: {"wish": "show"},
    ),
    Url("programs:portal-opportunity-list", get=CREATORS_ONLY),
    Url(
        "programs:portal-opportunity-signup",
        get=POST_ONLY,
        post=CREATORS_POST,  # each signs themselves up: the person is never in the request
        kwargs=lambda w: {"pk": w.opportunity.pk},
    ),
    Url(
        "programs:portal-opportunity-withdraw",
        get=POST_ONLY,
        post=CREATORS_POST.but(creator_b=404),  # B holds no place: A's is out of reach
        kwargs=lambda w: {"pk": w.opportunity.pk},
    ),
    Url("portal-donations:status", get=CREATORS_ONLY),
    Url(
        "portal-donations:nominate",
        get=CREATORS_ONLY,
        post=CREATORS_POST,
        data=lambda w: {"choice": "verified", "nonprofit": w.nonprofit_y.pk},
    ),
    # --- The nonprofit's pages: X's grants, so Y is refused --------------------------------
    Url("nonprofit:grant-list", get=NONPROFITS_ONLY),
    Url(
        "nonprofit:grant-detail",
        get=NONPROFITS_ONLY.but(nonprofit_y=404),
        kwargs=lambda w: {"pk": w.paid_x.pk},
    ),
    Url(
        "nonprofit:grant-confirm-receipt",
        get=POST_ONLY,
        post=NONPROFITS_POST.but(nonprofit_y=404),
        kwargs=lambda w: {"pk": w.paid_x.pk},
    ),
    Url(
        "nonprofit:grant-receipt",
        get=NONPROFITS_ONLY.but(nonprofit_y=404),
        kwargs=lambda w: {"pk": w.paid_x.pk},
    ),
    Url(
        "nonprofit:grant-receipt-pdf",
        get=NONPROFITS_ONLY.but(nonprofit_y=404),
        kwargs=lambda w: {"pk": w.paid_x.pk},
    ),
    Url(
        "nonprofit:details",
        get=NONPROFITS_ONLY,
        post=NONPROFITS_POST,
        data=lambda w: {"section": "payout", "payout-payout_reference": "acct-thief-0001"},
    ),
    Url("nonprofit:payouts", get=NONPROFITS_ONLY),
    Url(
        "nonprofit:public-page",
        get=NONPROFITS_ONLY,
        post=NONPROFITS_POST,
        data=lambda w: {"description": "Written by someone else."},
    ),
    # Each contact onboards their own nonprofit (no id in the URL): their own tests post.
    Url("nonprofit:payouts-setup", get=POST_ONLY, post=NONPROFITS_POST),
    Url("nonprofit:payouts-manage", get=POST_ONLY, post=NONPROFITS_POST),
    Url("nonprofit:opportunity-list", get=NONPROFITS_ONLY),
    Url(
        "nonprofit:opportunity-signup",
        get=POST_ONLY,
        post=NONPROFITS_POST,
        kwargs=lambda w: {"pk": w.opportunity.pk},
    ),
    Url(
        "nonprofit:opportunity-withdraw",
        get=POST_ONLY,
        post=NONPROFITS_POST.but(nonprofit_y=404),  # Y holds no place: X's is out of reach
        kwargs=lambda w: {"pk": w.opportunity.pk},
    ),
    # Stripe's webhooks: no session, no CSRF; an unsigned POST is a 400 for everyone.
    Url("webhooks:stripe", get=POST_ONLY, post=Answers.everyone(400)),
    Url(
        "nonprofit:password",
        get=NONPROFITS_ONLY,
        post=NONPROFITS_POST,
        data=lambda w: {
            "new_password1": "a long new passphrase 7",
            "new_password2": "a long new passphrase 7",
        },
    ),
    # --- Staff: dashboard, exports, grants, batches, funds ---------------------------------
    Url("backoffice:dashboard", get=STAFF_ONLY, htmx_fragment=True),
    Url("backoffice:export-list", get=staff_page(PM, FINANCE, AUDITOR)),
    Url("backoffice:export-creators", get=staff_page(*READERS)),
    Url("backoffice:export-milestones", get=staff_page(*READERS)),
    Url("backoffice:export-grants", get=staff_page(*MONEY_READERS)),
    Url("backoffice:export-list-entries", get=staff_page(*READERS)),
    Url("donations:grant-list", get=staff_page(*MONEY_READERS), htmx_fragment=True),
    Url(
        "donations:grant-create",
        get=staff_page(PM),
        post=staff_posts(PM),
        data=lambda w: {
            "fund": w.fund.pk,
            "nonprofit": w.nonprofit_x.pk,
            "amount": "1000",
            "purpose": "x",
        },
    ),
    Url(
        "donations:grants-schedule",
        get=POST_ONLY,
        post=staff_posts(FINANCE),
        # As the review sends it: the ids and the digest of the grants as reviewed.
        data=lambda w: {"grants": [w.approved_x.pk], "expected": grants_digest([w.approved_x])},
    ),
    # The review before paying: what it would pay, no money moves.
    Url("donations:grants-review", get=staff_page(FINANCE)),
    Url(
        "donations:grant-detail",
        get=staff_page(*MONEY_READERS),
        kwargs=lambda w: {"pk": w.paid_x.pk},
    ),
    Url(
        "donations:grant-payment-advice",
        get=staff_page(*MONEY_READERS),
        kwargs=lambda w: {"pk": w.paid_x.pk},
    ),
    Url(
        "donations:grant-approve",
        get=POST_ONLY,
        post=staff_posts(FINANCE),
        kwargs=lambda w: {"pk": w.proposed_x.pk},
    ),
    Url(
        "donations:grant-cancel",
        get=staff_page(FINANCE),  # its confirmation
        post=staff_posts(FINANCE),
        kwargs=lambda w: {"pk": w.approved_x.pk},
        data=lambda w: {"reason": "Not needed."},
    ),
    Url(
        "donations:grant-retry",
        get=POST_ONLY,
        post=staff_posts(FINANCE),
        kwargs=lambda w: {"pk": w.approved_x.pk},
    ),
    Url(
        "donations:grant-payout-details-ask",
        get=POST_ONLY,
        post=staff_posts(FINANCE),
        kwargs=lambda w: {"pk": w.approved_x.pk},
    ),
    Url(
        "donations:grant-release-hold",
        get=POST_ONLY,
        post=staff_posts(FINANCE),
        kwargs=lambda w: {"pk": w.approved_x.pk},
    ),
    Url(
        "donations:grant-outcome-record",
        get=POST_ONLY,
        post=staff_posts(FINANCE),
        kwargs=lambda w: {"pk": w.approved_x.pk},
        data=lambda w: {"outcome": "not_paid", "note": "Phoned the provider."},
    ),
    Url(
        "donations:grant-reversal-close",
        get=POST_ONLY,
        post=staff_posts(FINANCE),
        kwargs=lambda w: {"pk": w.paid_x.pk},
        data=lambda w: {"reason": "The nonprofit closed its account."},
    ),
    Url("donations:batch-list", get=staff_page(*MONEY_READERS)),
    Url(
        "donations:batch-detail",
        get=staff_page(*MONEY_READERS),
        kwargs=lambda w: {"pk": w.batch.pk},
    ),
    Url(
        "donations:batch-lines-csv",
        get=staff_page(*MONEY_READERS),
        kwargs=lambda w: {"pk": w.batch.pk},
    ),
    # Bank transfers by hand: full bank details for finance and the auditor only.
    Url(
        "donations:batch-instructions-csv",
        get=staff_page(FINANCE, AUDITOR),
        kwargs=lambda w: {"pk": w.bank_batch.pk},
    ),
    Url(
        "donations:batch-instructions-xml",
        get=staff_page(FINANCE, AUDITOR),
        kwargs=lambda w: {"pk": w.bank_batch.pk},
    ),
    Url(
        "donations:instruction-record-sent",
        get=POST_ONLY,
        post=staff_posts(FINANCE),
        kwargs=lambda w: {"pk": w.bank_instruction.pk},
        data=lambda w: {"bank_reference": "FT-MATRIX-1"},
    ),
    Url(
        "donations:batch-release-hold",
        get=POST_ONLY,
        post=staff_posts(FINANCE),
        kwargs=lambda w: {"pk": w.batch.pk},
    ),
    Url("donations:fund-list", get=staff_page(*MONEY_READERS)),
    Url(
        "donations:fund-overspend-resolve",
        get=POST_ONLY,
        post=staff_posts(FINANCE),
        kwargs=lambda w: {"pk": w.fund.pk},
        data=lambda w: {"note": "Covered by the reserve."},
    ),
    # --- Staff: nonprofits, contacts, payout changes ---------------------------------------
    Url(
        "donations:nonprofit-list", get=staff_page(PM, FINANCE, VETTER, AUDITOR), htmx_fragment=True
    ),
    Url(
        "donations:nonprofit-create",
        get=staff_page(PM, VETTER),
        post=staff_posts(PM, VETTER),
        data=lambda w: {
            "legal_name": "Shell Company",
            "registration_number": "S-1",
            "country": "KE",
            "contact_email": "shell@example.org",
        },
    ),
    Url(
        "donations:nonprofit-verify",
        get=POST_ONLY,
        post=staff_posts(VETTER),
        kwargs=lambda w: {"pk": w.nonprofit_pending.pk},
    ),
    Url(
        "donations:nonprofit-reject",
        get=staff_page(VETTER),  # its confirmation
        post=staff_posts(VETTER),
        kwargs=lambda w: {"pk": w.nonprofit_pending.pk},
        data=lambda w: {"reason": "Unknown."},
    ),
    Url(
        "donations:nonprofit-payout-change",
        get=POST_ONLY,
        post=staff_posts(VETTER),
        kwargs=lambda w: {"pk": w.nonprofit_pending.pk},
        data=lambda w: {"payout_reference": "acct-matrix-0001"},
    ),
    Url(
        "donations:nonprofit-payouts",
        get=staff_page(PM, FINANCE, VETTER, AUDITOR),
        kwargs=lambda w: {"pk": w.nonprofit_x.pk},
    ),
    Url(
        "donations:nonprofit-payout-method",
        get=POST_ONLY,
        post=staff_posts(VETTER),
        kwargs=lambda w: {"pk": w.nonprofit_pending.pk},
        data=lambda w: {"payout_method": "bank_transfer"},
    ),
    Url(
        "donations:nonprofit-bank-details",
        get=POST_ONLY,
        post=staff_posts(VETTER),
        kwargs=lambda w: {"pk": w.nonprofit_pending.pk},
        data=lambda w: {
            "bank-bank_account_holder": "Thief",
            "bank-bank_account_number": "GB82WEST12345698765432",
            "bank-bank_bic": "NWBKGB2L",
            "bank-bank_country": "GB",
        },
    ),
    Url(
        "donations:nonprofit-public-page",
        get=staff_page(PM, FINANCE, VETTER, AUDITOR),
        kwargs=lambda w: {"pk": w.nonprofit_x.pk},
    ),
    Url(
        "donations:nonprofit-description-approve",
        get=POST_ONLY,
        post=staff_posts(VETTER),
        kwargs=lambda w: {"pk": w.nonprofit_x.pk},
    ),
    Url(
        "donations:nonprofit-description-decline",
        get=POST_ONLY,
        post=staff_posts(VETTER),
        kwargs=lambda w: {"pk": w.nonprofit_x.pk},
        data=lambda w: {"reason": "Not about you."},
    ),
    Url(
        "donations:nonprofit-causes",
        get=POST_ONLY,
        post=staff_posts(VETTER),
        kwargs=lambda w: {"pk": w.nonprofit_x.pk},
        data=lambda w: {"causes": ["health"]},
    ),
    Url(
        "donations:nonprofit-contacts",
        get=staff_page(VETTER, AUDITOR),
        post=staff_posts(VETTER),
        kwargs=lambda w: {"pk": w.nonprofit_x.pk},
        data=lambda w: {"email": "intruder@example.org", "name": "Intruder", "language": "en"},
    ),
    Url(
        "donations:contact-send-link",
        get=POST_ONLY,
        post=staff_posts(VETTER),
        kwargs=lambda w: {"pk": w.nonprofit_x.pk, "contact_pk": w.contact_x.pk},
    ),
    Url(
        "donations:contact-revoke-links",
        get=POST_ONLY,
        post=staff_posts(VETTER),
        kwargs=lambda w: {"pk": w.nonprofit_x.pk, "contact_pk": w.contact_x.pk},
    ),
    Url("donations:payout-change-list", get=staff_page(FINANCE, VETTER, AUDITOR)),
    Url(
        "donations:payout-change-approve",
        get=POST_ONLY,
        post=staff_posts(FINANCE),
        kwargs=lambda w: {"pk": w.payout_change_x.pk},
    ),
    Url(
        "donations:payout-change-reject",
        get=POST_ONLY,
        post=staff_posts(FINANCE),
        kwargs=lambda w: {"pk": w.payout_change_x.pk},
        data=lambda w: {"reason": "No."},
    ),
    # --- Staff: cohorts, reviews, applications ----------------------------------------------
    Url("programs:cohort-list", get=staff_page(*READERS)),
    Url(
        "programs:cohort-create",
        get=staff_page(PM),
        post=staff_posts(PM),
        data=lambda w: {"name": "Rogue", "start_date": "2027-09-01", "capacity": "10"},
    ),
    Url(
        "programs:cohort-detail",
        get=staff_page(*READERS),
        kwargs=lambda w: {"pk": w.cohort.pk},
        htmx_fragment=True,
    ),
    Url("donations:grant-nonprofit-search", get=staff_page(PM), query="nonprofit_q=ab"),
    Url("donations:grant-creator-search", get=staff_page(PM), query="creator_q=ch"),
    Url(
        "programs:cohort-transition",
        get=staff_page(PM),  # completing's confirmation
        post=staff_posts(PM),
        kwargs=lambda w: {"pk": w.cohort.pk, "action": "complete"},
    ),
    Url(
        "programs:cohort-creator-search",
        get=staff_page(PM),
        kwargs=lambda w: {"pk": w.cohort.pk},
        query="creator_q=ch",
    ),
    Url(
        "programs:cohort-invite",
        get=POST_ONLY,
        post=staff_posts(PM),
        kwargs=lambda w: {"pk": w.cohort.pk},
        data=lambda w: {"creator": w.invited_c.creator.pk, "email": "chidi@creators.example"},
    ),
    Url(
        "programs:cohort-invite-new",
        get=POST_ONLY,
        post=staff_posts(PM),
        kwargs=lambda w: {"pk": w.next_cohort.pk},
        data=lambda w: {
            "display_name": "Eve",
            "handle": "eve.x",
            "email": "eve@example.org",
            "country": "KE",
            "causes": ["education"],
        },
    ),
    Url(
        "programs:enrolment-invitation-resend",
        get=POST_ONLY,
        post=staff_posts(PM),
        kwargs=lambda w: {"pk": w.invited_c.pk},
    ),
    Url(
        "programs:enrolment-transition",
        get=staff_page(PM),  # withdrawing's confirmation
        post=staff_posts(PM),
        kwargs=lambda w: {"pk": w.enrolment_a.pk, "action": "withdraw"},
        data=lambda w: {"reason": "Removed."},
    ),
    Url("programs:review-list", get=staff_page(*READERS)),
    Url(
        "programs:milestone-review",
        get=staff_page(*READERS),
        post=staff_posts(PM),
        kwargs=lambda w: {"pk": w.milestone_a.pk},
        data=lambda w: {"decision": "approve", "feedback": "Fine."},
    ),
    Url(
        "programs:update-highlight-review",
        get=POST_ONLY,
        post=staff_posts(PM),
        kwargs=lambda w: {"pk": w.update_a.pk},
        data=lambda w: {f"highlight-{w.update_a.pk}-decision": "approve"},
    ),
    Url("programs:indicator-list", get=staff_page(*READERS)),
    Url(
        "programs:indicator-create",
        get=staff_page(PM),
        post=staff_posts(PM),
        data=lambda w: {"name": "Rogue", "unit": "x", "aggregation": "sum", "position": "0"},
    ),
    Url(
        "programs:indicator-edit",
        get=staff_page(*READERS),
        post=staff_posts(PM),
        kwargs=lambda w: {"pk": w.indicator.pk},
        data=lambda w: {"name": "Rogue", "unit": "x", "aggregation": "max", "position": "0"},
    ),
    Url(
        "programs:impact-value-correct",
        get=POST_ONLY,
        post=staff_posts(PM),
        kwargs=lambda w: {"pk": w.value_a.pk},
        data=lambda w: {"amount": "1", "reason": "Rogue"},
    ),
    Url("programs:opportunity-list", get=staff_page(*READERS)),
    Url(
        "programs:opportunity-create",
        get=staff_page(PM),
        post=staff_posts(PM),
        data=lambda w: {
            "title_en": "Rogue",
            "description_en": "Rogue",
            "kind": "event",
            "audience": "both",
            "starts_at": "2099-01-01T10:00",
            "place": "Anywhere",
            "capacity": "5",
            "signups_close_on": "2098-12-31",
        },
    ),
    Url(
        "programs:opportunity-detail",
        get=staff_page(*READERS),
        kwargs=lambda w: {"pk": w.opportunity.pk},
    ),
    Url(
        "programs:opportunity-edit",
        get=staff_page(PM),
        post=staff_posts(PM),
        kwargs=lambda w: {"pk": w.opportunity.pk},
        data=lambda w: {"title_en": "Rogue", "capacity": "2"},
    ),
    Url(
        "programs:opportunity-publish",
        get=POST_ONLY,
        post=staff_posts(PM),
        kwargs=lambda w: {"pk": w.opportunity.pk},
    ),
    Url(
        "programs:opportunity-cancel",
        get=POST_ONLY,
        post=staff_posts(PM),
        kwargs=lambda w: {"pk": w.opportunity.pk},
        data=lambda w: {"reason": "Rogue"},
    ),
    Url(
        "programs:opportunity-signups-csv",
        get=staff_page(*READERS),
        kwargs=lambda w: {"pk": w.opportunity.pk},
    ),
    Url(
        "programs:opportunity-attendance",
        get=POST_ONLY,
        post=staff_posts(PM),
        kwargs=lambda w: {"pk": w.signup_a.pk},
        data=lambda w: {"attended": "no"},
    ),
    Url("programs:application-list", get=staff_page(*READERS)),
    Url(
        "programs:application-detail",
        get=staff_page(*READERS),
        post=staff_posts(PM),
        kwargs=lambda w: {"pk": w.application.pk},
        data=lambda w: {"decision": "decline", "message": "No."},
    ),
    # --- Staff: the yearly list editions and the program page ------------------------------
    Url("creators:edition-list", get=staff_page(*READERS)),
    Url(
        "creators:edition-create",
        get=staff_page(PM),
        post=staff_posts(PM),
        data=lambda w: {"year": "2031", "title": "Rogue list"},
    ),
    Url("creators:edition-import-template", get=staff_page(PM)),
    Url("creators:edition-detail", get=staff_page(*READERS), kwargs=_year),
    Url(
        "creators:edition-edit",
        get=POST_ONLY,
        post=staff_posts(PM),
        kwargs=_year,
        data=lambda w: {"title": "Renamed", "introduction": ""},
    ),
    Url(
        "creators:edition-entry-add",
        get=POST_ONLY,
        post=staff_posts(PM),
        kwargs=_year,
        data=lambda w: {"handle": w.creator_b.handle, "cause": "education", "citation": "x"},
    ),
    Url(
        "creators:edition-creator-search",
        get=staff_page(PM),
        kwargs=_year,
        query="creator_q=bru",
    ),
    Url(
        "creators:edition-entry-edit",
        get=staff_page(PM),
        post=staff_posts(PM),
        kwargs=lambda w: {"year": w.draft.year, "pk": w.draft_entry_a.pk},
        data=lambda w: {"country": "KE", "cause": "health", "citation": "Edited.", "position": 1},
    ),
    Url(
        "creators:edition-entry-remove",
        get=POST_ONLY,
        post=staff_posts(PM),
        kwargs=lambda w: {"year": w.draft.year, "pk": w.draft_entry_a.pk},
    ),
    Url(
        "creators:edition-entry-move",
        get=POST_ONLY,
        post=staff_posts(PM),
        kwargs=lambda w: {"year": w.draft.year, "pk": w.draft_entry_a.pk, "direction": "down"},
    ),
    Url("creators:edition-import", get=staff_page(PM), post=staff_posts(PM), kwargs=_year),
    Url("creators:edition-preview", get=staff_page(*READERS), kwargs=_year),
    Url("creators:edition-publish", get=staff_page(PM), post=staff_posts(PM), kwargs=_year),
    Url("creators:edition-consent-remind", get=POST_ONLY, post=staff_posts(PM), kwargs=_year),
    Url(
        "creators:edition-unpublish",
        get=staff_page(PM),
        post=staff_posts(PM),
        kwargs=lambda w: _year(w, "published"),
        data=lambda w: {"reason": "Gone."},
    ),
    # --- Staff: outbound webhooks (program managers manage, the auditor reads) ---------------
    Url("outbound:endpoint-list", get=staff_page(*READERS)),
    Url(
        "outbound:endpoint-create",
        get=staff_page(PM),
        post=staff_posts(PM),
        data=lambda w: {
            "name": "Rogue",
            "url": "https://rogue.example/hooks",
            "events": ["grant.disbursed"],
        },
    ),
    Url(
        "outbound:endpoint-detail",
        get=staff_page(*READERS),
        kwargs=lambda w: {"pk": w.endpoint.pk},
        htmx_fragment=True,
    ),
    Url(
        "outbound:endpoint-edit",
        get=staff_page(PM),
        post=staff_posts(PM),
        kwargs=lambda w: {"pk": w.endpoint.pk},
        data=lambda w: {
            "name": "Hijacked",
            "url": "https://rogue.example/hooks",
            "events": ["grant.disbursed"],
        },
    ),
    *(
        Url(
            f"outbound:endpoint-{action}",
            get=POST_ONLY,
            post=staff_posts(PM),
            kwargs=lambda w: {"pk": w.endpoint.pk},
        )
        for action in ("secret", "switch-off", "switch-on", "test")
    ),
    Url(
        "outbound:delivery-detail",
        get=staff_page(*READERS),
        kwargs=lambda w: {"pk": w.delivery.pk},
    ),
    Url(
        "outbound:delivery-resend",
        get=POST_ONLY,
        post=staff_posts(PM),
        kwargs=lambda w: {"pk": w.delivery.pk},
    ),
    Url(
        "backoffice:hub-edit",
        get=staff_page(PM),
        post=staff_posts(PM),
        data=lambda w: {"title": "Defaced", "hashtag": "#x", "introduction": "x", "body": "x"},
    ),
    # Personal data: program managers ask and approve (never their own request); the auditor
    # reads the requests; only the requester and the approver download an export.
    Url(
        "backoffice:personal-data",
        get=staff_page(PM, AUDITOR),
        post=staff_posts(PM),
        data=lambda w: {"handle": w.creator_b.handle, "kind": "erasure", "reason": "x"},
    ),
    Url(
        "backoffice:personal-data-approve",
        get=POST_ONLY,
        post=staff_posts(PM),
        kwargs=lambda w: {"pk": w.data_request_b.pk},
    ),
    Url(
        "backoffice:personal-data-reject",
        get=POST_ONLY,
        post=staff_posts(PM),
        kwargs=lambda w: {"pk": w.data_request_b.pk},
        data=lambda w: {"reason": "x"},
    ),
    Url(
        "backoffice:personal-data-download",
        # The superuser asked, the program manager approved: the two of them only.
        get=staff_page(PM),
        kwargs=lambda w: {"pk": w.data_export_a.pk},
    ),
]


# --- The REST API: integrations sign in with a token, never a session ---------------------
# A page or action of the API answers a signed-in browser as it answers anyone without a
# token: 401 (the API's own tests, tests/api/, send tokens). Its schema and documentation
# are public.
NO_TOKEN = Answers.everyone(401)


def _api(name: str, **kwargs) -> Url:
    return Url(f"api:{name}", get=NO_TOKEN, post=NO_TOKEN, **kwargs)


def _pk(attribute: str) -> Callable[[World], dict]:
    return lambda w: {"pk": getattr(w, attribute).pk}


MATRIX += [
    Url("integrations:list", get=staff_page(PM, AUDITOR)),
    Url(
        "integrations:create",
        get=staff_page(PM),
        post=staff_posts(PM),
        data=lambda w: {"name": "Rogue", "kind": "staff", "roles": ["Program manager"]},
    ),
    Url("integrations:detail", get=staff_page(PM, AUDITOR), kwargs=_pk("integration")),
    Url(
        "integrations:token-issue",
        get=staff_page(PM),
        post=staff_posts(PM),
        kwargs=_pk("integration"),
        data=lambda w: {"scope": "write", "label": "Rogue"},
    ),
    Url(
        "integrations:token-revoke",
        get=POST_ONLY,
        post=staff_posts(PM),
        kwargs=lambda w: {"pk": w.integration.pk, "token_pk": w.api_token.pk},
    ),
    Url("api:schema", get=PUBLIC),
    Url("api:docs", get=PUBLIC),
    Url("api:not-found", get=Answers.everyone(404), post=Answers.everyone(404)),
    *(_api(f"{name}-list") for name in ("creator", "edition", "cohort", "enrolment")),
    *(_api(f"{name}-list") for name in ("milestone", "nonprofit", "fund", "grant")),
    _api("creator-detail", kwargs=lambda w: {"pk": w.creator_a.pk}),
    _api("edition-detail", kwargs=lambda w: {"year": w.published.year}),
    _api("edition-entries", kwargs=lambda w: {"year": w.published.year}),
    _api("cohort-detail", kwargs=_pk("cohort")),
    _api("cohort-invite", kwargs=_pk("cohort")),
    _api("enrolment-detail", kwargs=_pk("enrolment_a")),
    _api("milestone-detail", kwargs=_pk("milestone_a")),
    _api("nonprofit-detail", kwargs=_pk("nonprofit_x")),
    _api("fund-detail", kwargs=_pk("fund")),
    _api("grant-detail", kwargs=_pk("paid_x")),
    _api("grant-approve", kwargs=_pk("proposed_x")),
    _api("grant-cancel", kwargs=_pk("approved_x")),
]


def admin_for(*members: str, answer: Answer = 200) -> Answers:
    """An admin page the named members of staff may open (their roles hold its model's
    permission); 403 for the others."""
    return ADMIN.but(**NO_STAFF | dict.fromkeys(members, answer))


# The admin is treated as a whole: a few of its pages stand for all of them. Only staff get
# in; everyone else is sent to the admin's own sign-in page. Inside, each member of staff
# sees the models their roles may read, and changes only those their roles may change: the
# auditor reads everything read-only, so nobody else's admin POST changes anything.
ADMIN_MATRIX: list[Url] = [
    Url("admin:index", get=ADMIN, post=ADMIN_POSTS),
    Url(
        "admin:login",
        get=PUBLIC.but(
            staff=Redirect("/admin/"), **dict.fromkeys(STAFF_MEMBERS, Redirect("/admin/"))
        ),
        post=ANYONE_POSTS,
    ),
    Url(
        "admin:logout",
        # The admin sends whoever is not staff to its index (then to its sign-in page).
        get=Answers.everyone(Redirect("/admin/")).but(
            staff=405, **dict.fromkeys(STAFF_MEMBERS, 405)
        ),
        post=ANYONE_POSTS,
    ),
    Url(
        "admin:donations_grant_changelist",
        get=admin_for(PM, FINANCE, AUDITOR),
        # An admin action on the ticked rows. Deleting is nobody's: those who read grants get
        # the list back (finance, who has actions of its own, is sent back to it).
        post=admin_for(PM, AUDITOR).but(staff=OWN, finance=Redirect("/admin/donations/grant/")),
        data=lambda w: {
            "action": "delete_selected",
            "_selected_action": [w.proposed_x.pk],
            "post": "yes",
        },
    ),
    Url(
        "admin:donations_grant_change",
        get=admin_for(PM, FINANCE, AUDITOR),  # read-only: a grant changes by its actions
        post=admin_for(answer=403).but(staff=OWN),
        kwargs=lambda w: {"object_id": w.proposed_x.pk},
        data=lambda w: {"purpose": "Changed through the admin"},
    ),
    Url(
        "admin:donations_paymentinstruction_change",
        get=admin_for(FINANCE, AUDITOR),  # read-only: recorded as sent on the batch's page
        post=admin_for(answer=403).but(staff=OWN),
        kwargs=lambda w: {"object_id": w.bank_instruction.pk},
        data=lambda w: {"bank_reference": "Changed through the admin"},
    ),
    Url(
        "admin:creators_creator_change",
        get=admin_for(PM, AUDITOR),
        post=admin_for(answer=403).but(staff=OWN, program_manager=OWN),
        kwargs=lambda w: {"object_id": w.creator_a.pk},
        data=lambda w: {"display_name": "Renamed through the admin"},
    ),
    Url(
        "admin:programs_progressupdate_changelist",
        get=admin_for(PM, AUDITOR),
        post=admin_for(PM, AUDITOR).but(staff=OWN),  # the list again, nothing to act on
    ),
    Url(
        "admin:auth_user_changelist",
        get=admin_for(AUDITOR),  # who holds which role
        post=admin_for(AUDITOR).but(staff=OWN),
    ),
    Url(
        "admin:auth_user_password_change",
        get=admin_for(),
        post=admin_for().but(staff=OWN),
        kwargs=lambda w: {"id": w.creator_a.user.pk},
        data=lambda w: {"password1": "taken over 12345", "password2": "taken over 12345"},
    ),
    # Their own password: every member of staff.
    Url(
        "admin:password_change",
        get=ADMIN,
        post=ADMIN.but(staff=OWN, **dict.fromkeys(STAFF_MEMBERS, OWN)),
    ),
]
