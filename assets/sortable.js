/* Sortable tables: every table.sortable (components/tables.sortable_table) gets a sort button
   in each column heading. Without this script the table keeps the server's order, which is
   also the download's order.

   The tables arrive inside dcc.Markdown at any time (page navigation, callbacks), so headings
   are found by a MutationObserver and clicks by one listener on the document. Moving rows
   React drew is safe here: dcc.Markdown's HTML parser gives every element a fresh random key
   on each render, so React never patches these nodes in place; it replaces the whole table,
   which drops the sort. */
(function () {
  var SYMBOLS = ['*', ':', '-', '\u2013', ''];  // suppressed, not available, zero, missing
  // A number at the start of a cell, so that "12.3 to 14.5" sorts by its lower bound but
  // "2024-25" sorts as text.
  var NUMBER = /^-?\d+(?:\.\d+)?(?=\s|%|$)/;
  var collator = new Intl.Collator(document.documentElement.lang || undefined,
                                   {numeric: true, sensitivity: 'base'});

  function key(cell, index) {
    var text = cell ? cell.textContent.trim() : '';
    var match = text.replace(/,/g, '').replace('\u2212', '-').match(NUMBER);
    return {index: index, text: text, symbol: SYMBOLS.indexOf(text) >= 0,
            number: match ? parseFloat(match[0]) : null};
  }

  function compare(a, b) {
    if (a.number !== null && b.number !== null) { return a.number - b.number; }
    if (a.number !== null || b.number !== null) { return a.number !== null ? -1 : 1; }
    return collator.compare(a.text, b.text);
  }

  function sort(th) {
    var body = th.closest('table').tBodies[0];
    var ascending = th.getAttribute('aria-sort') !== 'ascending';
    var direction = ascending ? 1 : -1;
    var column = th.cellIndex;
    var rows = Array.prototype.slice.call(body.rows);
    var keys = rows.map(function (row, i) { return key(row.cells[column], i); });
    keys.sort(function (a, b) {
      // Symbols last in either direction; ties keep their current order.
      return (a.symbol - b.symbol) || (a.symbol ? 0 : direction * compare(a, b)) ||
        a.index - b.index;
    });
    var ordered = document.createDocumentFragment();
    keys.forEach(function (k) { ordered.appendChild(rows[k.index]); });
    body.appendChild(ordered);
    th.parentNode.querySelectorAll('th[aria-sort]').forEach(function (other) {
      other.removeAttribute('aria-sort');
    });
    th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
  }

  // A button, not a clickable heading, so that keyboards and screen readers can sort too.
  function enhance() {
    document.querySelectorAll('table.sortable thead th').forEach(function (th) {
      if (th.querySelector('button.sort-button')) { return; }
      var button = document.createElement('button');
      button.type = 'button';
      button.className = 'sort-button';
      while (th.firstChild) { button.appendChild(th.firstChild); }
      var icon = document.createElement('span');
      icon.className = 'sort-icon';
      icon.setAttribute('aria-hidden', 'true');
      button.appendChild(icon);
      th.appendChild(button);
    });
  }

  document.addEventListener('click', function (event) {
    var button = event.target.closest && event.target.closest('table.sortable th .sort-button');
    if (button) { sort(button.closest('th')); }
  });
  // At most one pass per frame, however many nodes React adds.
  var pending = false;
  new MutationObserver(function () {
    if (pending) { return; }
    pending = true;
    window.requestAnimationFrame(function () { pending = false; enhance(); });
  }).observe(document.documentElement, {childList: true, subtree: true});
  document.addEventListener('DOMContentLoaded', enhance);
})();
