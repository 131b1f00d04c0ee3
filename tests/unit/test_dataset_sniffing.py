"""What an upload holds: CSV that is really text CSV (or a clear error naming the line), its
header, column types, row count and preview; Parquet from its footer."""

import io
import zipfile

import pytest

from jobs.datasets import inspection, uploads
from jobs.datasets.inspection import (
    cell_type,
    inspect_csv,
    inspect_files,
    inspect_parquet,
    looks_like_header,
    merge_types,
)
from jobs.datasets.uploads import SizeLimitHandler, human_size
from studio.core.errors import ValidationException


@pytest.fixture
def write(tmp_path):
    """Write a file and open it for reading, as an upload or the store hands it over."""
    opened = []

    def write(content: bytes | str, name: str = "data.csv"):
        path = tmp_path / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        opened.append(path.open("rb"))
        return opened[-1]

    yield write
    for file in opened:
        file.close()


def refused(file, name: str = "data.csv") -> str:
    with pytest.raises(ValidationException) as caught:
        inspect_csv(file, name)
    assert caught.value.field == "File"
    return caught.value.message


def test_a_good_csv_with_a_header(write):
    info = inspect_csv(
        write("sepal,petal,species,ok\n5.1,1.4,setosa,true\n4.9,2,virginica,false\n"), "iris.csv"
    )
    assert info.has_header
    assert info.row_count == 2
    assert info.columns == [
        {"name": "sepal", "type": "float"},
        {"name": "petal", "type": "float"},
        {"name": "species", "type": "string"},
        {"name": "ok", "type": "bool"},
    ]
    assert info.preview == [["5.1", "1.4", "setosa", "true"], ["4.9", "2", "virginica", "false"]]


def test_headerless_numeric_csv_as_built_in_algorithms_take_it(write):
    info = inspect_csv(write("1,0.5,3\n0,1.5,4\r\n1,2.5,5"), "train.csv")
    assert not info.has_header
    assert info.row_count == 3
    assert [c["name"] for c in info.columns] == ["column_1", "column_2", "column_3"]
    assert [c["type"] for c in info.columns] == ["int", "float", "int"]


def test_text_only_csv_reads_distinct_labels_as_a_header(write):
    assert inspect_csv(write("name,city\nalice,paris\nbob,rome\n"), "x.csv").has_header
    # The same value twice is data, not column names.
    assert not inspect_csv(write("a,a\nb,c\n"), "x.csv").has_header


def test_preview_keeps_the_first_twenty_rows_and_counts_them_all(write):
    rows = "".join(f"{i},{i * 2}\n" for i in range(1000))
    info = inspect_csv(write("x,y\n" + rows), "x.csv")
    assert info.row_count == 1000
    assert len(info.preview) == inspection.PREVIEW_ROWS
    assert info.preview[0] == ["0", "0"]


def test_blank_lines_are_not_rows_but_empty_fields_are(write):
    info = inspect_csv(write("a,b\n1,\n\n,2\n\n"), "x.csv")
    assert info.row_count == 2
    assert info.preview == [["1", ""], ["", "2"]]


def test_quoted_fields_may_hold_commas_and_newlines(write):
    info = inspect_csv(write('id,text\n1,"hello, world"\n2,"two\nlines"\n'), "x.csv")
    assert info.row_count == 2
    assert info.preview[1] == ["2", "two\nlines"]


@pytest.mark.parametrize("quoted", [False, True])
def test_large_files_are_counted_and_checked_past_the_first_rows(write, monkeypatch, quoted):
    # Blocks of 64 bytes: types come from the first, the other rows are counted and checked.
    monkeypatch.setattr(inspection, "BLOCK_BYTES", 64)
    cell = '"q"' if quoted else "q"  # quoted fields may hold newlines: read another way
    body = "".join(f"{i},{cell}\n" for i in range(50))
    assert inspect_csv(write("n,s\n" + body + "\n"), "x.csv").row_count == 50
    message = refused(write("n,s\n" + body + f"7,{cell},extra\n" + body))
    assert "line 52 has 3 fields, but line 1 has 2" in message


def test_ragged_rows_name_the_line(write):
    message = refused(write("a,b,c\n1,2,3\n4,5\n"))
    assert message == "data.csv is not a CSV file: line 3 has 2 fields, but line 1 has 3."


def test_a_binary_file_named_csv_is_refused(write):
    message = refused(write(bytes(range(256)) * 4))
    assert message.startswith("data.csv is not a CSV file: line 1 contains a NUL byte")


def test_nul_bytes_name_their_line(write):
    assert "line 3 contains a NUL byte" in refused(write(b"a,b\n1,2\n3\x00,4\n"))


def test_control_bytes_are_binary(write):
    assert "line 2 contains binary (control) bytes" in refused(write(b"a,b\n\x01\x02,3\n"))


def test_text_that_is_not_utf8_is_refused(write):
    assert "line 2 is not UTF-8 text" in refused(write("a,b\ncafé,1\n".encode("latin-1")))


def test_a_utf8_byte_order_mark_is_not_part_of_the_first_name(write):
    info = inspect_csv(write("\ufeffa,b\n1,2\n".encode()), "x.csv")
    assert info.columns[0]["name"] == "a"


def test_a_parquet_file_named_csv_says_what_it_is(write):
    message = refused(write(b"PAR1\x15\x04\x15\x00PAR1"))
    assert "it is a Parquet file" in message
    assert ".parquet" in message


