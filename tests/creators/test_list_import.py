"""Importing a year's list from CSV: a good file imports every row in one go; any bad row
imports nothing and the report names each line, column and reason."""

import csv
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from changemakers.core.models import AuditEvent
from creators.list_import import MAX_BYTES, ImportProblem, ListImportRefused, csv_rows
from creators.models import Cause, ChangeMakersList
from creators.services import list_entries_import
from tests.factories import ChangeMakersListFactory, CreatorFactory, ListEntryFactory

pytestmark = pytest.mark.django_db

HEADER = "position,handle,country,cause,citation\r\n"


@pytest.fixture
def edition():
    return ChangeMakersListFactory(year=2027, title="Change Makers 2027")


@pytest.fixture
def people():
    return {
        handle: CreatorFactory(handle=handle, country=country, causes=causes)
        for handle, country, causes in [
            ("joelbervell", "US", [Cause.HEALTH, Cause.EDUCATION]),
            ("wanjiru.reads", "KE", [Cause.EDUCATION]),
            ("Eli_Virkina", "US", [Cause.ENVIRONMENT]),
            ("nora.learns", "SA", [Cause.EDUCATION]),
        ]
    }


def run(edition, text: str, staff_user):
    return list_entries_import(
        change_makers_list=edition, rows=csv_rows(text.encode()), actor=staff_user
    )


def refused(edition, text: str, staff_user) -> list[tuple[int, str]]:
    with pytest.raises(ListImportRefused) as error:
        run(edition, text, staff_user)
    assert not edition.entries.exists()
    return [(p.line, p.column) for p in error.value.problems]


def test_a_good_file_imports_every_row_in_order_with_defaults(edition, people, staff_user):
    text = HEADER + (
        "1,joelbervell,US,health,Medicine without the myths.\r\n"
        "2,@Wanjiru.Reads,ke,EDUCATION,Reading for every child.\r\n"
        ",eli_virkina,,,Climate stories.\r\n"
        "\r\n"
    )
    entries = run(edition, text, staff_user)
    assert len(entries) == 3
    rows = list(
        edition.entries.order_by("position").values_list(
            "position", "creator__handle", "country", "cause", "citation"
        )
    )
    assert rows == [
        (1, "joelbervell", "US", "health", "Medicine without the myths."),
        (2, "wanjiru.reads", "KE", "education", "Reading for every child."),
        (3, "Eli_Virkina", "US", "environment", "Climate stories."),
    ]
    events = [(e.action, e.note) for e in AuditEvent.objects.for_object(edition)]
    assert events[-1] == ("imported", "3 entries")


def test_rows_without_a_position_go_after_existing_entries_and_the_files_positions(
    edition, people, staff_user
):
    ListEntryFactory(change_makers_list=edition, position=4)
    text = HEADER + ",joelbervell,,,A.\r\n9,nora.learns,,,B.\r\n,wanjiru.reads,,,C.\r\n"
    run(edition, text, staff_user)
    assert list(edition.entries.order_by("position").values_list("creator__handle", "position"))[
        1:
    ] == [("nora.learns", 9), ("joelbervell", 10), ("wanjiru.reads", 11)]


def test_columns_may_come_in_any_order_and_a_bom_is_accepted(edition, people, staff_user):
    data = "\ufeffcitation,handle\r\nHello.,joelbervell\r\n".encode()
    list_entries_import(change_makers_list=edition, rows=csv_rows(data), actor=staff_user)
    assert edition.entries.get().cause == "health"


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_a_file_saved_with_semicolons_or_tabs_is_read_too(edition, people, staff_user, delimiter):
    text = delimiter.join(["handle", "country", "citation"]) + "\r\n"
    text += delimiter.join(["joelbervell", "GB", "Health, explained; simply."]) + "\r\n"
    if delimiter == ";":
        text = text.replace("Health, explained; simply.", '"Health, explained; simply."')

    run(edition, text, staff_user)

    entry = edition.entries.get()
    assert (entry.creator.handle, entry.country, entry.citation) == (
        "joelbervell",
        "GB",
        "Health, explained; simply.",
    )


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        ("1,nobody_here,US,health,Hi.", "handle", "No creator has the handle @nobody_here."),
        ("1,,US,health,Hi.", "handle", "A handle is required."),
        ("1,joelbervell,XX,health,Hi.", "country", "“XX” is not a two-letter ISO country code."),
        ("1,joelbervell,USA,health,Hi.", "country", "not a two-letter ISO country code"),
        ("1,joelbervell,US,cooking,Hi.", "cause", "“cooking” is not a cause"),
        ("1,joelbervell,US,health,", "citation", "A citation is required."),
        ("1,joelbervell,US,health," + "x" * 281, "citation", "at most 280 characters"),
        ("first,joelbervell,US,health,Hi.", "position", "A position is a whole number from 1."),
        ("0,joelbervell,US,health,Hi.", "position", "A position is between 1 and 32767."),
        ("-3,joelbervell,US,health,Hi.", "position", "A position is a whole number from 1."),
        ("²,joelbervell,US,health,Hi.", "position", "A position is a whole number from 1."),
    ],
)
def test_each_kind_of_bad_row_refuses_the_file(edition, people, staff_user, row, column, message):
    text = HEADER + "2,wanjiru.reads,KE,education,Good row.\r\n" + row + "\r\n"
    with pytest.raises(ListImportRefused) as error:
        run(edition, text, staff_user)
    assert not edition.entries.exists()
    [problem] = error.value.problems
    assert (problem.line, problem.column) == (3, column)
    assert message in problem.message
    assert "1 row has a problem, so nothing was imported." in error.value.messages


