"""The shared kernel: what the core (`coach`) and the knowledge base (`knowledge`) both use, so neither
imports the other's internals: domain errors, text helpers, the retrieval port, store sessions and timestamps."""
