/* Charts on a narrow screen (a phone): the title and notes are wrapped again to the width the
   chart is drawn at, so no line runs past its edge. Plotly does not wrap text itself; the
   figures are wrapped for a desktop or A4 width. */
(function () {
  var NARROW_PX = 700;
  var TITLE_PX_PER_CHAR = 8.5;  // the title's font at 16 px
  var NOTE_PX_PER_CHAR = 6.5;   // notes and source lines at 11-12 px

  function wrap(text, chars) {
    var words = String(text).replace(/<br\s*\/?>/gi, ' ').split(/\s+/).filter(Boolean);
    var lines = [];
    var line = '';
    words.forEach(function (word) {
      if (line && (line + ' ' + word).replace(/<[^>]+>/g, '').length > chars) {
        lines.push(line);
        line = word;
      } else {
        line = line ? line + ' ' + word : word;
      }
    });
    if (line) { lines.push(line); }
    return lines.join('<br>');
  }

  function fit(plot) {
    if (!window.Plotly || !plot.layout) { return; }
    var width = plot.getBoundingClientRect().width;
    if (!width || width >= NARROW_PX || plot.dataset.wrappedFor === String(width)) { return; }
    plot.dataset.wrappedFor = String(width);
    var update = {};
    var title = plot.layout.title && plot.layout.title.text;
    if (title) {
      update['title.text'] = wrap(title, Math.floor(width / TITLE_PX_PER_CHAR));
      update['title.automargin'] = true;
    }
    (plot.layout.annotations || []).forEach(function (note, i) {
      if (note.text && note.xref === 'paper') {
        update['annotations[' + i + '].text'] = wrap(note.text, Math.floor(width / NOTE_PX_PER_CHAR));
      }
    });
    window.Plotly.relayout(plot, update);
  }

  var pending = false;
  new MutationObserver(function () {
    if (pending) { return; }
    pending = true;
    window.setTimeout(function () {
      pending = false;
      document.querySelectorAll('.js-plotly-plot').forEach(fit);
    }, 100);
  }).observe(document.documentElement, {childList: true, subtree: true});
})();
