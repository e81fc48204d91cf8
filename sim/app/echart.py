"""An ECharts figure for the live page, cheap to update every simulated day.

Two differences from ``solara.FigureEcharts``:

* the option is assigned to the widget in an effect instead of being an argument of a render
  element (Reacton walks every nested value of every element's arguments on each render looking
  for child elements; thousands of data points per chart made that walk the main cost);
* the browser side loads the minified library from the local asset cache, waits until its
  container has a size before creating the chart (and skips a chart removed while the library
  loaded), renders each option in the same call, and marks the container with ``data-version`` once an option is drawn
  (tests and timing read it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipyvuetify
import solara
import traitlets

VUE = r"""
<template>
  <div ref="echarts" v-bind="attributes"></div>
</template>
<script>
module.exports = {
  mounted() {
    this.whenSized(() => this.load());
  },
  beforeDestroy() {
    this.gone = true;
    if (this.observer) { this.observer.disconnect(); }
    if (this.chart) { this.chart.dispose(); this.chart = null; }
  },
  watch: {
    option() { this.draw(); },
  },
  methods: {
    whenSized(fn) {
      const el = this.$refs.echarts;
      this.observer = new ResizeObserver(() => {
        if (el.clientWidth > 0 && el.clientHeight > 0) {
          if (!this.sized) { this.sized = true; fn(); }
          else if (this.chart) { this.chart.resize(); }
        }
      });
      this.observer.observe(el);
    },
    load() {
      const url = `${this.getCdn()}/echarts@5.4.0/dist/echarts.min.js`;
      const go = () => window.requirejs([url], (echarts) => {
        // The library loads asynchronously: a chart removed meanwhile (a tab or language switch
        // re-creates the charts) has no container left, and echarts.init(undefined) throws
        // "reading 'getAttribute'" of undefined.
        if (this.gone || !this.$refs.echarts) { return; }
        this.echarts = echarts;
        this.chart = echarts.init(this.$refs.echarts);
        this.$refs.echarts.__chart = this.chart;
        this.chart.on("click", (e) => this.on_click(this.pick(e)));
        if (this.hover_enabled) {
          this.chart.on("mouseover", (e) => this.on_mouseover(this.pick(e)));
        }
        this.chart.on("finished", () => {
          (window.__crFinished = window.__crFinished || []).push(performance.now());
        });
        this.draw();
      });
      if (window.requirejs) { go(); } else {
        const s = document.createElement("script");
        s.src = `${this.getCdn()}/requirejs@2.3.6/require.js`;
        s.onload = go;
        document.head.appendChild(s);
      }
    },
    draw() {
      if (!this.chart || !this.option || !this.option.series) { return; }
      for (const [name, geojson] of Object.entries(this.maps || {})) {
        if (!this.echarts.getMap(name)) {
          this.echarts.registerMap(name, typeof geojson === "string" ? JSON.parse(geojson) : geojson);
        }
      }
      // Render in the same call (no lazyUpdate): with a deferred render, a mouse event between
      // the model update and the redraw reaches an element of the old series and ECharts reads
      // a vanished data index ("getRawIndex" of undefined). An open tooltip is closed first.
      this.chart.dispatchAction({type: "hideTip"});
      this.chart.setOption(this.withFormatters(this.option), {notMerge: true, lazyUpdate: false});
      this.$refs.echarts.setAttribute("data-version", String(this.version));
    },
    withFormatters(option) {
      // "crValue": {index, unit} in a tooltip -> "series: value unit" (number of data[index])
      const fmt = (tip) => {
        if (!tip || !tip.crValue) { return tip; }
        const {index, unit} = tip.crValue;
        const out = Object.assign({}, tip, {formatter: (p) => {
          const v = Array.isArray(p.value) ? p.value[index] : p.value;
          const s = typeof v !== "number" ? String(v)
            : (Math.abs(v) >= 10 || v === 0 ? v.toFixed(0) : v.toPrecision(2));
          return `${p.seriesName}: ${s}${unit ? (unit === "%" ? "" : " ") + unit : ""}`;
        }});
        delete out.crValue;
        return out;
      };
      const opt = Object.assign({}, option, {tooltip: fmt(option.tooltip)});
      if (Array.isArray(option.series)) {
        opt.series = option.series.map((s) => s.tooltip ? Object.assign({}, s, {tooltip: fmt(s.tooltip)}) : s);
      }
      return opt;
    },
    pick(e) {
      return {seriesIndex: e.seriesIndex, dataIndex: e.dataIndex, data: e.data, name: e.name,
              componentType: e.componentType};
    },
    getCdn() {
      return (window.solara && window.solara.cdn) || "_solara/cdn";
    },
  },
};
</script>
"""


class EChartWidget(ipyvuetify.VuetifyTemplate):
    """The browser-side chart (see module docstring)."""

    template = traitlets.Unicode(VUE).tag(sync=True)
    attributes = traitlets.Dict(default_value={}).tag(sync=True)
    option = traitlets.Any({}).tag(sync=True)
    maps = traitlets.Dict(default_value={}).tag(sync=True)  # name -> GeoJSON text, for registerMap
    version = traitlets.Int(0).tag(sync=True)
    hover_enabled = traitlets.Bool(False).tag(sync=True)
    click = traitlets.Callable(None, allow_none=True)
    hover = traitlets.Callable(None, allow_none=True)

    def vue_on_click(self, data: Any) -> None:
        if self.click is not None:
            self.click(data)

    def vue_on_mouseover(self, data: Any) -> None:
        if self.hover is not None:
            self.hover(data)


@solara.component
def EChart(option: dict[str, Any], version: int = 0, height: str = "260px", css_class: str = "",
           on_click: Callable[[Any], Any] | None = None,
           on_mouseover: Callable[[Any], Any] | None = None,
           maps: dict[str, str] | None = None) -> Any:
    """An ECharts chart of ``option``; ``version`` (e.g. the day) ends up in ``data-version``.

    ``maps`` (name → GeoJSON as text: one value, cheap to compare on every render) are registered in the browser (``echarts.registerMap``) before the
    option is drawn, so a ``geo`` component can use them without any download."""
    el = EChartWidget.element(
        click=on_click, hover=on_mouseover, hover_enabled=on_mouseover is not None,
        attributes={"style": f"height: {height}; width: 100%;", "class": f"cr-echart {css_class}"},
    )

    def push() -> None:
        widget = solara.get_widget(el)
        if widget.option != option or widget.version != version:
            with widget.hold_sync():
                if maps and set(widget.maps) != set(maps):
                    widget.maps = maps
                widget.version = version
                widget.option = option

    solara.use_effect(push, None)
    return el
