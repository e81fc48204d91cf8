"""The policymaker app: a Solara page served by ``cityrisk app`` (see docs/app.md).

Modules: ``app`` (the page), ``session`` (one model per browser session), ``levers`` (sliders
grouped by the four capacities), ``live`` (map, charts, exports), ``compare`` and
``compare_view`` (my policy vs. the scenario, common random numbers), ``i18n`` (zh/en text),
``cli`` (``cityrisk app``).
"""
