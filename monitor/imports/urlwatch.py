"""urlwatch's urls.yaml: YAML documents separated by `---`, one job each.

A job with `url` is a page; with `navigate`, a page urlwatch opened in a browser (read
here without one); with `command`, a shell command (never run by this monitor). Its
`filter` is a list of filters applied in turn (or the older string form
"css:div#main,html2text"): the ones that pick elements (css, xpath, element-by-*)
become the source's selector, their `exclude` its ignore entries, and `re.sub` without
a replacement a `regex:` ignore entry. Text filters this monitor does itself
(html2text, strip) and those it has no counterpart for are reported.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from monitor.errors import UsageError
from monitor.imports import Entry, ImportFile, carried_tags
from monitor.untrusted import one_line

# What a job key means here, when it is not carried over.
_WHY = {
    "max_tries": "failures are reported at once; retries are [fetch] retries in monitor.toml",
    "headers": "a source sends no headers of its own",
    "cookies": "a source sends no cookies of its own",
    "method": "a source is read with GET",
    "data": "a source is read with GET, without a body",
    "ignore_cached": "every check asks the server with a conditional GET",
    "ssl_no_verify": "TLS certificates are always verified (a ca_bundle can be given in "
                     "monitor.toml)",
    "http_proxy": "the proxy is the process's (HTTP(S)_PROXY in its environment)",
    "https_proxy": "the proxy is the process's (HTTP(S)_PROXY in its environment)",
    "timeout": "the timeout is [fetch] timeout in monitor.toml",
    "encoding": "the page's encoding is detected",
    "diff_tool": "changes are shown by this monitor's own diff",
    "diff_filter": "changes are shown by this monitor's own diff",
    "wait_until": "pages are read without a browser",
    "wait_for": "pages are read without a browser",
    "useragent": "the User-Agent is [fetch] user_agent in monitor.toml",
    "browser": "pages are read without a browser",
}
_DONE_HERE = {"html2text", "strip", "striplines", "beautify"}
_PICKS = {"css", "xpath", "element-by-id", "element-by-class", "element-by-tag",
          "element-by-style"}
_HANDLED = {"url", "navigate", "command", "name", "filter", "enabled", "tags", "kind"}
_TAG_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_PLAIN_VALUE = re.compile(r"[^\"\\\n]+")


_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_jobs(text: str, path: Path) -> ImportFile:
    try:
        # libyaml's safe loader where PyYAML was built with it: the same documents, a
        # 100,000-job file read in seconds rather than two minutes.
        documents = list(yaml.load_all(text, Loader=_SAFE_LOADER))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise UsageError(f"{path}: not valid YAML{where}: {one_line(str(problem))}") from None
    except RecursionError:
        raise UsageError(f"{path}: not valid YAML: nested too deep") from None
    entries = []
    for number, job in enumerate((d for d in documents if d is not None), 1):
        if not isinstance(job, dict):
            raise UsageError(f"{path}: document {number} is not a urlwatch job (a mapping "
                             "with url:, navigate: or command:)")
        entries.append(_job(job, number))
    return ImportFile("urlwatch", entries)


def _job(job: dict[Any, Any], number: int) -> Entry:
    name = job.get("name")
    where = f"job {number}" + (f" ({one_line(name, 60)})" if isinstance(name, str) else "")
    entry = Entry(where, None, name=name if isinstance(name, str) else None)
    if "command" in job:
        entry.skipped = "a shell command job: this monitor never runs commands"
        return entry
    url = job.get("url", job.get("navigate"))
    if not isinstance(url, str):
        entry.skipped = "no url (a urlwatch job needs url:, navigate: or command:)"
        return entry
    entry.url = url.strip()
    if "navigate" in job and "url" not in job:
        entry.changed.append("navigate: a browser job; the page is read without a browser "
                             "(its scripts are not run)")
    if job.get("enabled") is False:
        entry.paused = True
    tags = job.get("tags")
    if isinstance(tags, list) and all(isinstance(t, str) for t in tags):
        carried_tags(entry, tags, "tag")
    elif tags is not None:
        entry.dropped.append("tags: not a list of words")
    if "filter" in job:
        _filters(entry, job["filter"])
    for key in job:
        if key not in _HANDLED:
            why = _WHY.get(str(key), "no setting of this monitor matches it")
            entry.dropped.append(f"{one_line(str(key), 40)}: {why}")
    return entry


def _filters(entry: Entry, spec: Any) -> None:
    if isinstance(spec, str):  # "css:div#main,html2text": urlwatch's older form
        spec = [dict([part.split(":", 1)]) if ":" in part else part for part in spec.split(",")]
    if not isinstance(spec, list):
        entry.dropped.append("filter: not a list of filters")
        return
    for item in spec:
        if isinstance(item, str):
            kind, sub = item.strip(), None
        elif isinstance(item, dict) and len(item) == 1:
            kind, sub = next(iter(item.items()))
        else:
            entry.dropped.append("filter: an entry that is not one filter")
            continue
        kind = str(kind).strip()
        pattern = _removed_pattern(sub) if kind == "re.sub" else None
        if kind in _PICKS:
            _pick(entry, kind, sub)
        elif kind in _DONE_HERE:
            entry.changed.append(f"filter {kind}: not needed, this monitor extracts and "
                                 "normalizes the page's text itself")
        elif pattern is not None:
            entry.ignore.append(f"regex:{pattern}")
        else:
            entry.dropped.append(f"filter {one_line(kind, 40)}: no counterpart here (an "
                                 "ignore entry regex:PATTERN masks text)")


def _removed_pattern(sub: Any) -> str | None:
    """The pattern of a re.sub filter that only deletes what it matches (no
    replacement), else None."""
    if isinstance(sub, str):
        return sub or None
    if isinstance(sub, dict) and set(sub) <= {"pattern", "repl"} and not sub.get("repl"):
        pattern = sub.get("pattern")
        return pattern if isinstance(pattern, str) and pattern else None
    return None


def _pick(entry: Entry, kind: str, sub: Any) -> None:
    """A filter that picks elements, as the selector (and its exclude as ignore)."""
    options = sub if isinstance(sub, dict) else {}
    main_key = {"css": "selector", "xpath": "path"}.get(kind, kind.removeprefix("element-by-"))
    value = options.get(main_key) if isinstance(sub, dict) else sub
    selector = _selector(kind, value)
    if selector is None:
        shown = repr(one_line(value, 80)) if isinstance(value, str) else "no value"
        entry.dropped.append(f"filter {kind}: {shown} cannot be a selector here")
        return
    prefix = "xpath:" if kind == "xpath" else ""
    exclude = options.get("exclude")
    if isinstance(exclude, str) and exclude.strip():
        entry.ignore.append(prefix + exclude.strip())
    for key in options:
        if key not in (main_key, "exclude"):
            entry.dropped.append(f"filter {kind} {one_line(str(key), 20)}: no counterpart here")
    if entry.selector is None:
        entry.selector = selector
    elif not selector.startswith("xpath:") and not entry.selector.startswith("xpath:") \
            and "," not in entry.selector + selector:
        entry.selector = f"{entry.selector} {selector}"  # the second filter looks inside the first
    else:
        entry.dropped.append(f"filter {kind} {one_line(selector, 60)!r}: only one selector "
                             f"is carried over ({one_line(entry.selector, 60)!r})")


def _selector(kind: str, value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    if kind == "css":
        return value
    if kind == "xpath":
        return f"xpath:{value}"
    if kind == "element-by-tag":
        return value if _TAG_NAME.fullmatch(value) else None
    if not _PLAIN_VALUE.fullmatch(value):
        return None
    attribute = {"element-by-id": "id", "element-by-style": "style"}.get(kind)
    return f'[{attribute}="{value}"]' if attribute else f'[class~="{value}"]'
