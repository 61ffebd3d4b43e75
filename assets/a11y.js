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
