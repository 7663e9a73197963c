"""Two-factor sign-in, for every role: an authenticator app (TOTP), passkeys (WebAuthn) and
single-use recovery codes, on django-otp and django-otp-webauthn.

The password (or a nonprofit's emailed link) still signs a person in; a session that owes a
second factor then reaches only the pages that take one (`middleware`). Staff owe one whenever
`STAFF_2FA_REQUIRED` (on unless DEBUG); anyone else owes one once they have turned it on.
Every change to a person's second factors goes through `services`, audited on their account.
"""
