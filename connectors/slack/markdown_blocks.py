"""The core's Markdown (the tokens of `connectors.markdown.parse`) as Slack sees it: mrkdwn for section text, and a
real `table` block for a GFM table. Slack takes one table block per message (a second one makes it refuse the whole
message, `invalid_attachments`) of at most 100 rows of 20 cells, so the first table that fits becomes a table block
and any other is written as "Header: value" lines in the text around it, which read well on every client. Cells are
`rich_text` (bold, italic, strike, code, links and linked `[n]` markers survive), never `raw_text`, which Slack has
answered with server errors. The same lines are the plain-text rendering of a table for `fallback_text`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markdown_it.tree import SyntaxTreeNode

from connectors.markdown import parse

SECTION_LIMIT = 3000  # characters of a section's text
TABLE_ROWS = 100  # rows in a table block, the header row included
TABLE_COLUMNS = 20  # cells in one row, and items of column_settings
TABLE_CHARACTERS = 10_000  # characters across all cells of a table
EMPTY_CELL = "–"  # Slack wants text in every cell
WEB_LINK = re.compile(r"(?:https?://|mailto:)\S+$", re.IGNORECASE)
_CITE = re.compile(r"\[(\d+)\]")
_BLANK = re.compile(r"^[\s>]*$")  # a blank source line, also inside a quote
_ALIGN = re.compile(r"text-align:(left|center|right)")


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def url(link: str) -> str:
    """A URL fit for `<url|label>`: escaped, and without the `|` that would end it."""
    return escape(link).replace("|", "%7C")


@dataclass
class _Render:
    """One rendering: `links` turns `[n]` into links to the source; `plain` strips markup instead of converting it."""

    links: dict[int, str] = field(default_factory=dict)
    plain: bool = False
    lines: list[str] = field(default_factory=list)  # the source, to keep its blank lines between blocks


def tree(markdown: str) -> tuple[SyntaxTreeNode, list[str]]:
    source = (markdown or "").replace("\r\n", "\n").replace("\r", "\n")
    return SyntaxTreeNode(parse(source)), source.split("\n")


def to_mrkdwn(markdown: str, links: dict[int, str] | None = None, *, plain: bool = False) -> str:
    """Slack mrkdwn (`&<>` escaped, also inside code, where Slack shows them as typed), or plain text (`plain`,
    not escaped: the caller escapes what it sends)."""
    root, lines = tree(markdown)
    return _blocks(root.children, _Render(links or {}, plain, lines))


def body_blocks(markdown: str, links: dict[int, str]) -> list[dict]:
    """The answer as sections of mrkdwn of at most 3000 characters, with the first table that Slack can take as a
    table block where it stands."""
    root, lines = tree(markdown)
    render = _Render(links, False, lines)
    blocks: list[dict] = []
    run: list[SyntaxTreeNode] = []
    tabled = False
    for node in root.children:
        table = None if tabled or node.type != "table" else table_block(node, links)
        if table is None:
            run.append(node)
            continue
        blocks += [section(chunk) for chunk in split(_blocks(run, render))]
        blocks.append(table)
        run, tabled = [], True
    return blocks + [section(chunk) for chunk in split(_blocks(run, render))]


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


# --- blocks as mrkdwn ------------------------------------------------------------------------------------------------

def _blocks(nodes: list[SyntaxTreeNode], render: _Render, quoted: bool = False) -> str:
    """Sibling blocks, a blank line between them where the source has one."""
    out = ""
    for node in nodes:
        text = _block(node, render, quoted)
        if not text:
            continue
        if out:
            start = node.map[0] if node.map else 0
            out += "\n\n" if start > 0 and _BLANK.match(render.lines[start - 1]) else "\n"
        out += text
    return out


def _block(node: SyntaxTreeNode, render: _Render, quoted: bool) -> str:
    kind = node.type
    if kind == "paragraph":
        return _inline(node.children[0], render) if node.children else ""
    if kind == "heading":
        text = _inline(node.children[0], render, bold=False) if node.children else ""
        return text if render.plain or not text.strip() else f"*{text}*"
    if kind in ("bullet_list", "ordered_list"):
        return _list(node, render, quoted, 0)
    if kind == "blockquote":
        inner = _blocks(node.children, render, quoted=True)
        if render.plain or quoted:  # mrkdwn has one level of quote
            return inner
        return "\n".join(f"> {line}".rstrip() for line in inner.split("\n"))
    if kind in ("fence", "code_block"):
        code = node.content.rstrip("\n")
        return code if render.plain else f"```\n{escape(code)}\n```"
    if kind == "table":
        return "\n".join(table_lines(node, render))
    if kind == "html_block":
        return node.content.rstrip("\n") if render.plain else escape(node.content.rstrip("\n"))
    return ""  # a thematic break: the blank line around it is enough


def _list(node: SyntaxTreeNode, render: _Render, quoted: bool, depth: int) -> str:
    indent = "  " * depth
    start = int(node.attrs.get("start", 1)) if node.type == "ordered_list" else 0
    lines = []
    for i, item in enumerate(node.children):
        marker = f"{start + i}. " if node.type == "ordered_list" else "• "
        pad = indent + "  "
        head, body = None, []
        for child in item.children:
            if child.type in ("bullet_list", "ordered_list"):
                body.append(_list(child, render, quoted, depth + 1))
            elif text := _block(child, render, quoted):
                first, *more = text.split("\n")
                if head is None and not body:
                    head = first
                else:
                    body.append(pad + first)
                body.extend(pad + line for line in more)
        lines.append(indent + marker + (head or ""))
        lines.extend(body)
    return "\n".join(lines)


def table_lines(node: SyntaxTreeNode, render: _Render) -> list[str]:
    """A table as one line per row, each cell with its column's header: "• *Country:* Netherlands · *Rate:* …"."""
    rows = [[_inline(cell.children[0], render) if cell.children else "" for cell in row.children]
            for row in _rows(node)]
    if not rows:
        return []
    header, body = rows[0], rows[1:]
    if not body:
        return ["• " + " · ".join(h for h in header if h.strip())]
    lines = []
    for row in body:
        pairs = []
        for i, value in enumerate(row):
            name = header[i].strip() if i < len(header) else ""
            if not value.strip():
                continue
            label = name if render.plain or not name else f"*{name}*"
            pairs.append(f"{label}: {value}" if name else value)
        if pairs:
            lines.append("• " + " · ".join(pairs))
    return lines


