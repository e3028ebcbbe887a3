"""Pages that need a browser (`render = true`): Debian's chromium driven by Playwright,
every request the page makes fetched under the monitor's own rules.

- settings.py: the `[render]` table; choice.py: which sources render.
- pool.py: the process's browsers (bounded, recycled, restarted), on one thread.
- page.py: one page load; policy.py: what each request may do, and how it is fetched;
  layout.py: where the text was on the screenshot.
- fetcher.py: the Fetcher whose `get` renders; response.py: what it answers.
- evidence.py: what a check stores of a rendered capture.
"""
