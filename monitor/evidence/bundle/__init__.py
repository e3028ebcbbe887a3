"""Evidence bundles: one zip file that shows what the monitor recorded about one
document, checkable by anyone, on any machine, without the store.

layout.py: the members' names and the manifest.
warc.py: the raw captures as WARC 1.1 records.
export.py: a bundle made from the store (`monitor export`).
check.py: a bundle checked with nothing but itself (`monitor verify-bundle`).
readme.py: the README.txt the bundle carries, for a reader without the monitor.
"""
