"""SCORM packages and zip safety, against archives built in the test."""

from __future__ import annotations

import io
import stat
import struct
import zipfile

import pytest

from knowledge.documents import CorruptFile, EmptyDocument, UnsafeArchive, UnsupportedFormat
from knowledge.loaders import Limits, load_bytes, load_file
from knowledge.safezip import open_safe_zip
from tests.unit.builders import MB, write, zip_bytes


# --- SCORM -----------------------------------------------------------------------------------------------

MANIFEST_12 = """<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="com.example.feedback" version="1" xml:base="course/"
    xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2" xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="ORG1">
    <organization identifier="ORG1">
      <title>Giving Feedback</title>
      <item identifier="M1"><title>Module 1: Basics</title>
        <item identifier="L1" identifierref="R1"><title>Why feedback matters</title></item>
        <item identifier="L2" identifierref="R2"><title>The SBI model</title></item>
      </item>
      <item identifier="M2" identifierref="R3"><title>Module 2: Practice</title></item>
    </organization>
  </organizations>
  <resources xml:base="lessons/">
    <resource identifier="R1" type="webcontent" adlcp:scormtype="sco" xml:base="one/" href="index.html?lang=en#start">
      <file href="index.html"/><file href="extra.html"/><file href="app.js"/>
    </resource>
    <resource identifier="R2" type="webcontent" adlcp:scormtype="asset" href="two/page.htm"/>
    <resource identifier="R3" type="webcontent" adlcp:scormtype="sco" href="three/missing.html"/>
  </resources>
</manifest>"""


def scorm_12() -> bytes:
    return zip_bytes({
        "imsmanifest.xml": MANIFEST_12,
        "course/lessons/one/index.html": "<html><head><title>L1</title><script>alert('run me')</script></head>"
        "<body><h1>Trust</h1><p>Feedback builds trust.</p></body></html>",
        "course/lessons/one/extra.html": "<p>Extra reading on trust.</p>",
        "course/lessons/one/app.js": "console.log('never read')",
        "course/lessons/two/page.htm": "<p>Situation, Behaviour, Impact.</p>",
    })


def test_scorm_12_reads_lessons_in_outline_order(tmp_path):
    document = load_file(write(tmp_path, "feedback.zip", scorm_12()))
    assert document.title == "Giving Feedback"
    assert document.doc_type == "scorm"
    assert document.metadata["scorm_version"] == "1.2"
    assert document.metadata["outline"] == [
        {"title": "Module 1: Basics", "depth": 0},
        {"title": "Why feedback matters", "depth": 1},
        {"title": "The SBI model", "depth": 1},
        {"title": "Module 2: Practice", "depth": 0},
    ]
    assert [s.locator for s in document.sections] == [{"lesson": "Why feedback matters"}, {"lesson": "The SBI model"}]
    first, second = (s.text for s in document.sections)
    assert first.splitlines()[0] == "# Module 1: Basics › Why feedback matters"
    assert "## Trust" in first and "Feedback builds trust." in first and "Extra reading on trust." in first
    assert "alert" not in first and "console.log" not in first
    assert second.splitlines()[0] == "# Module 1: Basics › The SBI model"
    assert "Situation, Behaviour, Impact." in second
    assert any("missing.html" in warning for warning in document.metadata["warnings"])


def test_scorm_2004_uses_the_default_organization():
    manifest = """<manifest xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"
        xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3" identifier="m">
      <organizations default="main">
        <organization identifier="draft"><title>Old draft</title>
          <item identifier="i0" identifierref="r1"><title>Draft lesson</title></item></organization>
        <organization identifier="main"><title>Coaching conversations</title>
          <item identifier="i1" identifierref="r1"><title>Asking good questions</title></item></organization>
      </organizations>
      <resources>
        <resource identifier="r1" type="webcontent" adlcp:scormType="sco" href="content/q.html?x=1">
          <file href="content/q.html"/></resource>
      </resources>
    </manifest>"""
    document = load_bytes("coaching.zip", zip_bytes({
        "imsmanifest.xml": manifest,
        "content/q.html": "<h1>Open questions</h1><p>Start with what or how.</p>",
    }))
    assert document.title == "Coaching conversations"
    assert document.metadata["scorm_version"] == "2004"
    assert document.metadata["outline"] == [{"title": "Asking good questions", "depth": 0}]
    assert document.sections[0].text.startswith("# Asking good questions\n\n## Open questions")
    assert "warnings" not in document.metadata


