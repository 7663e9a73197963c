"""Every change to a person's second factors, each in a transaction and audited on their
account: an authenticator app added, a passkey added, recovery codes issued or used, a factor
removed, and a colleague's reset after a lost device. And the reads the sign-in needs.

A person "has two-factor sign-in on" when they have a confirmed authenticator app or passkey;
recovery codes only stand in for those, so they go when the last of them goes.
"""

import re
from binascii import unhexlify

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _
from django_otp.models import Device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex
from django_otp_webauthn.models import WebAuthnCredential

from ..audit import audit_record
from ..roles import StaffRole, staff_roles_of
from .verbs import AuditVerb

RECOVERY_CODE_COUNT = 10
TOTP_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"
# What every authenticator app understands (and django-otp's defaults): six digits every 30
# seconds, the previous and the next code accepted too, for a phone's clock a little off.
TOTP_STEP = 30
TOTP_DIGITS = 6
TOTP_TOLERANCE = 1
# What a person types: spaces and hyphens are ignored, letters are read in lower case.
_SEPARATORS = re.compile(r"[\s-]+")
_TOTP_CODE = re.compile(r"\d{6}")


# --- Reads -----------------------------------------------------------------------------------


def _factor_querysets(user) -> list[models.QuerySet]:
    """The confirmed authenticator apps and passkeys of `user` (not recovery codes)."""
    return [
        TOTPDevice.objects.devices_for_user(user, confirmed=True),
        WebAuthnCredential.objects.devices_for_user(user, confirmed=True),
    ]


def has_second_factor(user) -> bool:
    """Whether `user` has two-factor sign-in on (one query)."""
    if not getattr(user, "is_authenticated", False):
        return False
    totp, passkeys = _factor_querysets(user)
    return totp.values("pk").union(passkeys.values("pk")).exists()


def required_for(user) -> bool:
    """Whether `user` must have a second factor to use the site at all: staff, unless the
    deployment says otherwise (development only; production always requires it)."""
    return bool(getattr(user, "is_staff", False) and settings.STAFF_2FA_REQUIRED)


def totp_devices(user) -> list[TOTPDevice]:
    return list(TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("pk"))


def passkeys(user) -> list[WebAuthnCredential]:
    return list(WebAuthnCredential.objects.devices_for_user(user, confirmed=True).order_by("pk"))


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def _describe(device: Device) -> str:
    if isinstance(device, TOTPDevice):
        return _("authenticator app")
    if isinstance(device, WebAuthnCredential):
        added = device.created_at.date().isoformat() if device.created_at else ""
        return _("passkey added %(date)s") % {"date": added}
    return _("recovery codes")


# --- Enrolment -------------------------------------------------------------------------------


def totp_key_new() -> str:
    """A new authenticator app secret (hex, as django-otp stores it). The set-up page keeps it
    in the session until a code from the app shows it was set up: nothing is stored before."""
    return random_hex(20)


def totp_device_add(*, user, key: str, code: str, actor) -> TOTPDevice:
    """Turn on the authenticator app that `key` was given to, once `code` shows it is set up.
    The code is spent (it cannot sign in again). Audited."""
    totp = TOTP(unhexlify(key), step=TOTP_STEP, digits=TOTP_DIGITS)
    code = _normalise(code)
    if not (_TOTP_CODE.fullmatch(code) and totp.verify(int(code), tolerance=TOTP_TOLERANCE)):
        raise ValidationError(
            _("That code does not match. Check the time on your phone and try the new code."),
            code="wrong_code",
        )
    with transaction.atomic():
        device = TOTPDevice(
            user=user,
            name=TOTP_NAME,
            key=key,
            step=TOTP_STEP,
            digits=TOTP_DIGITS,
            tolerance=TOTP_TOLERANCE,
            drift=totp.drift,
            last_t=totp.t(),
            confirmed=True,
        )
        device.full_clean()
        device.save()
        audit_record(
            actor=actor,
            obj=user,
            action=AuditVerb.SECOND_FACTOR_ADDED,
            note=_describe(device),
        )
    return device


def passkey_added(*, device: WebAuthnCredential, actor) -> None:
    """Record a passkey just registered (django-otp-webauthn saves it; its view calls this
    inside the same transaction)."""
    audit_record(
        actor=actor, obj=device.user, action=AuditVerb.SECOND_FACTOR_ADDED, note=_describe(device)
    )


