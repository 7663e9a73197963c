"""`make bench-web` measures what it says: its seed, at a tiny scale, holds a program whose
key pages answer each person the benchmark signs in as with the page itself (never a redirect
or a refusal), and a program whose money adds up."""

import re

import pytest
from django.db.models import Sum
from django.test import Client
from django.urls import reverse

from donations.models import Fund, Grant
from tests.perf.bench_web import PAGES
from tests.perf.web_seed import PASSWORD, PEOPLE, Scale, seed

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded():
    return seed(Scale(creators=60, cohort_size=20, nonprofits=40, lists=3, list_size=25,
                      audit_events=200))  # fmt: skip


def test_the_seed_holds_the_program_it_says(seeded):
    assert (seeded.creators, seeded.milestones, seeded.grants) == (60, 600, 120)
    assert seeded.list_entries == 75
    assert seeded.nonprofit_grants >= 1
    for fund in Fund.objects.all():
        grants = Grant.objects.filter(fund=fund)
        committed = grants.filter(status__in=Grant.COMMITTING_STATUSES).aggregate(s=Sum("amount"))
        paid = grants.filter(status="disbursed").aggregate(s=Sum("amount"))
        assert fund.committed == committed["s"]
        assert fund.disbursed == paid["s"]
        assert fund.disbursed <= fund.committed <= fund.total


def test_each_benchmarked_page_answers_its_person_with_the_page(seeded):
    for page in PAGES:
        client = Client()
        if page.role:  # through the sign-in form, as the benchmark does
            signed_in = client.post(
                reverse("login"), {"username": PEOPLE[page.role], "password": PASSWORD}
            )
            assert signed_in.status_code == 302, page.role
        response = client.get(reverse(page.name), follow=True)
        assert response.status_code == 200, page.label
        # At most the list's own redirect to its latest edition, never to the sign-in page.
        assert len(response.redirect_chain) <= 1, page.label
        assert "/accounts/login/" not in response.request["PATH_INFO"], page.label
        assert page.marker in response.content.decode(), page.label
        path = response.request["PATH_INFO"]
        if page.query:
            response = client.get(f"{path}?{page.query}")
            assert response.status_code == 200, page.label
            assert page.marker in response.content.decode(), page.label
        if page.first_link:
            link = re.search(rf'href="({page.first_link}[^"?#]+)"', response.content.decode())
            assert link is not None, page.label
            assert client.get(link.group(1)).status_code == 200, page.label
