"""The Microsoft Teams app package: manifest.json and two icons in a zip an admin uploads to Teams."""

from __future__ import annotations

import io
import json
import re
import zipfile
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit

from PIL import Image, ImageDraw

from connectors.policies import PRIVACY_PATH, TERMS_PATH

# the newest manifest Microsoft publishes; every version since 1.22 requires the same properties, and what they
# add for bots (the Copilot scope, prompt-type commands, slash triggers with targeted messages) is opt-in and left out
MANIFEST_VERSION = "1.29"
SCHEMA = f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
ACCENT = "#3B5BDB"
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
COMMANDS = [  # (title <= 32, description <= 128): what coach/self_service.py and nudge_card.py recognise
    ("help", "What the coach can do and how to ask it"),
    ("what should I learn next", "A micro-lesson picked for you, and why"),
    ("what do you know about me", "See everything the coach keeps about you"),
    ("pause", "Stop nudges and micro-lessons (you can still ask questions)"),
    ("resume", "Start nudges and micro-lessons again"),
    ("forget me", "Delete everything the coach keeps about you"),
    ("nudge", "Managers: schedule a nudge or a lesson for your team"),
    ("my nudges", "Managers: list, edit, pause or delete your nudges"),
]


def build_package(settings, out: Path) -> Path:
    """Write the Teams app package to `out`; ValueError names the setting that is missing or wrong."""
    manifest = build_manifest(settings)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        zf.writestr("color.png", _png(color_icon()))
        zf.writestr("outline.png", _png(outline_icon()))
    return out


def build_manifest(settings) -> dict:
    app_id = (settings.microsoft_app_id or "").strip()
    if not GUID.match(app_id):
        problem = "is not set" if not app_id else f"is {app_id!r}, not a GUID"
        raise ValueError(f"MICROSOFT_APP_ID {problem}: set it to the bot's Microsoft App ID from its Azure Bot "
                         "registration (Azure portal -> the Azure Bot -> Configuration), e.g. in .env.")
    base = (settings.public_url or "").strip().rstrip("/")
    if not base:
        raise ValueError("COACH_PUBLIC_URL is not set: set it to the app's public https address "
                         "(e.g. COACH_PUBLIC_URL=https://coach.example.com), the one the Azure Bot's messaging "
                         "endpoint points to.")
    host = urlsplit(base).hostname
    if not base.lower().startswith("https://") or not host:
        raise ValueError(f"COACH_PUBLIC_URL is {base!r}: Teams needs an https address, "
                         "e.g. COACH_PUBLIC_URL=https://coach.example.com.")
    company = (settings.company_name or "").strip() or "Learning coach"
    commands = [{"title": t, "description": d} for t, d in COMMANDS]
    developer = {"name": company[:32], "websiteUrl": base,
                 "privacyUrl": _page_url("COACH_PRIVACY_URL", settings.privacy_url, base + PRIVACY_PATH),
                 "termsOfUseUrl": _page_url("COACH_TERMS_URL", settings.terms_url, base + TERMS_PATH)}
    return {
        "$schema": SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": app_version(),
        "id": app_id,
        "developer": developer,
        "name": {"short": "Learning coach", "full": f"Learning coach for {company}"[:100]},
        "description": {
            "short": "Answers work questions from your company's learning content, with sources."[:80],
            "full": (f"Ask the learning coach how things work at {company}: it answers from the learning content "
                     "your L&D team published, cites its sources and says plainly when the content does not "
                     "cover a question. Say 'what do you know about me' to see what it keeps, "
                     "'forget me' to delete it, and 'pause' or 'resume' for nudges.")[:4000],
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": ACCENT,
        "bots": [{
            "botId": app_id,
            "scopes": ["personal", "team", "groupChat"],
            "supportsFiles": False,
            "isNotificationOnly": False,
            "commandLists": [{"scopes": ["personal"], "commands": commands},
                             {"scopes": ["team"], "commands": commands}],
        }],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [host],
    }


def _page_url(setting: str, value: str, default: str) -> str:
    """The company's own notice when the setting names one, else the app's own page; over https, like the app."""
    url = (value or "").strip()
    if not url:
        return default
    if not url.lower().startswith("https://") or not urlsplit(url).hostname:
        raise ValueError(f"{setting} is {url!r}: set it to the https address of the company's page (e.g. "
                         f"{setting}=https://intranet.example.com/learning-coach), or leave it empty to link "
                         f"the coach's own page, {default}.")
    return url


def app_version() -> str:
    """The project's version as Teams wants it (MAJOR.MINOR.PATCH, numbers only)."""
    try:
        version = metadata.version("learning-coach")
    except metadata.PackageNotFoundError:
        pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
        found = re.search(r'^version\s*=\s*"([^"]+)"', pyproject.read_text(), re.M) if pyproject.exists() else None
        version = found.group(1) if found else "1.0.0"
    release = re.match(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?", version)  # 0.1.0.dev3 -> 0.1.0, 2.1 -> 2.1.0
    return ".".join(str(int(n or 0)) for n in release.groups()) if release else "1.0.0"


def _cap_mask(size: int) -> Image.Image:
    """A white graduation cap on black, drawn 4x larger and scaled down for smooth edges."""
    s = size * 4
    mask = Image.new("L", (s, s), 0)
    d = ImageDraw.Draw(mask)
    p = lambda *xy: [(x * s, y * s) for x, y in zip(xy[::2], xy[1::2])]  # noqa: E731
    d.polygon(p(0.28, 0.48, 0.72, 0.48, 0.72, 0.68, 0.5, 0.76, 0.28, 0.68), fill=255)  # the cap's band
    d.polygon(p(0.5, 0.2, 0.92, 0.4, 0.5, 0.6, 0.08, 0.4), fill=255, outline=0, width=round(s * 0.035))
    d.polygon(p(0.5, 0.24, 0.86, 0.4, 0.5, 0.56, 0.14, 0.4), fill=255)  # the board, set off from the band
    d.line(p(0.84, 0.41, 0.84, 0.7), fill=255, width=round(s * 0.035))  # tassel
    d.ellipse([s * 0.8, s * 0.67, s * 0.88, s * 0.77], fill=255)
    return mask.resize((size, size), Image.LANCZOS)


def color_icon(size: int = 192) -> Image.Image:
    s = size * 4
    tile = Image.new("L", (s, s), 0)
    ImageDraw.Draw(tile).rounded_rectangle([0, 0, s - 1, s - 1], radius=round(s * 0.2), fill=255)
    image = Image.new("RGBA", (size, size), ACCENT)
    image.putalpha(tile.resize((size, size), Image.LANCZOS))
    image.paste((255, 255, 255, 255), mask=_cap_mask(size))
    return image


def outline_icon(size: int = 32) -> Image.Image:
    image = Image.new("RGBA", (size, size), (255, 255, 255, 0))  # white everywhere, opaque only on the mark
    image.putalpha(_cap_mask(size))
    return image


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
