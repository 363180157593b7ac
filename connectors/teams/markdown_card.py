"""The core's Markdown (the tokens of `connectors.markdown.parse`) as Adaptive Card elements, within what a card can
show: a TextBlock renders only a subset of Markdown (bold, italic, bulleted and numbered lists, links), so
paragraphs and lists are TextBlocks written in that subset; headings are bold TextBlocks; a quote is an emphasised
Container; code, and a paragraph with inline code or strikethrough (which TextBlock Markdown lacks), are a
RichTextBlock of TextRuns (never read as Markdown, so code shows as typed); a GFM table is the `Table` element of
schema 1.5, its header row bold. A thematic break becomes the separator line above what follows it."""

from __future__ import annotations

import re
from urllib.parse import quote

from markdown_it.tree import SyntaxTreeNode

from connectors.markdown import parse

WEB_LINK = re.compile(r"(?:https?://|mailto:)\S+$", re.IGNORECASE)
_MAILTO = re.compile(r"^mailto:([^?\s]+@[^?\s]+)$", re.IGNORECASE)
CHAT_LINK = "https://teams.microsoft.com/l/chat/0/0?users={}"  # Teams' deep link to a chat with that person


def teams_href(href: str) -> str:
    """A person's e-mail address opens a Teams chat with them (in Teams, that is how to reach a colleague)."""
    match = _MAILTO.match(href)
    return CHAT_LINK.format(quote(match[1], safe="@")) if match else href
_ALIGN = re.compile(r"text-align:(left|center|right)")
_HEADING_SIZE = {"h1": "Large", "h2": "Medium"}
_LISTS = ("bullet_list", "ordered_list")


def text_block(text: str, **style) -> dict:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def markdown_elements(markdown: str) -> list[dict]:
    """The card elements for a reply's Markdown, in order."""
    source = (markdown or "").replace("\r\n", "\n").replace("\r", "\n")
    return _elements(SyntaxTreeNode(parse(source)).children)


def _elements(nodes: list[SyntaxTreeNode]) -> list[dict]:
    out: list[dict] = []
    rule = False
    for node in nodes:
        if node.type == "hr":
            rule = bool(out)
            continue
        made = _element(node)
        if made and rule:
            made[0]["separator"] = True
        rule = rule and not made
        out += made
    return out


def _element(node: SyntaxTreeNode) -> list[dict]:
    kind = node.type
    if kind == "paragraph":
        inline = node.children[0] if node.children else None
        if inline is None:
            return []
        if _needs_runs(inline):
            runs = _runs(inline, {})
            return [{"type": "RichTextBlock", "inlines": runs}] if runs else []
        text = _markdown(inline)
        return [text_block(text)] if text.strip() else []
    if kind == "heading":
        text = _markdown(node.children[0], bold=False) if node.children else ""
        size = {"size": _HEADING_SIZE[node.tag]} if node.tag in _HEADING_SIZE else {}
        return [text_block(text, weight="Bolder", **size)] if text.strip() else []
    if kind in _LISTS:
        text = "\n".join(_list(node, 0))
        return [text_block(text)] if text.strip() else []
    if kind == "blockquote":
        items = _elements(node.children)
        return [{"type": "Container", "style": "emphasis", "items": items}] if items else []
    if kind in ("fence", "code_block"):
        return [_code(node.content.rstrip("\n"))]
    if kind == "table":
        return [_table(node)]
    if kind == "html_block":
        return [text_block(node.content.rstrip("\n"))]
    return []


