"""The staff's printed record of a paid grant: its payment advice, as a PDF file."""

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.text import slugify
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET

from changemakers.core.pdf import pdf_render, pdf_response
from changemakers.core.roles import staff_required

from .. import selectors
from ..models import Grant


@require_GET
@staff_required(perm="donations.view_disbursement")
def grant_payment_advice(request: HttpRequest, pk: int) -> HttpResponse:
    """What was paid, to whom, in whose name and under which reference: only for a grant that
    has been paid, in the reader's language."""
    try:
        grant = selectors.grant_for_staff(pk)
    except Grant.DoesNotExist:
        raise Http404 from None
    disbursement = selectors.grant_disbursement(grant)
    if grant.status != Grant.Status.DISBURSED or disbursement is None:
        raise Http404
    pdf = pdf_render(
        "donations/pdf/payment_advice.html",
        {"grant": grant, "disbursement": disbursement},
        request,
    )
    name = slugify(pgettext("file name", "payment advice"))
    return pdf_response(pdf, filename=f"changemakers-{name}-{grant.pk}.pdf")
