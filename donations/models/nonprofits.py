"""Nonprofits, the contacts who sign in for them with single-use links, and the payout-detail
changes contacts ask for."""

import datetime
import hashlib
import json
import re

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from changemakers.core.encryption import EncryptedCharField
from changemakers.core.models import AuditEvent, SingleUseLink, TimeStampedModel, person_field
from changemakers.core.roles import linked
from changemakers.core.search import matching
from changemakers.core.verbs import KernelVerb
from creators.models import Cause, creator_of, validate_causes


class NonprofitQuerySet(models.QuerySet):
    def verified(self) -> "NonprofitQuerySet":
        return self.filter(verification_status=Nonprofit.Verification.VERIFIED)

    def supported(self) -> "NonprofitQuerySet":
        """What the public pages show: verified nonprofits the program has paid, at least one
        grant disbursed and not taken back in full (`GrantQuerySet.paid_out`)."""
        from .grants import Grant

        return self.verified().filter(
            Exists(Grant.objects.paid_out().filter(nonprofit=OuterRef("pk")))
        )

    def with_cause(self, cause: str) -> "NonprofitQuerySet":
        # Causes are a JSON list of codes; the quoted code is unique text in it on any database.
        return self.filter(causes__icontains=f'"{cause}"')

    def matching(self, text: str) -> "NonprofitQuerySet":
        """Nonprofits whose legal name or registration number contains `text` (folded, see
        changemakers.core.search.search_text), those starting with it first."""
        return matching(self, text, "legal_name", "registration_number", order=("legal_name",))


class PayoutMethod(models.TextChoices):
    """How a nonprofit is paid: through the program's electronic payout provider
    (settings.PAYOUT_PROVIDER: Stripe, the sandbox...), or by a bank transfer that finance
    makes by hand from payment instructions (`donations.payouts.bank_transfer`)."""

    ELECTRONIC = "electronic", _("Electronic payout (the program's provider)")
    BANK_TRANSFER = "bank_transfer", _("Bank transfer by hand")


# The payout provider identifier of a bank transfer made by hand (see payouts/bank_transfer.py).
BANK_TRANSFER_PROVIDER = "bank_transfer"

IBAN_PATTERN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
BIC_PATTERN = re.compile(r"^[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")
ACCOUNT_PATTERN = re.compile(r"^[A-Z0-9]{4,34}$")
# The bank details a transfer by hand needs, as they are named on a nonprofit and on a change.
BANK_FIELDS = (
    "bank_account_holder",
    "bank_account_number",
    "bank_bic",
    "bank_country",
    "bank_name",
)


def account_normalize(value: str) -> str:
    """An account number or IBAN as banks read it: upper case, no spaces or dashes."""
    return re.sub(r"[\s-]+", "", value or "").upper()


