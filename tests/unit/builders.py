"""Fixture builders shared by the loader tests: every file is made in the test, nothing comes from disk."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from fpdf import FPDF

MB = 1024 * 1024


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def zip_bytes(entries: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def pdf_bytes(
    pages: list[str], title: str | None = None, labels: bool = False, user_password: str | None = None
) -> bytes:
    pdf = FPDF()
    if title:
        pdf.set_title(title)
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        if labels:
            pdf.set_page_label(label_style="r")
        pdf.multi_cell(w=0, text=text)
    if user_password:
        pdf.set_encryption(owner_password="owner-secret", user_password=user_password)
    return bytes(pdf.output())
