"""Give every nonprofit already there its public page's address, made from its name."""

from django.db import migrations
from django.utils.text import slugify


def slug_for(name: str, taken) -> str:
    # As donations.models.nonprofits.slug_for when this was written (kept here unchanged).
    base = slugify(name)[:74].strip("-") or "nonprofit"
    slug, number = base, 1
    while taken(slug):
        number += 1
        slug = f"{base}-{number}"
    return slug


def slugs_fill(apps, schema_editor):
    Nonprofit = apps.get_model("donations", "Nonprofit")
    taken = set(Nonprofit.objects.exclude(slug=None).values_list("slug", flat=True))
    for nonprofit in Nonprofit.objects.filter(slug=None).order_by("pk"):
        nonprofit.slug = slug_for(nonprofit.legal_name, taken.__contains__)
        taken.add(nonprofit.slug)
        nonprofit.save(update_fields=["slug"])


class Migration(migrations.Migration):
    dependencies = [
        ("donations", "0019_nonprofit_public_page"),
    ]

    operations = [
        migrations.RunPython(slugs_fill, migrations.RunPython.noop),
    ]
