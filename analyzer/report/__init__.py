"""Reports: one pass over a capture rendered as HTML, Markdown or JSON."""