def _code(code: str) -> dict:
    return {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": code, "fontType": "Monospace"}]}


def _list(node: SyntaxTreeNode, depth: int) -> list[str]:
    """Markdown list lines; a nested list indented under its item, where TextBlock Markdown nests it."""
    ordered = node.type == "ordered_list"
    start = int(node.attrs.get("start", 1)) if ordered else 1
    lines = []
    for i, item in enumerate(node.children):
        marker = f"{start + i}. " if ordered else "- "
        pad = "   " * depth if ordered else "  " * depth
        head, rest = None, []
        for child in item.children:
            if child.type in _LISTS:
                rest += _list(child, depth + 1)
                continue
            text = _plain_block(child)
            if not text:
                continue
            if head is None and not rest:
                head = text
            else:
                rest.append(pad + " " * len(marker) + text)
        lines.append(pad + marker + (head or "").replace("\n", " "))
        lines += rest
    return lines


def _plain_block(node: SyntaxTreeNode) -> str:
    """A block inside a list item, as one line of TextBlock Markdown."""
    if node.type in ("paragraph", "heading"):
        return _markdown(node.children[0]).replace("\n", " ") if node.children else ""
    if node.type in ("fence", "code_block"):
        return node.content.strip().replace("\n", " ")
    if node.children:
        return " ".join(t for t in (_plain_block(c) for c in node.children) if t)
    return ""


def _table(node: SyntaxTreeNode) -> dict:
    rows = [row for part in node.children for row in part.children if row.type == "tr"]
    width = max((len(row.children) for row in rows), default=0)
    columns = []
    for cell in rows[0].children if rows else []:
        align = _ALIGN.search(cell.attrs.get("style", ""))
        columns.append({"width": 1, **({"horizontalCellContentAlignment": align[1].capitalize()} if align else {})})
    columns += [{"width": 1}] * (width - len(columns))
    header = bool(rows) and rows[0].parent.type == "thead" and any(c.children and _markdown(c.children[0]).strip()
                                                                   for c in rows[0].children)
    made = []
    for n, row in enumerate(rows):
        if n == 0 and not header:
            continue
        cells = []
        for cell in row.children:
            text = _markdown(cell.children[0], bold=not (header and n == 0)) if cell.children else ""
            style = {"weight": "Bolder"} if header and n == 0 else {}
            cells.append({"type": "TableCell", "items": [text_block(text, **style)] if text.strip() else []})
        made.append({"type": "TableRow", "cells": cells})
    return {"type": "Table", "columns": columns, "rows": made, "firstRowAsHeader": header, "gridStyle": "accent"}


# --- inline --------------------------------------------------------------------------------------------------------

def _markdown(node: SyntaxTreeNode, bold: bool = True) -> str:
    """Inline tokens as TextBlock Markdown: **bold**, _italic_, [links](url); what it cannot show (code, strike) as
    plain text."""
    out = []
    for child in node.children:
        kind = child.type
        if kind == "text":
            out.append(child.content)
        elif kind == "softbreak":
            out.append("\n")
        elif kind == "hardbreak":
            out.append("\n\n")
        elif kind == "code_inline":
            out.append(child.content)
        elif kind in ("strong", "em"):
            inner = _markdown(child, bold)
            if not inner.strip() or (kind == "strong" and not bold):
                out.append(inner)
            else:
                mark = "**" if kind == "strong" else "_"
                core = inner.strip()  # a marker next to a space is not read as one
                lead, trail = inner[:len(inner) - len(inner.lstrip())], inner[len(inner.rstrip()):]
                out.append(f"{lead}{mark}{core}{mark}{trail}")
        elif kind == "s":
            out.append(_markdown(child, bold))
        elif kind == "link":
            href = teams_href(child.attrs.get("href", ""))
            label = _plain(child).replace("[", "(").replace("]", ")") or href
            out.append(f"[{label}]({href})" if WEB_LINK.match(href) else label)
        elif kind == "image":
            out.append(_plain(child))
        else:
            out.append(child.content)
    return "".join(out)


def _plain(node: SyntaxTreeNode) -> str:
    return "".join(c.content if c.type in ("text", "code_inline") else " " if c.type in ("softbreak", "hardbreak")
                   else _plain(c) for c in node.children)


def _needs_runs(node: SyntaxTreeNode) -> bool:
    return any(c.type in ("code_inline", "s") or (c.children and _needs_runs(c)) for c in node.children)


def _runs(node: SyntaxTreeNode, style: dict) -> list[dict]:
    """Inline tokens as TextRuns, for a paragraph TextBlock Markdown cannot render; links open on a click."""
    out: list[dict] = []

    def add(text: str, extra: dict | None = None) -> None:
        run = {**style, **(extra or {})}
        if not text:
            return
        if out and {k: v for k, v in out[-1].items() if k not in ("type", "text")} == run:
            out[-1]["text"] += text
        else:
            out.append({"type": "TextRun", "text": text, **run})

    for child in node.children:
        kind = child.type
        if kind == "text":
            add(child.content)
        elif kind in ("softbreak", "hardbreak"):
            add("\n")
        elif kind == "code_inline":
            add(child.content, {"fontType": "Monospace"})
        elif kind in ("strong", "em", "s"):
            name = {"strong": ("weight", "Bolder"), "em": ("italic", True), "s": ("strikethrough", True)}[kind]
            for run in _runs(child, {**style, name[0]: name[1]}):
                add(run["text"], {k: v for k, v in run.items() if k not in ("type", "text")})
        elif kind == "link":
            href = teams_href(child.attrs.get("href", ""))
            label = _plain(child) or href
            if WEB_LINK.match(href):
                out.append({"type": "TextRun", "text": label, **style,
                            "selectAction": {"type": "Action.OpenUrl", "url": href}})
            else:
                add(label)
        elif kind == "image":
            add(_plain(child))
        else:
            add(child.content)
    return out
