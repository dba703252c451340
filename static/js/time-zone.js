// Tells the portal the browser's time zone, so pages show times in it (apps.core.time_zones).
(function () {
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && !/^[A-Za-z0-9_+\-\/]+$/.test(zone)) return;
    if (zone && document.cookie.split("; ").indexOf("tz=" + zone) === -1) {
      document.cookie = "tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax";
    }
  } catch (e) {
    // No Intl: the portal's default time zone stays.
  }
})();
