// Visit check-in (registers/visit_new.html): the phone's GPS position (WGS-84) into the form's
// hidden lon/lat, and the straight-line distance to the target when it has a location. No
// libraries: the page must stay small for cheap phones on poor networks.
(function () {
  "use strict";
  function metres(lon1, lat1, lon2, lat2) {
    var r = Math.PI / 180, dp = (lat2 - lat1) * r, dl = (lon2 - lon1) * r;
    var a = Math.sin(dp / 2) * Math.sin(dp / 2) +
      Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin(dl / 2) * Math.sin(dl / 2);
    return 2 * 6371008.8 * Math.asin(Math.sqrt(a));
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-checkin]");
    if (!button) { return; }
    var form = button.closest("form");
    var status = form.querySelector("[data-checkin-status]");
    if (!navigator.geolocation) { status.textContent = button.dataset.msgFail; return; }
    status.textContent = button.dataset.msgWait;
    navigator.geolocation.getCurrentPosition(function (pos) {
      var lon = pos.coords.longitude, lat = pos.coords.latitude;
      form.querySelector("[name=lon]").value = lon.toFixed(7);
      form.querySelector("[name=lat]").value = lat.toFixed(7);
      form.querySelector("[name=crs]").value = "wgs84";  // the Geolocation API is WGS-84
      var text = button.dataset.msgOk.replace("%s", Math.round(pos.coords.accuracy));
      if (form.dataset.targetLon) {
        var d = metres(lon, lat, parseFloat(form.dataset.targetLon), parseFloat(form.dataset.targetLat));
        text += " " + button.dataset.msgDistance.replace("%s", Math.round(d));
      }
      status.textContent = text;
    }, function () { status.textContent = button.dataset.msgFail; },
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });
})();