def _rows(table: SyntaxTreeNode) -> list[SyntaxTreeNode]:
    return [row for part in table.children for row in part.children if row.type == "tr"]


# --- inline as mrkdwn ------------------------------------------------------------------------------------------------

def _inline(node: SyntaxTreeNode, render: _Render, bold: bool = True) -> str:
    return "".join(_span(child, render, bold) for child in node.children)


def _span(node: SyntaxTreeNode, render: _Render, bold: bool) -> str:
    kind = node.type
    if kind == "text":
        return _text(node.content, render)
    if kind in ("softbreak", "hardbreak"):
        return "\n"
    if kind == "code_inline":
        return node.content if render.plain else f"{node.markup}{escape(node.content)}{node.markup}"
    if kind in ("strong", "em", "s"):
        inner = _inline(node, render, bold)
        if render.plain or not inner.strip():
            return inner
        if kind == "strong":
            return f"*{inner}*" if bold else inner
        if kind == "s":
            return f"~{inner}~"
        only = [c for c in node.children if not (c.type == "text" and not c.content)]
        if bold and len(only) == 1 and only[0].type == "strong":  # ***both***: bold outside, as Slack reads it
            return f"*_{_inline(only[0], render, bold)}_*"
        return f"_{inner}_"
    if kind == "link":
        href = node.attrs.get("href", "")
        label = _inline(node, _Render(plain=True))
        if node.markup == "autolink":
            return label if render.plain else f"<{url(href)}>"
        if render.plain or not WEB_LINK.match(href):
            return label if render.plain else escape(label)
        return f"<{url(href)}|{escape(label)}>"
    if kind == "image":
        alt = _inline(node, _Render(plain=True)) or node.attrs.get("src", "")
        return alt if render.plain else escape(alt)
    return _text(node.content, render)  # html_inline (raw HTML is off: shown as typed)


def _text(text: str, render: _Render) -> str:
    """Plain words, `[n]` markers linked to their source where it has a web link."""
    if render.plain:
        return text
    out, at = [], 0
    for m in _CITE.finditer(text):
        link = render.links.get(int(m[1]), "")
        if link:
            out += [escape(text[at:m.start()]), f"<{url(link)}|{m[0]}>"]
            at = m.end()
    return "".join(out) + escape(text[at:])


# --- the table block -------------------------------------------------------------------------------------------------