def test_a_creator_already_on_the_list_or_twice_in_the_file_is_refused(edition, people, staff_user):
    ListEntryFactory(change_makers_list=edition, creator=people["nora.learns"], position=1)
    text = HEADER + (
        "2,nora.learns,,,Again.\r\n3,joelbervell,,,Once.\r\n4,JOELBERVELL,,,Twice.\r\n"
    )
    with pytest.raises(ListImportRefused) as error:
        run(edition, text, staff_user)
    assert error.value.problems == [
        ImportProblem(2, "handle", "@nora.learns is already on this list."),
        ImportProblem(4, "handle", "@JOELBERVELL is also on line 3."),
    ]
    assert edition.entries.count() == 1


def test_a_position_taken_on_the_list_or_twice_in_the_file_is_refused(edition, people, staff_user):
    ListEntryFactory(change_makers_list=edition, position=1)
    text = HEADER + "1,joelbervell,,,A.\r\n2,nora.learns,,,B.\r\n2,wanjiru.reads,,,C.\r\n"
    with pytest.raises(ListImportRefused) as error:
        run(edition, text, staff_user)
    assert error.value.problems == [
        ImportProblem(2, "position", "Position 1 is already taken on this list."),
        ImportProblem(4, "position", "Position 2 is also on line 3."),
    ]
    assert edition.entries.count() == 1


def test_every_problem_of_every_row_is_reported(edition, people, staff_user):
    text = HEADER + "x,nobody,ZZ,cooking,\r\n1,joelbervell,US,health,Fine.\r\n"
    assert refused(edition, text, staff_user) == [
        (2, "handle"),
        (2, "position"),
        (2, "country"),
        (2, "cause"),
        (2, "citation"),
    ]


def test_nothing_is_imported_into_a_published_list(edition, people, staff_user):
    ListEntryFactory(change_makers_list=edition, position=1)
    edition.status = ChangeMakersList.Status.PUBLISHED
    edition.published_at = edition.created_at
    edition.save()
    with pytest.raises(ValidationError, match="unpublish it first"):
        run(edition, HEADER + "2,joelbervell,,,A.\r\n", staff_user)
    assert edition.entries.count() == 1


# --- The file's shape --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"  \r\n\r\n", "The file is empty."),
        (b"\xff\xfe\x00h\x00a\x00n\x00d\x00l\x00e", "not UTF-8 text"),
        ("handle,citation\r\nélodie,Café\r\n".encode("latin-1"), "not UTF-8 text"),
        (b"name,quote\r\nx,y\r\n", "missing: handle, citation"),
        (b"handle,citation\r\n", "no rows under its first line"),
        (b"handle,citation\r\na,b,c\r\n", "Line 2 has more fields"),
        (b"handle,citation\r\na,\x00b\r\n", "not UTF-8 text"),
        ("handle,citation\r\n".encode("utf-16-le"), "not UTF-8 text"),
        (b'handle,citation\r\n"a,b\r\n', "cannot be read as CSV"),
        (b"x" * (MAX_BYTES + 1), "larger than 256 KB"),
        (b"handle,citation\r\n" + b"a,b\r\n" * 1001, "more than 1000 rows"),
    ],
)
def test_a_file_that_is_not_a_usable_csv_is_refused_as_a_whole(data, message):
    with pytest.raises(ValidationError) as error:
        csv_rows(data)
    assert message in error.value.messages[0]


