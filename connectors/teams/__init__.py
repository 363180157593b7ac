"""The Teams connector: botbuilder-core on the app server, translating Teams <-> core only."""
