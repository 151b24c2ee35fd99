"""Page-level fixes for the built book (see also ``offline_assets`` and ``book_search``).

* **Buttons only for a real repository.** The course's public address is written once, in
  ``_config.yml`` (``repository.url``). While it is empty (the course has no public home
  yet), pages show no Colab button and no repository button, which would lead nowhere, and
  the Sphinx tag ``public_repository`` is unset, so ``{only} public_repository`` blocks
  (e.g. the landing page's Colab paragraph) are left out. Once it is set
  (``python tools/setup_cells.py --repository URL``), the Colab buttons of ``_config.yml``'s
  ``launch_buttons`` and a repository button appear, and the tag is set. (The repository
  button is switched on here, not in ``_config.yml``: Jupyter Book refuses
  ``use_repository_button`` without a URL.)
* **Each inline script once.** Sphinx 7.4 writes an inline script that an extension adds
  after ``Builder.init()`` twice (once registered as ``None``, once as ``''``), so
  sphinx-thebe's ``const THEBE_JS_URL = ...`` is declared twice and every page logs
  "Identifier 'THEBE_JS_URL' has already been declared". Duplicates are dropped per page.
"""

TAG = "public_repository"
BUTTONS = ("use_repository_button", "use_issues_button", "use_edit_page_button")


def public_repository(theme_options: dict) -> str:
    """The course's public repository URL from the theme options, or '' when there is none."""
    return str(theme_options.get("repository_url") or "").strip()


def buttons_for(theme_options: dict) -> dict:
    """``theme_options`` with a repository button when there is a repository, else no buttons."""
    options = dict(theme_options)
    if public_repository(options):
        options["use_repository_button"] = True
    else:
        options["launch_buttons"] = {}
        options.update({button: False for button in BUTTONS})
    return options


def _key(script):
    filename = getattr(script, "filename", script) or ""
    attributes = getattr(script, "attributes", {}) or {}
    return str(filename), tuple(sorted(attributes.items()))


def dedupe_scripts(scripts):
    """``scripts`` without repeats, first kept; ``None`` and ``''`` file names count as equal."""
    seen, kept = set(), []
    for script in scripts:
        key = _key(script)
        if key not in seen:
            seen.add(key)
            kept.append(script)
    return kept


def _configure(app, config):
    config.html_theme_options = buttons_for(config.html_theme_options or {})
    if public_repository(config.html_theme_options):
        app.tags.add(TAG)


def _page_context(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if scripts is not None:
        scripts[:] = dedupe_scripts(scripts)  # the same list: Sphinx restores it after the page


def setup(app):
    app.connect("config-inited", _configure)
    app.connect("html-page-context", _page_context, priority=900)  # after myst-nb's scripts
    return {"parallel_read_safe": True, "parallel_write_safe": True}
