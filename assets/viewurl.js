/* A page's controls written into its URL in the browser, so a control change costs one
   request to the server (the new view) rather than two. The page's parser on the server
   still decides what each value means: this only lists the controls' values (with the
   link's other parameters kept, for a page whose controls each set a part of it). */
window.equalities = Object.assign(window.equalities || {}, {
  viewSearch: function (keys, values, empty, keep, current) {
    var params = new URLSearchParams(keep ? (current || '') : '');
    keys.forEach(function (key, i) {
      var value = values[i];
      if (Array.isArray(value)) {
        value = value.length ? value.join(',') : (empty[key] || '');
      }
      if (value !== null && value !== undefined && value !== '') {
        params.set(key, String(value));
      } else {
        params.delete(key);
      }
    });
    var sorted = function (search) {
      var entries = Array.from(new URLSearchParams(search || '').entries());
      return JSON.stringify(entries.sort());
    };
    if (sorted(params.toString()) === sorted(current)) {
      return window.dash_clientside.no_update;
    }
    var next = params.toString();
    return next ? '?' + next : '';
  }
});
