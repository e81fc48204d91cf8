"""Keeps the browser's address in step with the page's policy (``history.replaceState``), so a
bookmark, a shared link or a reload brings back the scenario, language and lever settings.

Solara's router syncs only the path of the address, not its query, hence this small widget.
"""

from __future__ import annotations

import ipyvuetify
import solara
import traitlets

from .session import AppSession
from .share import share_query

VUE = r"""
<template><span style="display:none"></span></template>
<script>
module.exports = {
  mounted() { this.put(); },
  watch: { query() { this.put(); } },
  methods: {
    put() {
      if (!this.query || window.location.search === "?" + this.query) { return; }
      window.history.replaceState(window.history.state, "",
                                  window.location.pathname + "?" + this.query);
    },
  },
};
</script>
"""


class UrlQueryWidget(ipyvuetify.VuetifyTemplate):
    """Writes ``query`` into the browser's address without reloading the page."""

    template = traitlets.Unicode(VUE).tag(sync=True)
    query = traitlets.Unicode("").tag(sync=True)


@solara.component
def UrlQuery(session: AppSession, lang: str, lever_version: solara.Reactive) -> None:
    """Put the session's policy into the address bar; re-rendered when a lever changes."""
    _ = lever_version.value
    UrlQueryWidget.element(query=share_query(session.scenario_name, lang,
                                             session.changed_levers()))