def table_block(node: SyntaxTreeNode, links: dict[int, str]) -> dict | None:
    """Slack's table block with rich_text cells, the header row first; None when Slack would not take it."""
    rows = _rows(node)
    width = max((len(row.children) for row in rows), default=0)
    if not rows or width == 0 or len(rows) > TABLE_ROWS or width > TABLE_COLUMNS:
        return None
    cells = [[_cell(cell, links, header=row.parent.type == "thead") for cell in row.children]
             for row in rows]
    if sum(_characters(cell) for row in cells for cell in row) > TABLE_CHARACTERS:
        return None
    settings = []
    for cell in rows[0].children:
        align = _ALIGN.search(cell.attrs.get("style", ""))
        settings.append({"is_wrapped": True, **({"align": align[1]} if align else {})})
    return {"type": "table", "column_settings": settings, "rows": cells}


def _cell(cell: SyntaxTreeNode, links: dict[int, str], header: bool) -> dict:
    elements = _rich(cell.children[0], links, {"bold": True} if header else {}) if cell.children else []
    elements = [e for e in elements if e.get("text") or e["type"] == "link"]
    if not any(e.get("text", "").strip() for e in elements):
        elements = [{"type": "text", "text": EMPTY_CELL}]
    return {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": elements}]}


def _characters(cell: dict) -> int:
    return sum(len(e.get("text", "") or e.get("url", "")) for e in cell["elements"][0]["elements"])


def _rich(node: SyntaxTreeNode, links: dict[int, str], style: dict) -> list[dict]:
    """Inline tokens as rich_text elements: text with a style, links; neighbours of one style merged."""
    out: list[dict] = []

    def add(element: dict) -> None:
        if element["type"] == "text" and out and out[-1]["type"] == "text" \
                and out[-1].get("style") == element.get("style"):
            out[-1]["text"] += element["text"]
        elif element["type"] == "link" or element["text"]:
            out.append(element)

    def styled(kind: str, **fields) -> dict:
        return {"type": kind, **fields, **({"style": dict(style)} if style else {})}

    for child in node.children:
        kind = child.type
        if kind == "text":
            at = 0
            for m in _CITE.finditer(child.content):
                if link := links.get(int(m[1]), ""):
                    add(styled("text", text=child.content[at:m.start()]))
                    add(styled("link", url=link, text=m[0]))
                    at = m.end()
            add(styled("text", text=child.content[at:]))
        elif kind in ("softbreak", "hardbreak"):
            add(styled("text", text="\n" if kind == "hardbreak" else " "))
        elif kind == "code_inline":
            add({"type": "text", "text": child.content, "style": {**style, "code": True}})
        elif kind in ("strong", "em", "s"):
            name = {"strong": "bold", "em": "italic", "s": "strike"}[kind]
            for element in _rich(child, links, {**style, name: True}):
                add(element)
        elif kind == "link":
            href = child.attrs.get("href", "")
            label = _inline(child, _Render(plain=True)) or href
            add(styled("link", url=href, text=label) if WEB_LINK.match(href) else styled("text", text=label))
        elif kind == "image":
            add(styled("text", text=_inline(child, _Render(plain=True))))
        else:
            add(styled("text", text=child.content))
    return out


# --- sections of at most 3000 characters -----------------------------------------------------------------------------

def split(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Non-empty pieces of at most `limit` characters, cut on line boundaries; a code block cut in two is closed at
    the end of one piece and reopened in the next."""
    chunks: list[str] = []
    lines: list[str] = []
    size, in_code = 0, False
    for line in _wrap(text.split("\n"), limit - 8):
        code_after = in_code != (line == "```")
        need = len(line) + (1 if lines else 0)
        if lines and size + need + (4 if code_after else 0) > limit:
            chunks.append("\n".join(lines + (["```"] if in_code else [])))
            lines = ["```"] if in_code else []
            size = 3 if in_code else 0
            need = len(line) + (1 if lines else 0)
        lines.append(line)
        size += need
        in_code = code_after
    chunks.append("\n".join(lines))
    return [c.strip("\n") for c in chunks if c.strip()]


def _wrap(lines: list[str], width: int) -> list[str]:
    """Lines longer than `width` cut in pieces, at the last space that fits where there is one."""
    out = []
    for line in lines:
        while len(line) > width:
            cut = line.rfind(" ", 1, width + 1)
            cut = cut if cut > 0 else width
            out.append(line[:cut])
            line = line[cut:].lstrip(" ")
        out.append(line)
    return out
