/*
 * Progressive enhancement only: every page works without this file (the menu list is visible,
 * wide tables scroll inside their box).
 */
(function () {
  'use strict';
  var small = window.matchMedia('(max-width: 40rem)');

  // The main menu collapses behind a disclosure button on small screens.
  var toggle = document.querySelector('.menu-toggle');
  var list = toggle && document.getElementById(toggle.getAttribute('aria-controls'));
  if (toggle && list) {
    var setOpen = function (open) {
      toggle.setAttribute('aria-expanded', String(open));
      list.hidden = !open;
    };
    var sync = function () {
      toggle.hidden = !small.matches;
      setOpen(!small.matches);
    };
    toggle.addEventListener('click', function () {
      setOpen(toggle.getAttribute('aria-expanded') !== 'true');
    });
    document.addEventListener('keydown', function (e) {
      if (e.key === 'Escape' && small.matches && toggle.getAttribute('aria-expanded') === 'true') {
        setOpen(false);
        toggle.focus();
      }
    });
    small.addEventListener('change', sync);
    sync();
  }

  // A table wider than the screen scrolls in its box; the box is then reachable by keyboard and
  // named after the table, so keyboard and screen-reader users can scroll it too.
  var labelTables = function () {
    document.querySelectorAll('.table-scroll').forEach(function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1;
      var caption = box.querySelector('caption');
      if (scrolls) {
        box.setAttribute('tabindex', '0');
        box.setAttribute('role', 'region');
        box.setAttribute('aria-label', caption ? caption.textContent.trim() : document.title);
      } else if (box.getAttribute('role') === 'region') {
        box.removeAttribute('tabindex');
        box.removeAttribute('role');
        box.removeAttribute('aria-label');
      }
    });
  };
  labelTables();
  window.addEventListener('resize', labelTables);

  // Back from a lesson, focus goes to what the page says about it and the next one (not the top).
  var arrival = document.querySelector('[data-focus-on-load]');
  if (arrival) arrival.focus();
})();
