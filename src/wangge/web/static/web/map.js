/* Region map: draws the region and its children from the page's scoped GeoJSON endpoint.
 * Tiles only when the deployment configures a tile URL; otherwise a plain background, so the
 * map works offline. Clicking a child polygon opens that region's page. */
(function () {
  "use strict";

  function styleFor(feature) {
    var p = feature.properties || {};
    if (p.is_self) {
      return { color: "#c8102e", weight: 3, fillColor: "#c8102e", fillOpacity: 0.06, dashArray: "6 4", interactive: false };
    }
    var dedicated = p.grid_type === "dedicated";
    return {
      color: dedicated ? "#8250df" : "#0969da",
      weight: 1.5,
      fillColor: dedicated ? "#d8b9ff" : "#9fc5f8",
      fillOpacity: 0.35,
    };
  }

  function init(el) {
    if (typeof L === "undefined") {
      el.textContent = el.dataset.error || "map unavailable";
      return;
    }
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
    fetch(el.dataset.geojson, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
      .then(function (r) {
        if (!r.ok) throw new Error(r.status);
        return r.json();
      })
      .then(function (data) {
        var children = data.features.filter(function (f) { return f.geometry && !f.properties.is_self; });
        var self = data.features.filter(function (f) { return f.geometry && f.properties.is_self; });
        var childLayer = L.geoJSON(children, {
          style: styleFor,
          onEachFeature: function (feature, layer) {
            var p = feature.properties;
            layer.bindTooltip(p.name + " · " + p.code, { sticky: true });
            layer.on("click", function () { window.location.href = p.url; });
            layer.on("mouseover", function () { layer.setStyle({ fillOpacity: 0.6 }); });
            layer.on("mouseout", function () { layer.setStyle({ fillOpacity: 0.35 }); });
          },
        }).addTo(map);
        var selfLayer = L.geoJSON(self, { style: styleFor }).addTo(map);
        var bounds = selfLayer.getBounds();
        if (childLayer.getLayers().length) {
          bounds = bounds.isValid() ? bounds.extend(childLayer.getBounds()) : childLayer.getBounds();
        }
        if (bounds.isValid()) {
          map.fitBounds(bounds, { padding: [8, 8] });
        } else {
          map.setView([35, 105], 4);
          el.classList.add("empty");
        }
        el.dataset.features = String(childLayer.getLayers().length);
        el.dataset.ready = "true";
      })
      .catch(function () {
        map.setView([35, 105], 4);
        el.insertAdjacentHTML("beforeend", '<p class="map-error"></p>');
        el.querySelector(".map-error").textContent = el.dataset.error || "";
        el.dataset.ready = "error";
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-geojson]").forEach(init);
  });
})();