def test_zip_without_manifest_is_not_a_scorm_package():
    with pytest.raises(UnsupportedFormat, match="SCORM package with imsmanifest.xml"):
        load_bytes("docs.zip", zip_bytes({"readme.txt": "hello"}))


def test_manifest_with_entities_is_refused():
    manifest = '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaa">]><manifest>&a;</manifest>'
    with pytest.raises(UnsafeArchive, match="entities"):
        load_bytes("evil.zip", zip_bytes({"imsmanifest.xml": manifest}))


def test_scorm_whose_pages_have_no_text_is_empty():
    manifest = MANIFEST_12.replace('xml:base="course/"', "")
    with pytest.raises(EmptyDocument, match="JavaScript"):
        load_bytes("js.zip", zip_bytes({"imsmanifest.xml": manifest, "lessons/one/index.html": "<script>x()</script>"}))


# --- zip safety ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["../evil.html", "/etc/evil.html", "C:/evil.html", "..\\evil.html", "a/../../evil.html"]
)
def test_traversal_names_are_refused_and_named(name):
    with pytest.raises(UnsafeArchive, match="points outside the package") as caught:
        load_bytes("course.zip", zip_bytes({"imsmanifest.xml": MANIFEST_12, name: "<p>x</p>"}))
    assert name in str(caught.value).replace("\\\\", "\\")


def test_symlink_entries_are_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("imsmanifest.xml", MANIFEST_12)
        link = zipfile.ZipInfo("course/lessons/one/index.html")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    with pytest.raises(UnsafeArchive, match=r"'course/lessons/one/index\.html' is a symbolic link"):
        load_bytes("course.zip", buffer.getvalue())


def test_a_zip_bomb_over_the_total_size_is_refused_before_decompressing():
    bomb = zip_bytes({"imsmanifest.xml": MANIFEST_12, "course/big.bin": b"\x00" * (50 * MB)})
    limits = Limits(max_archive_bytes=10 * MB, max_compression_ratio=10_000)
    with pytest.raises(UnsafeArchive, match=r"more than 10 MB.*course/big\.bin"):
        load_bytes("bomb.zip", bomb, limits)


def test_too_many_entries_are_refused():
    entries = {f"f{n}.txt": "x" for n in range(30)}
    with pytest.raises(UnsafeArchive, match="31 entries, more than the 20 allowed"):
        load_bytes("many.zip", zip_bytes({"imsmanifest.xml": MANIFEST_12, **entries}), Limits(max_archive_entries=20))


def test_small_repetitive_files_are_not_mistaken_for_bombs():
    with open_safe_zip(zip_bytes({"spaces.txt": " " * 500_000}), Limits()) as archive:
        assert archive.read("spaces.txt") == b" " * 500_000


def test_a_header_that_understates_the_size_never_yields_more_than_declared():
    data = bytearray(zip_bytes({"page.html": "<p>" + "a" * 10_000 + "</p>"}))
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 100)  # uncompressed size in the central directory
    with open_safe_zip(bytes(data), Limits()) as archive, pytest.raises(CorruptFile, match="page.html"):
        archive.read("page.html")


def test_a_bad_zip_is_corrupt():
    with pytest.raises(CorruptFile, match="not a valid zip"):
        load_bytes("course.zip", b"PK\x03\x04 truncated")