def test_the_template_csv_is_a_valid_import(client, staff_user, edition, people):
    CreatorFactory(handle="elivirkina", country="US", causes=[Cause.ENVIRONMENT])
    client.force_login(staff_user)
    response = client.get(reverse("creators:edition-import-template"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode()
    assert next(csv.reader(io.StringIO(text))) == [
        "position",
        "handle",
        "country",
        "cause",
        "citation",
    ]
    run(edition, text, staff_user)
    assert edition.entries.count() == 3


# --- The upload page ---------------------------------------------------------------------------


def upload(client, year, text: str | bytes, name="list.csv"):
    data = text.encode() if isinstance(text, str) else text
    return client.post(
        reverse("creators:edition-import", args=[year]),
        {"file": SimpleUploadedFile(name, data, content_type="text/csv")},
    )


def test_the_import_page_documents_the_columns(client, staff_user, edition):
    client.force_login(staff_user)
    content = client.get(reverse("creators:edition-import", args=[2027])).content.decode()
    for column in ("position", "handle", "country", "cause", "citation"):
        assert f'<span class="code">{column}</span>' in content
    assert reverse("creators:edition-import-template") in content
    assert 'enctype="multipart/form-data"' in content


def test_uploading_a_good_file_imports_it_and_goes_back_to_the_edition(
    client, staff_user, edition, people
):
    client.force_login(staff_user)
    response = upload(client, 2027, HEADER + "1,joelbervell,,,A.\r\n2,nora.learns,,,B.\r\n")
    assert response.status_code == 302
    assert response.url == reverse("creators:edition-detail", args=[2027]) + "#entries"
    assert edition.entries.count() == 2
    page = client.get(response.url).content.decode()
    assert "2 entries imported into Change Makers 2027." in page


def test_uploading_a_bad_file_shows_the_report_and_imports_nothing(
    client, staff_user, edition, people
):
    client.force_login(staff_user)
    response = upload(
        client,
        2027,
        HEADER + "1,joelbervell,,,A.\r\n2,nobody,,,B.\r\n3,nora.learns,XX,,C.\r\n",
    )
    assert response.status_code == 422
    content = response.content.decode()
    assert "Problems found" in content
    assert "2 rows have problems, so nothing was imported." in content
    assert "No creator has the handle @nobody." in content
    assert "“XX” is not a two-letter ISO country code." in content
    report = response.context["problems"]
    assert [(p.line, p.column) for p in report] == [(3, "handle"), (4, "country")]
    assert not edition.entries.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The submitted file is empty."),
        (b"\xc3\x28\xa0\xa1 garbage", "not UTF-8 text"),
        (b"x" * (MAX_BYTES + 10), "larger than 256 KB"),
    ],
)
def test_uploading_an_unreadable_file_says_why(client, staff_user, edition, data, message):
    client.force_login(staff_user)
    response = upload(client, 2027, data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not edition.entries.exists()


def test_the_import_is_refused_on_a_published_list(client, staff_user, edition, people):
    ListEntryFactory(change_makers_list=edition, position=1)
    edition.status = ChangeMakersList.Status.PUBLISHED
    edition.published_at = edition.created_at
    edition.save()
    client.force_login(staff_user)
    response = upload(client, 2027, HEADER + "2,joelbervell,,,A.\r\n")
    assert "unpublish it first" in response.content.decode()
    assert edition.entries.count() == 1


def test_rows_without_a_position_past_the_last_possible_one_are_reported(
    edition, people, staff_user
):
    text = HEADER + (
        "32766,joelbervell,,,A.\r\n,wanjiru.reads,,,B.\r\n,nora.learns,,,C.\r\n,@bad,,,D.\r\n"
    )
    with pytest.raises(ListImportRefused) as error:
        run(edition, text, staff_user)
    assert [(p.line, p.column) for p in error.value.problems] == [(4, "position"), (5, "handle")]
    assert error.value.problems[0].message == (
        "No position is left after 32767 for this row; give it one."
    )
    assert not edition.entries.exists()


def test_an_entry_without_a_position_after_the_last_possible_one_is_refused(
    edition, people, staff_user
):
    from creators.services import list_entry_add

    ListEntryFactory(change_makers_list=edition, position=32767)
    with pytest.raises(ValidationError) as error:
        list_entry_add(
            change_makers_list=edition,
            creator=people["nora.learns"],
            cause=Cause.EDUCATION,
            citation="One more.",
            actor=staff_user,
        )
    assert error.value.message_dict == {
        "position": ["The last position (32767) is taken; give a position."]
    }
