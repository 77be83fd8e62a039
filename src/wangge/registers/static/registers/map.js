// 民情地图: one Leaflet overlay per layer the server returns (already limited to the role).
document.addEventListener("DOMContentLoaded", () => {
  const el = document.getElementById("people-map");
  if (!el || !window.L) return;
  const map = L.map(el, { preferCanvas: true }).setView([31.3, 120.6], 13);
  if (el.dataset.tileUrl) {
    L.tileLayer(el.dataset.tileUrl, {
      attribution: el.dataset.tileAttribution || "",
      subdomains: el.dataset.tileSubdomains || "abc",
    }).addTo(map);
  }
  const colours = { elderly_alone: "#d9480f", risk_points: "#c92a2a", components: "#1971c2", special_groups: "#5f3dc4" };
  fetch(el.dataset.layers, { credentials: "same-origin" })
    .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
    .then((data) => {
      const overlays = {};
      const bounds = [];
      for (const layer of data.layers) {
        const group = L.geoJSON({ type: "FeatureCollection", features: layer.features }, {
          pointToLayer: (f, latlng) => {
            bounds.push(latlng);
            const r = layer.id === "special_groups" ? 6 + Math.min(20, f.properties.count || 0) : 6;
            return L.circleMarker(latlng, { radius: r, color: colours[layer.id] || "#333", weight: 1, fillOpacity: 0.6 });
          },
          onEachFeature: (f, l) => {
            const p = f.properties;
            const text = document.createElement("span");
            text.textContent = p.label + (p.status_label ? " · " + p.status_label : "");
            l.bindTooltip(text);
            if (p.url) l.on("click", () => { window.location.href = p.url; });
          },
        }).addTo(map);
        overlays[`${layer.name} (${layer.features.length})`] = group;
      }
      L.control.layers(null, overlays, { collapsed: false }).addTo(map);
      if (bounds.length) map.fitBounds(L.latLngBounds(bounds).pad(0.1));
    })
    .catch(() => { el.insertAdjacentHTML("beforebegin", `<p class="error" role="alert"></p>`); el.previousElementSibling.textContent = el.dataset.error; });
});
