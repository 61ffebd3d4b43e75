/* Keyboard and screen-reader fixes, applied after each change to the page (at most once
   per frame):
   - Dash's dropdown: its hidden focus-catcher input is focusable while aria-hidden (axe:
     aria-hidden-focus); keyboard focus goes to the labelled trigger button instead.
   - Focus stays on the control that changed the view: a control change draws the page
     again, which replaces the control and drops focus to the page body; it goes back to
     the control with the same id.
   - A chart's mode bar is one tab stop: its first button takes focus and the arrow keys
     move between its buttons (a roving tab index).
   - A closed menu opens with Enter or Space, and an open menu puts focus in its search box
     (Dash's menu opens on Enter only, with focus on the first option).
   - Dash's upload draws its file input without a name: it takes the name its wrapper
     gives in ``data-upload-label``.
   - An organisation menu (or Benchmark's multi-select trust picker) arrives with the
     chosen options only: its wrapper names the file of every option
     (``data-menu-options``, web/menus.py), fetched once (the browser keeps it for the
     store build) and put into the menu; only the options are set, so the chosen values
     stay (each is among them). */
(function () {
  var KEEP_FOCUS_MS = 15000;
  var last = null;  // {id, at}: the control focused most recently, and when

  function setTabIndex(el, value) {
    if (el.getAttribute('tabindex') !== value) { el.setAttribute('tabindex', value); }
  }

  function fixDropdowns() {
    document.querySelectorAll('input.dash-dropdown-focus-target').forEach(function (el) {
      setTabIndex(el, '-1');
    });
    document.querySelectorAll('button.dash-dropdown').forEach(function (el) {
      setTabIndex(el, '0');
    });
  }

  function restoreFocus() {
    var active = document.activeElement;
    if (!last || (active && active !== document.body) || Date.now() - last.at > KEEP_FOCUS_MS) {
      return;
    }
    var owner = document.getElementById(last.id);
    if (owner) {
      (owner.querySelector('button.dash-dropdown, input, select, button') || owner)
        .focus({preventScroll: true});
    }
  }

  function modebarButtons(bar) {
    return Array.from(bar.querySelectorAll('.modebar-btn'));
  }

  function fixModebars() {
    document.querySelectorAll('.modebar').forEach(function (bar) {
      var all = modebarButtons(bar);
      var current = all.filter(function (b) { return b.getAttribute('tabindex') === '0'; });
      all.forEach(function (b, i) {
        setTabIndex(b, (current.length ? b === current[0] : i === 0) ? '0' : '-1');
      });
    });
  }

  function focusSearch() {
    var tries = 0;
    (function attempt() {
      var search = document.querySelector('.dash-dropdown-content input.dash-dropdown-search');
      if (search) { search.focus(); } else if (tries++ < 20) { setTimeout(attempt, 25); }
    })();
  }

  document.addEventListener('focusin', function (event) {
    var owner = event.target.closest && event.target.closest('main [id]');
    if (owner) { last = {id: owner.id, at: Date.now()}; }
  });

  document.addEventListener('keydown', function (event) {
    var trigger = event.target.closest && event.target.closest('button.dash-dropdown');
    if (trigger && trigger.getAttribute('aria-expanded') !== 'true' &&
        (event.key === ' ' || event.key === 'Enter')) {
      event.preventDefault();
      event.stopPropagation();
      trigger.click();
      return;
    }
    var button = event.target.closest && event.target.closest('.modebar-btn');
    if (button && (event.key === 'ArrowRight' || event.key === 'ArrowLeft')) {
      var all = modebarButtons(button.closest('.modebar'));
      var step = event.key === 'ArrowRight' ? 1 : all.length - 1;
      var next = all[(all.indexOf(button) + step) % all.length];
      setTabIndex(button, '-1');
      setTabIndex(next, '0');
      next.focus();
      event.preventDefault();
    }
  }, true);

  function nameUploads() {
    document.querySelectorAll('[data-upload-label]').forEach(function (wrapper) {
      var input = wrapper.querySelector('input[type=file]');
      var name = wrapper.getAttribute('data-upload-label');
      if (input && input.getAttribute('aria-label') !== name) {
        input.setAttribute('aria-label', name);
      }
    });
  }

  var menuOptions = {};  // file address -> promise of its options
  function fillMenus() {
    document.querySelectorAll('[data-menu-options]').forEach(function (wrapper) {
      var url = wrapper.getAttribute('data-menu-options');
      var menu = wrapper.getAttribute('data-menu-id');
      if (!menu || wrapper.getAttribute('data-menu-filled') === url ||
          !(window.dash_clientside && window.dash_clientside.set_props)) { return; }
      wrapper.setAttribute('data-menu-filled', url);
      if (!menuOptions[url]) {
        menuOptions[url] = fetch(url, {credentials: 'same-origin'}).then(function (answer) {
          if (!answer.ok) { throw new Error(url + ': ' + answer.status); }
          return answer.json();
        });
      }
      menuOptions[url].then(function (options) {
        if (document.body.contains(wrapper)) {
          window.dash_clientside.set_props(menu, {options: options});
        }
      }).catch(function () {
        delete menuOptions[url];
        wrapper.removeAttribute('data-menu-filled');  // tried again on the next change
      });
    });
  }

  var pending = false;
  function fix() {
    pending = false;
    fixDropdowns();
    nameUploads();
    fillMenus();
    restoreFocus();
    fixModebars();
  }
  new MutationObserver(function (changes) {
    changes.forEach(function (change) {
      var el = change.target;
      if (change.type === 'attributes' && el.matches && el.matches('button.dash-dropdown') &&
          el.getAttribute('aria-expanded') === 'true') {
        focusSearch();
      }
    });
    if (!pending) {
      pending = true;
      window.requestAnimationFrame(fix);
    }
  }).observe(document.documentElement, {childList: true, subtree: true, attributes: true,
                                        attributeFilter: ['aria-expanded']});
  document.addEventListener('DOMContentLoaded', fix);
})();
