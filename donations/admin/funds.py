"""Funds: created through their service; committed and disbursed totals are read-only."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from changemakers.core.admin import (
    ServiceModelAdmin,
    money,
)

from ..models import Fund
from ..services import fund_create


@admin.register(Fund)
class FundAdmin(ServiceModelAdmin):
    list_display = [
        "name",
        "total_money",
        "committed_money",
        "disbursed_money",
        "remaining_money",
        "overspent_money",
    ]
    list_filter = ["currency"]
    search_fields = ["name"]
    add_fields = ["name", "currency", "total"]
    fields = [
        "name",
        "currency",
        "total_money",
        "committed_money",
        "disbursed_money",
        "remaining_money",
        "overspent_money",
    ]
    readonly_fields = [
        "total_money",
        "committed_money",
        "disbursed_money",
        "remaining_money",
        "overspent_money",
    ]
    # Grants are held in the fund's currency; a change of total needs a service (not yet).
    readonly_on_change = ["currency"]

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("total"), ordering="total")
    def total_money(self, obj: Fund) -> str:
        return money(obj.total, obj.currency)

    @admin.display(description=_("committed"), ordering="committed")
    def committed_money(self, obj: Fund) -> str:
        return money(obj.committed, obj.currency)

    @admin.display(description=_("disbursed"), ordering="disbursed")
    def disbursed_money(self, obj: Fund) -> str:
        return money(obj.disbursed, obj.currency)

    @admin.display(description=_("remaining"))
    def remaining_money(self, obj: Fund) -> str:
        return money(obj.remaining, obj.currency)

    @admin.display(description=_("overspent"), ordering="overspent")
    def overspent_money(self, obj: Fund) -> str:
        return money(obj.overspent, obj.currency)

    def create_through_service(self, request, obj, form):
        return fund_create(
            name=obj.name, total=obj.total, currency=obj.currency, actor=request.user
        )
