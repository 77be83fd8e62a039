/* Command centre: draws the dashboard from data.json (ECharts) and map.geojson (Leaflet); polls
 * data.json every data-poll seconds so new cases appear without a reload (it carries the map's
 * numbers per grid too: the polygons are read once, not on every poll), and drills down: a click on
 * a sub-area (bar, table row, map polygon) opens the same page for that area. */
(function () {
  "use strict";

  var root, labels, charts = {}, map, gridLayer, areaLayer, selfLayer, heatLayer, legend, lastMap, lastGrids;
  var PALETTE = ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026"];

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function pct(v) { return v === null || v === undefined ? "—" : (v * 100).toFixed(1) + "%"; }

  function chart(name) {
    if (typeof echarts === "undefined") return null;
    var node = root.querySelector('[data-chart="' + name + '"]');
    if (!node) return null;
    if (!charts[name]) charts[name] = echarts.init(node, "dark", { renderer: "canvas" });
    return charts[name];
  }

  function drill(url) { if (url) window.location.href = url; }

  function pie(name, rows) {
    var c = chart(name);
    if (!c) return;
    c.setOption({
      backgroundColor: "transparent",
      tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
      series: [{ type: "pie", radius: ["35%", "70%"], data: rows.map(function (r) { return { name: r.label, value: r.n }; }),
        label: { color: "#e6edf3" } }],
    }, true);
  }

  function bars(name, rows, onClick) {
    var c = chart(name);
    if (!c) return;
    c.setOption({
      backgroundColor: "transparent",
      grid: { left: 90, right: 16, top: 8, bottom: 20 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "value" },
      yAxis: { type: "category", inverse: true, data: rows.map(function (r) { return r.label; }) },
      series: [{ type: "bar", data: rows.map(function (r) { return r.n; }), itemStyle: { color: "#58a6ff" } }],
    }, true);
    c.off("click");
    if (onClick) c.on("click", function (p) { onClick(rows[p.dataIndex]); });
  }

  function render(data) {
    root.dataset.latest = String(data.latest_case);
    lastGrids = data.grids || null;
    if (lastMap) drawMap(lastMap);
    root.querySelector("[data-testid=cc-updated]").textContent = data.generated_at;
    data.indicators.forEach(function (i) {
      var tile = root.querySelector('[data-code="' + i.code + '"] [data-value]');
      if (tile) tile.textContent = i.display;
    });
    pie("state", data.by_state);
    pie("source", data.by_source);
    bars("type", data.by_type);
    var areas = data.sub_areas.map(function (a) { return { label: a.name, n: a.reported, url: a.url }; });
    bars("areas", areas, function (row) { drill(row.url); });
    var trend = chart("trend");
    if (trend) {
      trend.setOption({
        backgroundColor: "transparent",
        tooltip: { trigger: "axis" },
        legend: { data: [labels.reported, labels.filed, labels.closed], textStyle: { color: "#e6edf3" } },
        grid: { left: 40, right: 16, top: 30, bottom: 24 },
        xAxis: { type: "category", data: data.trend.days },
        yAxis: { type: "value" },
        series: [
          { name: labels.reported, type: "line", smooth: true, data: data.trend.reported },
          { name: labels.filed, type: "line", smooth: true, data: data.trend.filed },
          { name: labels.closed, type: "line", smooth: true, data: data.trend.closed },
        ],
      }, true);
    }
    var body = root.querySelector("[data-testid=sub-areas] tbody");
    body.replaceChildren();
    data.sub_areas.forEach(function (a) {
      var tr = el("tr", { "data-code": a.code });
      var td = el("td");
      var link = el("a", { href: a.url, "data-drill": a.code }, a.name);
      td.appendChild(link);
      tr.appendChild(td);
      [a.reported, a.open_now, a.overdue].forEach(function (v) { tr.appendChild(el("td", { class: "num" }, v)); });
      tr.appendChild(el("td", { class: "num" }, pct(a.close_rate)));
      body.appendChild(tr);
    });
    if (!data.sub_areas.length) body.appendChild(el("tr")).appendChild(el("td", { colspan: 5, class: "muted" }, labels.none));
    var league = root.querySelector("[data-testid=league] tbody");
    league.replaceChildren();
    data.departments.forEach(function (d, i) {
      var tr = el("tr");
      [i + 1, d.name, d.filed, d.closed, d.overdue, d.display.on_time_close_rate, d.display.satisfaction].forEach(function (v, j) {
        tr.appendChild(el("td", j === 1 ? {} : { class: "num" }, v));
      });
      league.appendChild(tr);
    });
    if (!data.departments.length) league.appendChild(el("tr")).appendChild(el("td", { colspan: 7, class: "muted" }, labels.none));
    root.querySelector("[data-testid=overdue-total]").textContent = String(data.overdue_total);
    var od = root.querySelector("[data-testid=overdue-list] tbody");
    od.replaceChildren();
    data.overdue.forEach(function (c) {
      var tr = el("tr");
      var td = el("td");
      td.appendChild(el("a", { href: c.url }, c.code));
      tr.appendChild(td);
      [c.title, c.grid, c.state, c.due_at].forEach(function (v) { tr.appendChild(el("td", {}, v)); });
      od.appendChild(tr);
    });
    if (!data.overdue.length) od.appendChild(el("tr")).appendChild(el("td", { colspan: 5, class: "muted" }, labels.none));
    root.dataset.ready = "true";
  }

  function colour(value, max) {
    if (!value) return "#e8eef4";
    var i = Math.min(PALETTE.length - 1, Math.floor((value / Math.max(1, max)) * PALETTE.length));
    return PALETTE[i];
  }

  // The latest polled numbers onto the map's grids: [open, overdue, reported] by grid code.
  function refresh(geo) {
    if (!lastGrids) return;
    geo.heat = [];
    geo.features.forEach(function (f) {
      var p = f.properties, n = lastGrids[p.code];
      if (p.layer !== "grid" || !n) return;
      p.open = n[0]; p.overdue = n[1]; p.reported = n[2];
      if (p.reported && p.center) geo.heat.push([p.center[0], p.center[1], p.reported]);
    });
  }

  function drawMap(geo) {
    if (typeof L === "undefined") return;
    lastMap = geo;
    refresh(geo);
    var holder = document.getElementById("cc-map");
    if (!map) {
      map = L.map(holder, { zoomSnap: 0.25, attributionControl: !!root.dataset.tileUrl });
      if (root.dataset.tileUrl) {
        L.tileLayer(root.dataset.tileUrl, { attribution: root.dataset.tileAttribution || "", maxZoom: 19,
          subdomains: root.dataset.tileSubdomains || "abc" }).addTo(map);
      }
      legend = L.control({ position: "bottomright" });
      legend.onAdd = function () { return L.DomUtil.create("div", "legend"); };
      legend.addTo(map);
      root.querySelectorAll("input[name=cc-metric], input[name=cc-heat]").forEach(function (i) {
        i.addEventListener("change", function () { drawMap(lastMap); });
      });
    }
    var metric = (root.querySelector("input[name=cc-metric]:checked") || {}).value || "open";
    var grids = geo.features.filter(function (f) { return f.properties.layer === "grid"; });
    var areas = geo.features.filter(function (f) { return f.properties.layer === "area"; });
    var self = geo.features.filter(function (f) { return f.properties.layer === "self"; });
    var max = grids.reduce(function (m, f) { return Math.max(m, f.properties[metric] || 0); }, 0);
    var first = !gridLayer;
    [gridLayer, areaLayer, selfLayer, heatLayer].forEach(function (l) { if (l) map.removeLayer(l); });
    gridLayer = L.geoJSON(grids, {
      style: function (f) { return { color: "#6e7781", weight: 0.6, fillColor: colour(f.properties[metric], max), fillOpacity: 0.75 }; },
      onEachFeature: function (f, layer) {
        var p = f.properties;
        layer.bindTooltip(p.name + " · " + labels.open + " " + p.open + " · " + labels.overdue + " " + p.overdue + " · " + labels.reported + " " + p.reported, { sticky: true });
        if (!areas.length) layer.on("click", function () { drill(p.url); });
      },
    }).addTo(map);
    areaLayer = L.geoJSON(areas, {
      style: function () { return { color: "#0b1d33", weight: 2.5, fillOpacity: 0 }; },
      onEachFeature: function (f, layer) {
        layer.bindTooltip(f.properties.name, { sticky: true });
        layer.on("click", function () { drill(f.properties.url); });
      },
    }).addTo(map);
    selfLayer = L.geoJSON(self, { style: { color: "#c8102e", weight: 3, fill: false, dashArray: "6 4" }, interactive: false }).addTo(map);
    var heatOn = (root.querySelector("input[name=cc-heat]") || {}).checked;
    if (heatOn && typeof L.heatLayer === "function" && geo.heat.length) {
      var top = geo.heat.reduce(function (m, h) { return Math.max(m, h[2]); }, 1);
      heatLayer = L.heatLayer(geo.heat, { radius: 25, blur: 20, max: top }).addTo(map);
    }
    legend.getContainer().innerHTML = "";
    legend.getContainer().appendChild(el("div", {}, (metric === "open" ? labels.open : labels.overdue) + " 0–" + max));
    if (first) {
      var bounds = selfLayer.getBounds();
      if (!bounds.isValid()) bounds = gridLayer.getBounds();
      if (bounds.isValid()) map.fitBounds(bounds, { padding: [8, 8] }); else map.setView([31.3, 120.6], 11);
    }
    holder.dataset.grids = String(grids.length);
    holder.dataset.open = String(grids.reduce(function (m, f) { return m + (f.properties.open || 0); }, 0));
    holder.dataset.areas = String(areas.length);
    holder.dataset.ready = "true";
  }

  function loadMap() {
    fetch(root.dataset.mapUrl, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(drawMap)
      .catch(function () {});
  }

  function load() {
    fetch(root.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (d) { root.querySelector(".cc-live").classList.remove("stale"); render(d); })
      .catch(function () {
        root.querySelector(".cc-live").classList.add("stale");
        root.querySelector("[data-testid=cc-updated]").textContent = labels.error;
      });
  }

  function fmt(v) { return v === null || v === undefined ? "—" : v.toFixed(2); }

  function loadHotspots() {
    if (!root.dataset.hotspotsUrl) return;
    fetch(root.dataset.hotspotsUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (d) {
        root.querySelector("[data-testid=hotspot-summary]").textContent = d.summary;
        var list = root.querySelector("[data-testid=hotspots]");
        list.replaceChildren();
        d.hotspots.slice(0, 10).forEach(function (h) { list.appendChild(el("li", {}, h.text)); });
        var f = d.forecast;
        root.querySelector("[data-testid=forecast]").textContent = labels.forecast
          .replace("%(w)s", f.held_out).replace("%(m)s", fmt(f.mae_model))
          .replace("%(l)s", fmt(f.mae_last_week)).replace("%(a)s", fmt(f.mae_mean4));
        if (d.computed_at && labels.computed) {
          root.querySelector("[data-testid=hotspot-computed]").textContent = labels.computed.replace("%(t)s", d.computed_at);
        }
        if (map && typeof L !== "undefined") {
          d.hotspots.forEach(function (h) {
            if (h.lat === null || h.lon === null) return;
            L.circleMarker([h.lat, h.lon], { radius: 9, color: "#c8102e", weight: 3, fillOpacity: 0.2 })
              .bindTooltip(h.text).addTo(map);
          });
        }
      })
      .catch(function () {});
  }

  document.addEventListener("DOMContentLoaded", function () {
    root = document.getElementById("cc");
    if (!root) return;
    labels = JSON.parse(root.dataset.labels || "{}");
    load();
    loadMap();
    window.setTimeout(loadHotspots, 1500);  // once: a weekly analysis, after the map is up
    window.setInterval(load, Math.max(1, parseInt(root.dataset.poll || "30", 10)) * 1000);
    window.addEventListener("resize", function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });
    var fs = root.querySelector("[data-fullscreen]");
    if (fs) fs.addEventListener("click", function () {
      if (document.fullscreenElement) document.exitFullscreen(); else root.requestFullscreen();
      window.setTimeout(function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); if (map) map.invalidateSize(); }, 300);
    });
  });
})();
