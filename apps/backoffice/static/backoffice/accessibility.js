// The admin's two-box selector (SelectFilter2.js: groups, permissions) puts its description on a
// plain <span> with aria-label, which assistive technology ignores on an element without a role.
// As an image (the search icon it is), the description names the filter box its label is for.
// Deferred, this listener is added after SelectFilter2's own "load" one, so it runs after the boxes
// exist.
"use strict";
window.addEventListener("load", function () {
  document.querySelectorAll(".search-label-icon[aria-label]:not([role])").forEach(function (icon) {
    icon.setAttribute("role", "img");
  });
});