def recovery_codes_issue(*, user, actor) -> list[str]:
    """A fresh set of single-use recovery codes for `user`, replacing any earlier set. The
    codes are returned to be shown once. Audited."""
    with transaction.atomic():
        device = StaticDevice.objects.select_for_update().filter(user=user).order_by("pk").first()
        if device is None:
            device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
        device.token_set.all().delete()
        codes = [StaticToken.random_token() for _i in range(RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
        audit_record(
            actor=actor,
            obj=user,
            action=AuditVerb.RECOVERY_CODES_ISSUED,
            note=_("%(count)d codes") % {"count": len(codes)},
        )
    return codes


# --- Signing in ------------------------------------------------------------------------------


def _normalise(code: str) -> str:
    return _SEPARATORS.sub("", code or "").lower()


def code_check(*, user, code: str) -> Device | None:
    """The device that accepts `code` from `user`: six digits are read as an authenticator
    app's code, anything else as a recovery code (used up, and audited, when it matches).
    None when nothing accepts it; django-otp also refuses every code for a growing delay
    after each failure of a device."""
    code = _normalise(code)
    with transaction.atomic():
        if _TOTP_CODE.fullmatch(code):
            totp = TOTPDevice.objects.devices_for_user(user, confirmed=True)
            for device in totp.select_for_update():
                if device.verify_token(code):
                    return device
            return None
        recovery = StaticDevice.objects.devices_for_user(user, confirmed=True)
        for device in recovery.select_for_update():
            if device.verify_token(code):
                audit_record(
                    actor=user,
                    obj=user,
                    action=AuditVerb.RECOVERY_CODE_USED,
                    note=_("%(count)d left") % {"count": device.token_set.count()},
                )
                return device
    return None


# --- Removal and reset -----------------------------------------------------------------------


def device_remove(*, user, device: Device, actor) -> None:
    """Remove one of `user`'s own authenticator apps or passkeys. Removing the last one turns
    two-factor sign-in off (its recovery codes go too), which a person who must have it cannot
    do. Audited."""
    if device.user_id != user.pk or isinstance(device, StaticDevice):
        raise ValidationError(_("That is not one of your second factors."), code="not_yours")
    with transaction.atomic():
        remaining = [
            other
            for queryset in _factor_querysets(user)
            for other in queryset.select_for_update()
            if not (type(other) is type(device) and other.pk == device.pk)
        ]
        if not remaining and required_for(user):
            raise ValidationError(
                _(
                    "Staff must keep a second factor: add another authenticator app or "
                    "passkey before removing this one."
                ),
                code="last_second_factor",
            )
        type(device).objects.filter(pk=device.pk).delete()
        if not remaining:
            StaticDevice.objects.filter(user=user).delete()
        audit_record(
            actor=actor,
            obj=user,
            action=AuditVerb.SECOND_FACTOR_REMOVED,
            note=_describe(device),
        )


def second_factor_reset(*, user: AbstractBaseUser, actor, reason: str) -> int:
    """Remove every second factor of `user`, who lost theirs: done by another staff member,
    never by the person themself, and recorded with the reason. They set up a new one at their
    next sign-in. Returns how many devices went."""
    if not getattr(actor, "is_staff", False):
        raise ValidationError(_("Only staff can reset someone's second factor."), code="not_staff")
    if not actor.is_superuser and not set(staff_roles_of(actor)) - {StaffRole.AUDITOR}:
        # The auditor reads everything and changes nothing, a colleague's sign-in included.
        raise ValidationError(
            _("Your staff roles do not let you reset someone's second factor."),
            code="not_permitted",
        )
    if actor.pk == user.pk:
        raise ValidationError(
            _(
                "You cannot reset your own second factor: use a recovery code, or ask "
                "another staff member."
            ),
            code="own_second_factor",
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            _("Say why (for example how you checked who asked)."), code="reason_required"
        )
    with transaction.atomic():
        type(user).objects.select_for_update().get(pk=user.pk)
        removed = 0
        for model in (TOTPDevice, WebAuthnCredential, StaticDevice):
            devices = model.objects.filter(user=user)
            removed += devices.count()
            devices.delete()
        if not removed:
            raise ValidationError(
                _("%(user)s has no second factor to reset.") % {"user": user},
                code="no_second_factor",
            )
        audit_record(actor=actor, obj=user, action=AuditVerb.SECOND_FACTOR_RESET, note=reason)
    return removed
