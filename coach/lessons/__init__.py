"""Micro-lessons: authored or drafted, delivered in chat, graded, and reviewed on a spaced schedule."""
