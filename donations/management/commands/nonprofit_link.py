"""Print a fresh sign-in link for a nonprofit contact (it is emailed too), for demos and for
staff helping a contact whose email does not arrive. Earlier open links stop working."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from changemakers.core.emails import absolute_url
from donations.models import NonprofitContact
from donations.services import link_path, nonprofit_link_send


class Command(BaseCommand):
    help = "Print a fresh single-use sign-in link for the nonprofit contact with this email."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email: str, **options):
        contact = (
            NonprofitContact.objects.select_related("user", "nonprofit")
            .filter(user__email__iexact=email.strip())
            .first()
        )
        if contact is None:
            raise CommandError(f"No nonprofit contact has the address {email}.")
        try:
            link = nonprofit_link_send(contact=contact, actor=None)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(f"Sign-in link for {contact.user.email} ({contact.nonprofit}):")
        self.stdout.write(absolute_url(link_path(link)))
        self.stdout.write(f"It works once, until {link.expires_at:%Y-%m-%d %H:%M %Z}.")
