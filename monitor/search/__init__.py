"""Full-text search over every stored version of every document.

`words` says what a word is and how it is folded (the one definition both databases,
the query and the highlighted passages use), `parse` reads what a user typed,
`passage` finds the matching passage in a text, and `query` runs a search on the
index that monitor/store/search_index.py keeps in step with the log.
"""
