"""Encrypts the bank details already stored in clear text (0016 made their columns text and
their fields encrypted); reversed, decrypts them back. Raw SQL: the fields would try to
decrypt the clear text they read."""

from django.core.exceptions import ImproperlyConfigured
from django.db import migrations

from changemakers.core.encryption import decrypt, encrypt

ENCRYPTED = {
    "Nonprofit": ["bank_account_holder", "bank_account_number", "bank_bic"],
    "PayoutDetailsChange": ["bank_account_holder", "bank_account_number", "bank_bic"],
    "PaymentInstruction": ["account_holder", "account_number", "bic"],
}


def _encrypted(value):
    if not value:
        return value
    try:
        decrypt(value)
    except ImproperlyConfigured:
        return encrypt(value)
    return value  # already a token: the migration ran before


def _rewrite(apps, schema_editor, convert):
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    for model_name, names in ENCRYPTED.items():
        meta = apps.get_model("donations", model_name)._meta
        table, pk = quote(meta.db_table), quote(meta.pk.column)
        columns = [quote(meta.get_field(name).column) for name in names]
        assignments = ", ".join(f"{column} = %s" for column in columns)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {pk}, {', '.join(columns)} FROM {table} ORDER BY {pk}")
            for pk_value, *values in cursor.fetchall():
                converted = [convert(value) for value in values]
                if converted != values:
                    cursor.execute(
                        f"UPDATE {table} SET {assignments} WHERE {pk} = %s",
                        [*converted, pk_value],
                    )


def encrypt_rows(apps, schema_editor):
    _rewrite(apps, schema_editor, _encrypted)


def decrypt_rows(apps, schema_editor):
    _rewrite(apps, schema_editor, lambda value: decrypt(value) if value else value)


class Migration(migrations.Migration):
    dependencies = [
        ("donations", "0016_bank_details_encrypted"),
    ]

    operations = [migrations.RunPython(encrypt_rows, decrypt_rows, elidable=False)]
