"""Reports of what changed: gathered from the projections, rendered as text,
markdown, HTML, JSON or Atom (`monitor report`), and diffs between any two
stored versions (`monitor diff`).

`render` holds the renderers of one hunk, shared with the alert channels.
"""
