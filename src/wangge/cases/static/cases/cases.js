/* Case pages: ticking countdowns, one-shot submit buttons, the location picker (phone GPS in
 * WGS-84 or a click on the map in the map's CRS, the CRS always sent), the open-cases map and
 * the case map. Leaflet is loaded only on pages with a map; without a tile URL the maps draw on a
 * plain background with grid outlines. */
(function () {
  "use strict";

  function i18n() {
    var el = document.getElementById("cases-i18n");
    return el ? el.dataset : { left: "%s", over: "-%s", day: "d", hour: "h", minute: "min" };
  }

  function span(ms, t) {
    var minutes = Math.floor(Math.abs(ms) / 60000);
    var days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60);
    var mins = minutes % 60;
    if (days) return days + t.day + hours + t.hour;
    if (hours) return hours + t.hour + mins + t.minute;
    return mins + t.minute;
  }

  function tick() {
    var t = i18n();
    var now = Date.now();
    document.querySelectorAll(".countdown[data-due]").forEach(function (el) {
      var left = new Date(el.dataset.due).getTime() - now;
      if (isNaN(left)) return;
      el.textContent = (left >= 0 ? t.left : t.over).replace("%s", span(left, t));
      el.classList.toggle("overdue", left < 0);
    });
  }

  // A double tap on a slow network must not send the form twice (the server is idempotent too).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("form[data-once]")) return;
    if (form.dataset.sent) { event.preventDefault(); return; }
    form.dataset.sent = "1";
    form.querySelectorAll("button[type=submit]").forEach(function (b) { b.setAttribute("aria-disabled", "true"); b.classList.add("sending"); });
  });

  // Back to a page kept in the browser's cache: its forms may be sent again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-once]").forEach(function (form) {
      delete form.dataset.sent;
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.removeAttribute("aria-disabled"); b.classList.remove("sending"); });
    });
  });

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-large-toggle]");
    if (toggle) {
      var page = toggle.closest(".large-friendly");
      var on = !page.classList.contains("large");
      page.classList.toggle("large", on);
      toggle.setAttribute("aria-pressed", on ? "true" : "false");
      try { localStorage.setItem("wangge-large", on ? "1" : ""); } catch (e) { /* private mode */ }
    }
    var checkin = event.target.closest("[data-checkin]");
    if (checkin) {
      var form = checkin.closest("form");
      var status = form.querySelector("[data-checkin-status]");
      if (!navigator.geolocation) { status.textContent = checkin.dataset.msgFail; return; }
      navigator.geolocation.getCurrentPosition(function (pos) {
        form.querySelector("[data-checkin-lon]").value = pos.coords.longitude.toFixed(7);
        form.querySelector("[data-checkin-lat]").value = pos.coords.latitude.toFixed(7);
        status.textContent = checkin.dataset.msgOk;
      }, function () { status.textContent = checkin.dataset.msgFail; }, { enableHighAccuracy: true, timeout: 15000 });
    }
  });

  function baseMap(el) {
    var map = L.map(el, { zoomSnap: 0.25, attributionControl: !!el.dataset.tileUrl });
    if (el.dataset.tileUrl) {
      L.tileLayer(el.dataset.tileUrl, {
        attribution: el.dataset.tileAttribution || "",
        maxZoom: 19,
        subdomains: el.dataset.tileSubdomains || "abc",
      }).addTo(map);
    } else {
      el.classList.add("no-tiles");
    }
    return map;
  }

  var PICK_ZOOM = 15;
  var GRID_STYLE = { color: "#0969da", weight: 1.5, fillColor: "#9fc5f8", fillOpacity: 0.15 };

  function initPicker(el) {
    var form = el.closest("form");
    var status = form.querySelector("[data-locate-status]");
    var field = function (name) { return form.querySelector("input[name=" + name + "]"); };
    var map = baseMap(el);
    var marker = null;
    var outlines = L.geoJSON(null, {
      style: GRID_STYLE,
      onEachFeature: function (f, layer) {
        layer.bindTooltip(f.properties.name, { sticky: true });
        layer.once("add", function () {
          var path = layer.getElement && layer.getElement();
          if (path) path.setAttribute("data-code", f.properties.code);
        });
      },
    }).addTo(map);
    var ext = (el.dataset.extent || "").split(",").map(Number);
    if (ext.length === 4 && ext.every(isFinite)) {
      map.fitBounds([[ext[1], ext[0]], [ext[3], ext[2]]], { padding: [8, 8] });
    } else {
      map.setView([35, 105], 4);
    }
    function place(lat, lon) {
      if (marker) marker.setLatLng([lat, lon]); else marker = L.marker([lat, lon], { keyboard: false }).addTo(map);
    }
    function set(lon, lat, crs, text) {
      field("lon").value = lon.toFixed(7);
      field("lat").value = lat.toFixed(7);
      field("crs").value = crs;
      status.textContent = text;
      el.dataset.picked = "true";
    }
    if (field("lon").value && field("lat").value) {
      place(Number(field("lat").value), Number(field("lon").value));
    }
    function load() {
      var b = map.getBounds();
      var url = el.dataset.outlines + "?bbox=" + [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(5); }).join(",");
      fetch(url, { headers: { Accept: "application/geo+json" } })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (data) {
          outlines.clearLayers();
          outlines.addData(data.features.filter(function (f) { return f.geometry; }));
          el.dataset.ready = "true";
        })
        .catch(function () { el.dataset.ready = "error"; });
    }
    map.on("moveend", load);
    load();
    // A point picked on the map is in the map's CRS (GCJ-02 over 高德/腾讯 tiles, else WGS-84).
    map.on("click", function (e) {
      // A tap on a whole district is a guess: zoom in first, then take the exact spot.
      if (map.getZoom() < PICK_ZOOM) {
        map.setView(e.latlng, PICK_ZOOM + 1);
        status.textContent = status.dataset.msgZoom;
        return;
      }
      place(e.latlng.lat, e.latlng.lng);
      set(e.latlng.lng, e.latlng.lat, el.dataset.crs || "wgs84", status.dataset.msgPicked);
    });
    var gps = form.querySelector("[data-locate]");
    if (gps) {
      gps.addEventListener("click", function () {
        if (!navigator.geolocation) { status.textContent = status.dataset.msgFail; return; }
        status.textContent = status.dataset.msgWait;
        // Browsers report WGS-84; that is what is sent, whatever the map is drawn in.
        navigator.geolocation.getCurrentPosition(function (pos) {
          var c = pos.coords;
          set(c.longitude, c.latitude, "wgs84", status.dataset.msgGps.replace("%s", Math.round(c.accuracy)));
          if ((el.dataset.crs || "wgs84") === "wgs84") {
            place(c.latitude, c.longitude);
            map.setView([c.latitude, c.longitude], Math.max(map.getZoom(), 16));
          }
        }, function () { status.textContent = status.dataset.msgFail; }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
      });
    }
  }

  function initPoints(el) {
    var map = baseMap(el);
    fetch(el.dataset.points, { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (data) {
        var layer = L.featureGroup().addTo(map);
        data.points.forEach(function (p) {
          var m = L.circleMarker([p.lat, p.lon], {
            radius: 6, weight: 1, color: "#fff",
            fillColor: p.overdue ? "#cf222e" : "#0969da", fillOpacity: 0.9,
          });
          var a = document.createElement("a");
          a.href = p.url;
          a.textContent = p.tracking_code + " " + p.title;
          m.bindPopup(a);
          layer.addLayer(m);
        });
        if (layer.getLayers().length) map.fitBounds(layer.getBounds(), { padding: [24, 24], maxZoom: 15 });
        else map.setView([35, 105], 4);
        if (el.dataset.outlines) {
          // Grid outlines give the dots a place when no tiles are configured.
          var b = map.getBounds();
          var url = el.dataset.outlines + "?bbox=" + [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(5); }).join(",");
          fetch(url).then(function (r) { return r.ok ? r.json() : { features: [] }; }).then(function (grids) {
            var g = L.geoJSON(grids.features.filter(function (f) { return f.geometry; }), {
              style: { color: "#0969da", weight: 1, fillOpacity: 0.04, interactive: false },
            }).addTo(map);
            g.bringToBack();
          });
        }
        el.dataset.points_count = String(layer.getLayers().length);
        el.dataset.ready = "true";
      })
      .catch(function () {
        map.setView([35, 105], 4);
        el.dataset.ready = "error";
      });
  }

  function initCaseMap(el) {
    var script = document.getElementById("case-map-data");
    if (!script) return;
    var data = JSON.parse(script.textContent);
    var map = baseMap(el);
    var layer = L.geoJSON(data, {
      style: GRID_STYLE,
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, { radius: 8, color: "#fff", weight: 2, fillColor: "#c8102e", fillOpacity: 1 });
      },
    }).addTo(map);
    var bounds = layer.getBounds();
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [12, 12], maxZoom: 17 });
    else map.setView([35, 105], 4);
    el.dataset.ready = "true";
  }

  document.addEventListener("DOMContentLoaded", function () {
    try {
      if (localStorage.getItem("wangge-large")) {
        document.querySelectorAll(".large-friendly").forEach(function (p) { p.classList.add("large"); });
        document.querySelectorAll("[data-large-toggle]").forEach(function (b) { b.setAttribute("aria-pressed", "true"); });
      }
    } catch (e) { /* private mode */ }
    tick();
    setInterval(tick, 30000);
    if (typeof L === "undefined") return;
    document.querySelectorAll("[data-pick-map]").forEach(initPicker);
    document.querySelectorAll("[data-points-map]").forEach(initPoints);
    document.querySelectorAll("[data-case-map]").forEach(initCaseMap);
  });
})();
