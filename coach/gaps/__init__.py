"""Content gaps: the questions the coach could not answer, clustered by topic for L&D, and closed (with their askers
told once) when new content answers them. `service.Gaps` is what the rest of the product calls."""
