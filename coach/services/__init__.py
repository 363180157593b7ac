"""Application services: the use cases the edges (web admin, chat connectors, CLI) call instead of writing their own
queries, one module per use-case family. Each use case opens one unit of work (`kernel.store.unit_of_work`) and
hands back plain dataclasses or detached rows, never a live session, so a connector only parses, calls and renders.
The knowledge base's own tables are queried in `knowledge/` and reached through `KnowledgeBase` (content listing,
a source's chunks, counts), so the core needs none of the knowledge package's internals."""