def is_iban(value: str) -> bool:
    """Whether `value` (normalized) is an IBAN: its shape and its ISO 13616 check digits."""
    if not IBAN_PATTERN.match(value):
        return False
    rearranged = value[4:] + value[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def bank_details_check(*, account_holder: str, account_number: str, bic: str, country: str) -> None:
    """Refuse bank details a bank would refuse: a holder's name, an IBAN with right check
    digits (or another account number, which then needs the bank's BIC), a well-formed BIC,
    and the bank's country. Raises a ValidationError keyed by the nonprofit's field names."""
    errors = {}
    if not account_holder.strip():
        errors["bank_account_holder"] = _("Give the account holder's name as the bank has it.")
    looks_like_iban = bool(re.match(r"^[A-Z]{2}[0-9]{2}", account_number))
    if not account_number:
        errors["bank_account_number"] = _("Give the IBAN or the account number.")
    elif looks_like_iban and IBAN_PATTERN.match(account_number) and not is_iban(account_number):
        errors["bank_account_number"] = _("This IBAN's check digits are wrong: check it again.")
    elif not ACCOUNT_PATTERN.match(account_number):
        errors["bank_account_number"] = _(
            "An account number has 4 to 34 letters and digits (spaces are left out)."
        )
    if bic and not BIC_PATTERN.match(bic):
        errors["bank_bic"] = _("A BIC (SWIFT code) has 8 or 11 letters and digits.")
    elif not bic and account_number and not is_iban(account_number):
        errors["bank_bic"] = _("Give the bank's BIC (SWIFT code): the account is not an IBAN.")
    if not country:
        errors["bank_country"] = _("Give the country of the bank.")
    if errors:
        raise ValidationError(errors, code="bank_details_invalid")


class Nonprofit(TimeStampedModel):
    class Verification(models.TextChoices):
        PENDING = "pending", _("Pending review")
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", _("Rejected")

    class Reach(models.TextChoices):
        GLOBAL = "global", _("Global")
        LOCAL = "local", _("Local")

    class DescriptionStatus(models.TextChoices):
        """Where the latest "what we do" text the contact wrote stands."""

        NONE = "none", _("Not written yet")
        PENDING = "pending", _("Waiting for review")
        APPROVED = "approved", _("Approved")
        DECLINED = "declined", _("Declined")

    legal_name = models.CharField(_("legal name"), max_length=200)
    # The public page's address (/nonprofits/<slug>/): made from the name when the nonprofit
    # is added (`nonprofit_slug_for`) and kept when the name changes, so links stay good.
    slug = models.SlugField(_("address name"), max_length=80, unique=True, editable=False)
    causes = models.JSONField(
        _("causes"),
        default=list,
        blank=True,
        validators=[validate_causes],
        editable=False,
        help_text=_("The causes it works for, in the same words as creators' causes."),
    )
    # "What we do": written by the nonprofit's contact, public only once staff approve it. The
    # approved text stays public while a newer one waits for review (`description_pending`).
    description = models.TextField(_("what they do"), blank=True, editable=False)
    description_pending = models.TextField(
        _("what they do, waiting for review"), blank=True, editable=False
    )
    description_status = models.CharField(
        _("description review"),
        max_length=16,
        choices=DescriptionStatus.choices,
        default=DescriptionStatus.NONE,
        editable=False,
    )
    description_decline_reason = models.TextField(
        _("why the description was declined"), blank=True, editable=False
    )
    description_submitted_by = person_field(_("description written by"), on_delete=models.SET_NULL)
    description_submitted_at = models.DateTimeField(
        _("description written at"), null=True, blank=True, editable=False
    )
    description_reviewed_by = person_field(_("description reviewed by"))
    description_reviewed_at = models.DateTimeField(
        _("description reviewed at"), null=True, blank=True, editable=False
    )
    registration_number = models.CharField(_("registration number"), max_length=64)
    country = CountryField(_("country of registration"))
    reach = models.CharField(_("reach"), max_length=8, choices=Reach.choices, default=Reach.LOCAL)
    website = models.URLField(_("website"), max_length=300, blank=True)
    contact_email = models.EmailField(_("contact email"))
    verification_status = models.CharField(
        _("verification"),
        max_length=16,
        choices=Verification.choices,
        default=Verification.PENDING,
    )
    rejection_reason = models.TextField(_("reason for rejection"), blank=True)
    # Who added it and who decided on it (empty on rows from before these were recorded);
    # the audit log keeps every step. Whoever added a nonprofit does not verify it.
    created_by = person_field(_("added by"), on_delete=models.SET_NULL)
    verified_by = person_field(_("verified by"))
    # Set by each verification: it holds VERIFICATION_VALID_DAYS from then (see
    # `verification_expires_at`), after which the nonprofit is verified again before it is paid.
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    rejected_by = person_field(_("rejected by"))
    rejected_at = models.DateTimeField(_("rejected at"), null=True, blank=True)
    # Bank details live with the payout provider; we hold only its opaque reference to them.
    payout_reference = models.CharField(
        _("payout reference"),
        max_length=100,
        blank=True,
        help_text=_(
            "The payout provider's reference for this nonprofit's bank details. With the "
            "sandbox provider, sandbox-fail, sandbox-timeout, sandbox-flaky or "
            "sandbox-lose-response choose what its payments do."
        ),
    )

    # Its Stripe connected account, created by hosted onboarding (never typed by hand), and
    # what Stripe last told us of it: whether it can be paid out, and what Stripe still needs.
    stripe_account_id = models.CharField(
        _("Stripe account"), max_length=64, blank=True, editable=False
    )
    stripe_payouts_enabled = models.BooleanField(
        _("Stripe payouts enabled"), default=False, editable=False
    )
    stripe_requirements_due = models.JSONField(
        _("Stripe still needs"), default=list, blank=True, editable=False
    )
    stripe_checked_at = models.DateTimeField(
        _("Stripe status checked at"), null=True, blank=True, editable=False
    )
    # When the latest payout Stripe reported paid to the nonprofit's bank was created: a
    # failure reported late, about an older payout, is already behind it (see PayoutFailure).
    stripe_payout_paid_at = models.DateTimeField(
        _("Stripe payout last paid"), null=True, blank=True, editable=False
    )

    # How it is paid, chosen by staff (`nonprofit_payout_method_set`, audited); and, for a
    # bank transfer by hand, the account finance pays into. Like the payout reference, bank
    # details change only through a reviewed PayoutDetailsChange, and are part of the payee
    # fingerprint a grant pins when approved.
    payout_method = models.CharField(
        _("payout method"),
        max_length=16,
        choices=PayoutMethod.choices,
        default=PayoutMethod.ELECTRONIC,
        editable=False,
    )
    # Encrypted at rest (changemakers/core/encryption.py): never filtered on.
    bank_account_holder = EncryptedCharField(
        _("account holder"), max_length=140, blank=True, editable=False
    )
    bank_account_number = EncryptedCharField(
        _("IBAN or account number"), max_length=34, blank=True, editable=False
    )
    bank_bic = EncryptedCharField(_("BIC (SWIFT code)"), max_length=11, blank=True, editable=False)
    bank_country = CountryField(_("country of the bank"), blank=True, editable=False)
    bank_name = models.CharField(_("name of the bank"), max_length=140, blank=True, editable=False)

    objects = NonprofitQuerySet.as_manager()

    class Meta:
        verbose_name = _("nonprofit")
        verbose_name_plural = _("nonprofits")
        ordering = ["legal_name"]
        permissions = [
            ("verify_nonprofit", _("Can verify or reject a nonprofit")),
            ("set_payout_method", _("Can choose how a nonprofit is paid")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["stripe_account_id"],
                condition=~Q(stripe_account_id=""),
                name="nonprofit_stripe_account_unique",
                violation_error_message=_("This Stripe account belongs to another nonprofit."),
            ),
            models.UniqueConstraint(
                fields=["registration_number", "country"],
                name="nonprofit_registration_unique",
                violation_error_message=_(
                    "A nonprofit with this registration number is already registered in this "
                    "country."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(verification_status="rejected") | ~Q(rejection_reason=""),
                name="nonprofit_rejection_has_reason",
                violation_error_message=_("Say why the nonprofit was rejected."),
            ),
            models.CheckConstraint(
                condition=~Q(description_status="pending") | ~Q(description_pending=""),
                name="nonprofit_pending_description_has_text",
                violation_error_message=_("A description waiting for review has a text."),
            ),
            models.CheckConstraint(
                condition=~Q(description_status="declined") | ~Q(description_decline_reason=""),
                name="nonprofit_declined_description_has_reason",
                violation_error_message=_("Say why the description is declined."),
            ),
            models.CheckConstraint(
                condition=Q(created_by__isnull=True)
                | Q(verified_by__isnull=True)
                | ~Q(verified_by=F("created_by")),
                name="nonprofit_verifier_not_creator",
                violation_error_message=_(
                    "A nonprofit is verified by someone other than who added it."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.legal_name

    def get_absolute_url(self) -> str:
        return reverse("nonprofits:nonprofit-detail", kwargs={"slug": self.slug})

    def get_causes_display(self) -> list[str]:
        labels = dict(Cause.choices)
        return [str(labels.get(c, c)) for c in self.causes]

    @property
    def verification_expires_at(self) -> datetime.datetime | None:
        if self.verification_status != self.Verification.VERIFIED or self.verified_at is None:
            return None
        return self.verified_at + datetime.timedelta(days=settings.VERIFICATION_VALID_DAYS)

    def verification_current(self, now: datetime.datetime | None = None) -> bool:
        """Verified, and the verification not expired at `now`: what paying it needs."""
        expires_at = self.verification_expires_at
        return expires_at is not None and (now or timezone.now()) < expires_at

    @property
    def verification_expired(self) -> bool:
        return self.verification_expires_at is not None and not self.verification_current()

    @property
    def payout_masked(self) -> str:
        return mask_reference(self.payout_reference)

    @property
    def paid_by_bank_transfer(self) -> bool:
        return self.payout_method == PayoutMethod.BANK_TRANSFER

    @property
    def bank_account_masked(self) -> str:
        return mask_reference(self.bank_account_number)

    def bank_details(self) -> dict[str, str]:
        """The bank details on file, by the names of BANK_FIELDS."""
        return {name: str(getattr(self, name) or "").strip() for name in BANK_FIELDS}

    def bank_details_complete(self) -> bool:
        try:
            bank_details_check(
                account_holder=self.bank_account_holder,
                account_number=self.bank_account_number,
                bic=self.bank_bic,
                country=str(self.bank_country or ""),
            )
        except ValidationError:
            return False
        return True

    def payee_handle(self) -> str:
        """What a grant pins as its payee reference: the payout provider's reference, or
        for a bank transfer "bank:" and the account's last four characters (the whole
        account is in the fingerprint, and in the payment instruction). Empty: nowhere to pay."""
        if self.paid_by_bank_transfer:
            if not self.bank_details_complete():
                return ""
            return "bank:" + mask_reference(self.bank_account_number)
        return self.payout_reference.strip()

    def payout_fingerprint(self) -> str:
        """A SHA-256 (hex) of what says where this nonprofit's money goes: the payout
        reference (the provider's handle on the bank account) and the account holder's
        identity as a bank sees it, legal name, registration number and country. For a bank
        transfer by hand, the bank details instead of the reference. A grant pins it when
        approved; a payment is made only while the nonprofit's still matches."""
        if self.paid_by_bank_transfer:
            payee = [
                "payee-bank-v1",
                *self.bank_details().values(),
                self.legal_name.strip(),
                self.registration_number.strip(),
                str(self.country),
            ]
        else:
            # Unchanged since before bank transfers: grants pinned then still match.
            payee = [
                "payee-v1",
                self.payout_reference.strip(),
                self.legal_name.strip(),
                self.registration_number.strip(),
                str(self.country),
            ]
        return hashlib.sha256(json.dumps(payee).encode()).hexdigest()


class NonprofitContact(TimeStampedModel):
    """A person who signs in for a nonprofit and sees only that nonprofit's grants."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="nonprofit_contact"
    )
    nonprofit = models.ForeignKey(
        Nonprofit, verbose_name=_("nonprofit"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=120, blank=True)
    job_title = models.CharField(_("job title"), max_length=120, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    language = models.CharField(
        _("email language"),
        max_length=8,
        choices=settings.LANGUAGES,
        default="en",
        help_text=_("The language of the emails the program sends you."),
    )

    class Meta:
        verbose_name = _("nonprofit contact")
        verbose_name_plural = _("nonprofit contacts")

    def __str__(self) -> str:
        return f"{self.user} ({self.nonprofit})"

    def clean(self) -> None:
        # What a user sees follows their first role (staff, then creator): a creator's or a
        # staff member's account would sign in by link and be refused the nonprofit pages.
        if self.user_id and (self.user.is_staff or creator_of(self.user) is not None):
            raise ValidationError(
                {
                    "user": _(
                        "This account belongs to a creator or to staff; a nonprofit contact "
                        "needs an account of its own."
                    )
                },
                code="account_has_role",
            )


def nonprofit_contact_of(user) -> "NonprofitContact | None":
    """The NonprofitContact this user is, or None."""
    return linked(user, "nonprofit_contact")


class NonprofitSignInLink(SingleUseLink):
    """A single-use, expiring, revocable link that signs a nonprofit contact in.

    As with creator invitations, the link carries an HMAC of the row's random nonce under the
    site's secret key (`changemakers.core.links.link_token`): the database holds only the nonce,
    which opens nothing without the key, and the emailing task can rebuild the link from the
    row without the secret ever passing through the broker.
    """

    class Purpose(models.TextChoices):
        SIGN_IN = "", _("Sign in")
        PAYOUT_DETAILS = "payout_details", _("Update the payout details")

    contact = models.ForeignKey(
        NonprofitContact,
        verbose_name=_("contact"),
        on_delete=models.CASCADE,
        related_name="sign_in_links",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty when the contact asked for the link themselves."),
    )
    # Why staff sent it: a plain sign-in, or an ask to update the payout details after a
    # payment the provider refused for good (`payout_details_ask`), which names the grant and
    # lands the contact on their payout details once signed in.
    purpose = models.CharField(
        _("purpose"), max_length=20, choices=Purpose.choices, blank=True, default=""
    )
    grant = models.ForeignKey(
        "donations.Grant",
        verbose_name=_("grant"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The failed grant an ask to update the payout details is about."),
    )

    class Meta:
        verbose_name = _("nonprofit sign-in link")
        verbose_name_plural = _("nonprofit sign-in links")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return _("Sign-in link for %(contact)s") % {"contact": self.contact}


CONTACT_EMAIL_WARNING = datetime.timedelta(days=30)


class PayoutDetailsChangeQuerySet(models.QuerySet):
    def pending(self) -> "PayoutDetailsChangeQuerySet":
        return self.filter(status=PayoutDetailsChange.Status.PENDING)

    def for_review(self) -> "PayoutDetailsChangeQuerySet":
        """With `contact_email_changed_at`: the latest change of the nonprofit's contact email
        from CONTACT_EMAIL_WARNING_DAYS before the request on. Staff check a request through
        a channel they trust, which that address is not if it has only just been changed."""
        email_changes = AuditEvent.objects.filter(
            content_type=ContentType.objects.get_for_model(Nonprofit),
            object_id=OuterRef("nonprofit_id"),
            action=KernelVerb.UPDATED,
            note__contains="contact_email",
            occurred_at__gte=OuterRef("created_at") - CONTACT_EMAIL_WARNING,
        ).order_by("-occurred_at")
        return (
            self.select_related("nonprofit", "requested_by", "first_approved_by", "reviewed_by")
            .annotate(contact_email_changed_at=Subquery(email_changes.values("occurred_at")[:1]))
            .order_by("created_at", "pk")
        )


class PayoutDetailsChange(TimeStampedModel):
    """A nonprofit contact's request to pay the nonprofit elsewhere. It changes nothing until
    staff approve it: payout details are where a fraud would redirect the money."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    nonprofit = models.ForeignKey(
        Nonprofit,
        verbose_name=_("nonprofit"),
        on_delete=models.CASCADE,
        related_name="payout_changes",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    # A change is either of the payout reference (the electronic provider's) or of the bank
    # details a transfer by hand is made to: the latter fills the bank fields and leaves the
    # reference empty.
    payout_reference = models.CharField(_("new payout reference"), max_length=100, blank=True)
    # Encrypted at rest, as on the nonprofit: only their emptiness can be looked up.
    bank_account_holder = EncryptedCharField(_("account holder"), max_length=140, blank=True)
    bank_account_number = EncryptedCharField(_("IBAN or account number"), max_length=34, blank=True)
    bank_bic = EncryptedCharField(_("BIC (SWIFT code)"), max_length=11, blank=True)
    bank_country = CountryField(_("country of the bank"), blank=True)
    bank_name = models.CharField(_("name of the bank"), max_length=140, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    # The first of two approvals, when a change needs two (the nonprofit's contact email was
    # changed lately, see `for_review`): it stays pending until someone else approves it too.
    first_approved_by = person_field(_("first approved by"))
    first_approved_at = models.DateTimeField(_("first approved at"), null=True, blank=True)
    reviewed_by = person_field(_("reviewed by"))
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reason = models.TextField(_("reason for rejection"), blank=True)

    objects = PayoutDetailsChangeQuerySet.as_manager()

    class Meta:
        verbose_name = _("payout details change")
        verbose_name_plural = _("payout details changes")
        ordering = ["-created_at"]
        permissions = [
            ("approve_payoutdetailschange", _("Can approve or reject a change of payout details"))
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["nonprofit"],
                condition=Q(status="pending"),
                name="payout_change_one_pending",
                violation_error_message=_(
                    "A change of payout details is already waiting for review."
                ),
            ),
            models.CheckConstraint(
                condition=(Q(payout_reference="") & ~Q(bank_account_number=""))
                | (~Q(payout_reference="") & Q(bank_account_number="")),
                name="payout_change_reference_or_bank",
                violation_error_message=_(
                    "A change gives either a new payout reference or new bank details."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(reason=""),
                name="payout_change_rejection_has_reason",
                violation_error_message=_("Say why the change is rejected."),
            ),
            # Separation of duties, held by the database as well as by the service (which
            # alone checks the approver against the requester: rows from before may not pass).
            models.CheckConstraint(
                condition=Q(first_approved_by__isnull=True)
                | (
                    ~Q(first_approved_by=F("requested_by"))
                    & (~Q(status="approved") | ~Q(first_approved_by=F("reviewed_by")))
                ),
                name="payout_change_two_distinct_approvers",
                violation_error_message=_(
                    "A payout details change's two approvers are two different people."
                ),
            ),
        ]

    def __str__(self) -> str:
        return _("Payout details change for %(nonprofit)s") % {"nonprofit": self.nonprofit}

    @property
    def is_bank(self) -> bool:
        """A change of bank details (for a transfer by hand), not of the payout reference."""
        return bool(self.bank_account_number)

    @property
    def bank_account_masked(self) -> str:
        return mask_reference(self.bank_account_number)

    def bank_details(self) -> dict[str, str]:
        return {name: str(getattr(self, name) or "").strip() for name in BANK_FIELDS}


SLUG_MAX = 80


def slug_for(name: str, taken) -> str:
    """A page address made from `name`: its letters as ASCII words joined by dashes ("Frames of
    Hope" -> "frames-of-hope"), "nonprofit" for a name with none (one in Arabic script), and
    "-2", "-3"... after it while `taken(slug)` says another nonprofit has it."""
    base = slugify(name)[: SLUG_MAX - 6].strip("-") or "nonprofit"
    slug, number = base, 1
    while taken(slug):
        number += 1
        slug = f"{base}-{number}"
    return slug


def mask_reference(value: str) -> str:
    """Payout details as shown to the nonprofit and written to the audit log: the last four
    characters only ("••••1234")."""
    if not value:
        return ""
    return "••••" + value[-4:] if len(value) > 4 else "••••"
