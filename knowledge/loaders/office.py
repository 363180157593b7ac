"""DOCX and PPTX are zip packages: vet them before python-docx / python-pptx open them.

An Office file saved with a password is not a zip at all but an OLE compound file (the same container as
old .doc/.ppt files), so that signature gets its own, actionable message. The zip checks run first because
the Office libraries decompress parts without any limit of their own: a DOCX zip bomb must be refused here.
"""

from __future__ import annotations

from knowledge.documents import CorruptFile, EncryptedFile
from knowledge.loaders.limits import Limits
from knowledge.safezip import open_safe_zip

_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def check_office_package(data: bytes, kind: str, limits: Limits) -> None:
    """Raise EncryptedFile, CorruptFile or UnsafeArchive unless `data` looks like a safe Office zip."""
    suffix = kind.lower()
    if data.startswith(_OLE_SIGNATURE):
        raise EncryptedFile(
            f"{kind} is password-protected (or is an old-format .{suffix[:-1]} file): remove the password, "
            f"save it as .{suffix} and upload it again"
        )
    if not data.startswith(b"PK"):
        raise CorruptFile(f"this is not a {kind} file (it is not a zip package): save it again as .{suffix}")
    open_safe_zip(data, limits).close()
