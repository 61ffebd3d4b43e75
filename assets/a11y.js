/* Keyboard and screen-reader fixes for Dash's dropdown: its hidden focus-catcher input is
   focusable while aria-hidden (axe: aria-hidden-focus). Move keyboard focus to the labelled
   trigger button instead, which opens the list with Enter or Space. */
(function () {
  function set(el, value) {
    if (el.getAttribute('tabindex') !== value) { el.setAttribute('tabindex', value); }
  }
  function fix() {
    document.querySelectorAll('input.dash-dropdown-focus-target').forEach(function (el) {
      set(el, '-1');
    });
    document.querySelectorAll('button.dash-dropdown').forEach(function (el) { set(el, '0'); });
  }
  var pending = false;
  new MutationObserver(function () {
    if (pending) { return; }
    pending = true;
    window.requestAnimationFrame(function () { pending = false; fix(); });
  }).observe(document.documentElement, {childList: true, subtree: true});
  document.addEventListener('DOMContentLoaded', fix);
})();

/* Focus stays on the control that changed the view. A control change draws the page
   again, which replaces the control and drops focus to the page body; put it back on the
   control with the same id (the trigger button of a menu). */
(function () {
  var last = null;  // {id, at}: the control focused most recently, and when
  var KEEP_MS = 15000;
  document.addEventListener('focusin', function (event) {
    var owner = event.target.closest && event.target.closest('main [id]');
    if (owner) { last = {id: owner.id, at: Date.now()}; }
  });
  function restore() {
    var active = document.activeElement;
    if (!last || (active && active !== document.body) || Date.now() - last.at > KEEP_MS) {
      return;
    }
    var owner = document.getElementById(last.id);
    if (!owner) { return; }
    var target = owner.querySelector('button.dash-dropdown, input, select, button') || owner;
    target.focus({preventScroll: true});
  }
  var pending = false;
  new MutationObserver(function () {
    if (pending) { return; }
    pending = true;
    window.requestAnimationFrame(function () { pending = false; restore(); });
  }).observe(document.documentElement, {childList: true, subtree: true});
})();

/* A chart's mode bar is one tab stop: its first button takes focus, the arrow keys move
   between its buttons (a roving tab index), so tabbing past a chart is one key press. */
(function () {
  function buttons(bar) {
    return Array.from(bar.querySelectorAll('.modebar-btn'));
  }
  function fix() {
    document.querySelectorAll('.modebar').forEach(function (bar) {
      var all = buttons(bar);
      var current = all.filter(function (b) { return b.getAttribute('tabindex') === '0'; });
      all.forEach(function (b, i) {
        var want = (current.length ? b === current[0] : i === 0) ? '0' : '-1';
        if (b.getAttribute('tabindex') !== want) { b.setAttribute('tabindex', want); }
      });
    });
  }
  document.addEventListener('keydown', function (event) {
    var button = event.target.closest && event.target.closest('.modebar-btn');
    if (!button || (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft')) { return; }
    var all = buttons(button.closest('.modebar'));
    var next = all[(all.indexOf(button) + (event.key === 'ArrowRight' ? 1 : all.length - 1))
                   % all.length];
    button.setAttribute('tabindex', '-1');
    next.setAttribute('tabindex', '0');
    next.focus();
    event.preventDefault();
  });
  var pending = false;
  new MutationObserver(function () {
    if (pending) { return; }
    pending = true;
    window.requestAnimationFrame(function () { pending = false; fix(); });
  }).observe(document.documentElement, {childList: true, subtree: true});
})();

/* A closed menu opens from the keyboard with Enter or Space, and an open menu puts focus in
   its search box (Dash's menu opens on Enter only, with focus on the first option). */
(function () {
  function focusSearch() {
    var tries = 0;
    (function attempt() {
      var search = document.querySelector('.dash-dropdown-content input.dash-dropdown-search');
      if (search) { search.focus(); } else if (tries++ < 20) { setTimeout(attempt, 25); }
    })();
  }
  document.addEventListener('keydown', function (event) {
    var trigger = event.target.closest && event.target.closest('button.dash-dropdown');
    if (!trigger || trigger.getAttribute('aria-expanded') === 'true') { return; }
    if (event.key === ' ' || event.key === 'Enter') {
      event.preventDefault();
      event.stopPropagation();
      trigger.click();
    }
  }, true);
  new MutationObserver(function (changes) {
    changes.forEach(function (change) {
      var el = change.target;
      if (el.matches && el.matches('button.dash-dropdown') &&
          el.getAttribute('aria-expanded') === 'true') {
        focusSearch();
      }
    });
  }).observe(document.documentElement,
             {attributes: true, attributeFilter: ['aria-expanded'], subtree: true});
})();
