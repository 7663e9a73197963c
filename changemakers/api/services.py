"""Integrations and their tokens: creating an integration, issuing a token (its secret shown
once), revoking one, finding the token a request carries, and recording a write made with it.

A token is `cm_<prefix>_<secret>`: the prefix finds the row, the secret (32 random bytes) is
compared by its SHA-256 in constant time. A fast hash is right for a secret this long: a slow
one protects guessable passwords, and nobody can guess 256 random bits."""

import datetime
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from changemakers.core.audit import audit_record
from changemakers.core.roles import StaffRole, permission_require, staff_role_group, staff_roles_of
from donations.models import Nonprofit

from .models import ApiToken, Integration

TOKEN_PATTERN = re.compile(r"^cm_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
# `last_used_at` is written at most this often per token, not on every request.
LAST_USED_EVERY = datetime.timedelta(minutes=1)


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    """A token just issued: the row, and the whole token, which exists only here."""

    token: ApiToken
    plaintext: str


def _may_give_roles(actor, roles: Iterable[StaffRole]) -> None:
    """Nobody makes an integration stronger than themselves: the roles given are the actor's
    own (a superuser holds them all)."""
    if actor.is_superuser:
        return
    missing = set(roles) - set(staff_roles_of(actor))
    if missing:
        raise ValidationError(
            {
                "roles": ValidationError(
                    _("You can give an integration only staff roles you hold yourself: %s.")
                    % ", ".join(sorted(str(StaffRole(role).label) for role in missing)),
                    code="role_not_held",
                )
            }
        )


@transaction.atomic
def integration_create(
    *,
    name: str,
    kind: str,
    actor,
    roles: Iterable[str] = (),
    nonprofit: Nonprofit | None = None,
    description: str = "",
) -> Integration:
    """A staff integration with its own account holding `roles`, or a nonprofit's, which
    reads that nonprofit's grants only."""
    permission_require(actor, "api.manage_integration", doing=_("manage integrations"))
    roles = [StaffRole(role) for role in roles]
    integration = Integration(name=name.strip(), kind=kind, description=description.strip())
    if kind == Integration.Kind.STAFF:
        if not roles:
            raise ValidationError(
                {
                    "roles": ValidationError(
                        _("Give a staff integration at least one staff role."),
                        code="roles_empty",
                    )
                }
            )
        _may_give_roles(actor, roles)
        integration.account = get_user_model()(is_staff=True)
    elif kind == Integration.Kind.NONPROFIT:
        if nonprofit is None:
            raise ValidationError(
                {
                    "nonprofit": ValidationError(
                        _("Choose the nonprofit whose grants it reads."),
                        code="nonprofit_missing",
                    )
                }
            )
        integration.nonprofit = nonprofit
    integration.created_by = actor
    integration.full_clean(exclude=["account"])
    account = integration.account
    if account is not None:
        # A name nobody signs in with: no email, no usable password.
        account.username = f"integration:{slugify(integration.name)[:60]}:{secrets.token_hex(4)}"
        account.first_name = integration.name[:150]
        account.set_unusable_password()
        account.save()
        account.groups.set([staff_role_group(role) for role in roles])
        integration.account = account
    integration.save()
    audit_record(
        actor=actor, obj=integration, action="created", note=integration.get_kind_display()
    )
    return integration


def token_issue(*, integration: Integration, scope: str, actor, label: str = "") -> IssuedToken:
    """A new token for `integration`. Its whole value is returned once and never stored."""
    permission_require(actor, "api.manage_integration", doing=_("manage integrations"))
    if integration.kind == Integration.Kind.NONPROFIT and scope != ApiToken.Scope.READ:
        raise ValidationError(
            {
                "scope": ValidationError(
                    _("A nonprofit's integration reads its grants; it cannot write."),
                    code="nonprofit_reads_only",
                )
            }
        )
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken(
            integration=integration,
            label=label.strip(),
            prefix=prefix,
            secret_hash=secret_digest(secret),
            scope=scope,
            created_by=actor,
        )
        token.full_clean()
        token.save()
        audit_record(
            actor=actor,
            obj=token,
            action="token_issued",
            note=f"{integration.name}: {token.get_scope_display()}",
        )
    return IssuedToken(token=token, plaintext=f"cm_{prefix}_{secret}")


def token_revoke(*, token: ApiToken, actor) -> ApiToken:
    """Stop a token working at once. Idempotent."""
    permission_require(actor, "api.manage_integration", doing=_("manage integrations"))
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is not None:
            return locked
        locked.revoked_at = timezone.now()
        locked.revoked_by = actor
        locked.save(update_fields=["revoked_at", "revoked_by", "updated_at"])
        audit_record(
            actor=actor,
            obj=locked,
            action="token_revoked",
            from_state="active",
            to_state="revoked",
            note=locked.integration.name,
        )
        return locked


def token_for(value: str) -> ApiToken | None:
    """The active token `value` is, or None: unknown, malformed, revoked, or its account
    switched off."""
    match = TOKEN_PATTERN.match(value)
    if match is None:
        return None
    prefix, secret = match.groups()
    token = (
        ApiToken.objects.select_related("integration__account", "integration__nonprofit")
        .filter(prefix=prefix)
        .first()
    )
    if token is None or not hmac.compare_digest(token.secret_hash, secret_digest(secret)):
        return None
    account = token.integration.account
    if token.revoked_at is not None or (account is not None and not account.is_active):
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def api_write_record(*, token: ApiToken, what: str) -> None:
    """Note on the token that it was used to change something: `what` says what (the
    method, the path and the object). Call inside the transaction of the change."""
    audit_record(
        actor=token.integration.account,
        obj=token,
        action="api_write",
        note=f"{token.integration.name}: {what}"[:1000],
    )