def test_a_zip_named_csv_says_what_it_is(write):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data.csv", "a,b\n1,2\n")
    assert "it is a zip archive" in refused(write(buffer.getvalue()))


def test_gzip_named_csv(write):
    assert "gzip" in refused(write(b"\x1f\x8b\x08\x00rest"))


def test_an_empty_file(write):
    assert refused(write(b"")) == "data.csv is not a CSV file: it is empty."
    assert "only blank lines" in refused(write("\n\n  \n"))


def test_a_header_without_rows(write):
    assert refused(write("a,b,c\n")) == "data.csv has a header row but no data rows."


def test_broken_quoting_names_the_line(write):
    assert "line 3" in refused(write('a,b\n1,2\n3,"open\n'))


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("1", "int"),
        ("-42", "int"),
        ("+7", "int"),
        ("3.14", "float"),
        ("1e-5", "float"),
        (".5", "float"),
        ("NaN", "float"),
        ("True", "bool"),
        ("false", "bool"),
        ("1_000", "string"),  # Python would take it; pandas and CSV readers do not
        ("abc", "string"),
        ("2024-01-01", "string"),
        ("", None),
        ("  ", None),
    ],
)
def test_cell_types(value, kind):
    assert cell_type(value) == kind


def test_type_inference_widens_and_ignores_missing_values(write):
    info = inspect_csv(write("1,1,true,,x\n2.5,2,1,,1\n,3,false,,2\n"), "x.csv")
    assert [c["type"] for c in info.columns] == ["float", "int", "string", "string", "string"]
    assert merge_types("int", "float") == "float"
    assert merge_types(None, "bool") == "bool"
    assert merge_types("bool", "int") == "string"


def test_header_detection():
    assert looks_like_header(["a", "b"], ["int", "float"])
    assert not looks_like_header(["1", "b"], ["int", "string"])  # a number is data
    assert not looks_like_header(["a", ""], ["int", "int"])  # a missing name is data


def test_parquet_row_count_types_and_preview(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    path = tmp_path / "t.parquet"
    table = pa.table(
        {
            "n": list(range(100)),
            "x": [i / 2 for i in range(100)],
            "flag": [i % 2 == 0 for i in range(100)],
            "label": [f"c{i}" for i in range(100)],
            "missing": [float("nan")] * 100,
        }
    )
    pq.write_table(table, path, row_group_size=30)
    with path.open("rb") as file:
        info = inspect_parquet(file, "t.parquet")
    assert info.row_count == 100
    assert [c["type"] for c in info.columns] == ["int", "float", "bool", "string", "float"]
    assert len(info.preview) == inspection.PREVIEW_ROWS
    assert info.preview[1] == [1, 0.5, False, "c1", "nan"]  # NaN has no JSON form


def test_a_csv_named_parquet_is_refused(write):
    path = write("a,b\n1,2\n", "t.parquet")
    with pytest.raises(ValidationException, match="is not a Parquet file"):
        inspect_parquet(path, "t.parquet")


def test_a_truncated_parquet_file_is_refused(write):
    with pytest.raises(ValidationException, match="not a readable Parquet file"):
        inspect_parquet(write(b"PAR1" + b"\x00" * 20 + b"PAR1", "t.parquet"), "t.parquet")


def test_a_folder_of_part_files_is_one_dataset(write, tmp_path):
    write("x,y\n1,2\n", "part-0.csv")
    write("x,y\n3,4.5\n5,6\n", "part-1.csv")
    write("", "_SUCCESS")
    fmt, info = inspect_files(
        ["part-0.csv", "part-1.csv", "_SUCCESS"],
        lambda name: (tmp_path / name).open("rb"),
        "s3://b/out/",
    )
    assert fmt == "csv"
    assert info.row_count == 3
    assert info.files == ["part-0.csv", "part-1.csv"]
    assert [c["type"] for c in info.columns] == ["int", "float"]


def test_a_folder_with_different_columns_is_refused(write, tmp_path):
    write("x,y\n1,2\n", "a.csv")
    write("x,z\n1,2\n", "b.csv")
    with pytest.raises(ValidationException, match="different columns"):
        inspect_files(["a.csv", "b.csv"], lambda name: (tmp_path / name).open("rb"), "s3://b/out/")


@pytest.mark.parametrize("name", ["data.txt", "data", "data.csv.gz", "data.xlsx"])
def test_only_csv_and_parquet_names(name):
    with pytest.raises(ValidationException, match=r"must be a \.csv or \.parquet file"):
        uploads.file_format(name)


def test_file_names_are_made_safe_for_uris():
    assert uploads.safe_file_name("My Data (1).CSV", "csv") == "My-Data-1.csv"
    assert uploads.safe_file_name("../../etc.csv", "csv") == "etc.csv"
    assert uploads.safe_file_name("...csv", "csv") == "data.csv"


def test_sizes_read_as_people_read_them():
    assert human_size(512 * 1024**2) == "512 MiB"
    assert human_size(100) == "100 bytes"
    assert human_size(1536) == "1.5 KiB"


def test_size_limit_handler_skips_a_file_past_the_limit():
    from django.core.files.uploadhandler import SkipFile

    handler = SizeLimitHandler(10)
    handler.new_file("file", "big.csv", "text/csv", 20)
    assert handler.receive_data_chunk(b"x" * 6, 0) == b"x" * 6
    with pytest.raises(SkipFile):
        handler.receive_data_chunk(b"x" * 6, 6)
    assert handler.exceeded == "big.csv"
