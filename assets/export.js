/* Export links (a.export-link) download their file in the page and show its progress: the
   stages the server reports for the export (waiting, opening the view, drawing the charts,
   printing), then the file's name. A busy server's answer ("try again in N s") is shown as
   it is. Without this script the links still download the file directly. */
(function () {
  var STAGES = [
    ['waiting', 'Waiting for the export service'],
    ['opening', 'Opening the view'],
    ['drawing', 'Drawing the charts and tables'],
    ['printing', 'Printing the file'],
  ];
  var POLL_MS = 400;

  function token() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.from(bytes, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }

  function panel(link) {
    var holder = link.parentElement;
    var box = holder.querySelector('.export-progress');
    if (!box) {
      box = document.createElement('div');
      box.className = 'export-progress small';
      box.setAttribute('role', 'status');
      box.setAttribute('aria-live', 'polite');
      holder.appendChild(box);
    }
    return box;
  }

  function show(box, stage, message) {
    box.textContent = '';
    if (message) {
      box.textContent = message;
      return;
    }
    var list = document.createElement('ol');
    list.className = 'export-steps';
    var reached = STAGES.findIndex(function (s) { return s[0] === stage; });
    STAGES.forEach(function (s, i) {
      var item = document.createElement('li');
      item.textContent = (i < reached ? '✓ ' : '') + s[1];
      if (i === reached) { item.className = 'current'; item.setAttribute('aria-current', 'step'); }
      if (i < reached) { item.className = 'done'; }
      list.appendChild(item);
    });
    box.appendChild(list);
  }

  function fileName(response) {
    var found = /filename="([^"]+)"/.exec(response.headers.get('Content-Disposition') || '');
    return found ? found[1] : 'export';
  }

  function run(link) {
    var id = token();
    var box = panel(link);
    var finished = false;
    link.setAttribute('aria-busy', 'true');
    show(box, 'waiting');
    (function poll() {
      if (finished) { return; }
      fetch('/export/progress/' + id, {credentials: 'same-origin'})
        .then(function (r) { return r.ok ? r.json() : {}; })
        .then(function (body) {
          if (!finished && body.stage && body.stage !== 'done') { show(box, body.stage); }
        })
        .catch(function () {})
        .finally(function () { if (!finished) { setTimeout(poll, POLL_MS); } });
    })();
    fetch(link.href + '&progress=' + id, {credentials: 'same-origin'})
      .then(function (response) {
        if (!response.ok) {
          return response.text().then(function (text) {
            throw new Error(text.trim() || 'The export could not be made just now.');
          });
        }
        var name = fileName(response);
        return response.blob().then(function (blob) {
          var url = URL.createObjectURL(blob);
          var save = document.createElement('a');
          save.href = url;
          save.download = name;
          document.body.appendChild(save);
          save.click();
          save.remove();
          setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
          finished = true;
          show(box, null, 'Ready: ' + name + ' downloaded.');
        });
      })
      .catch(function (error) {
        finished = true;
        show(box, null, error.message.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim());
      })
      .finally(function () {
        finished = true;
        link.removeAttribute('aria-busy');
      });
  }

  document.addEventListener('click', function (event) {
    var link = event.target.closest && event.target.closest('a.export-link');
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || !window.fetch) { return; }
    event.preventDefault();
    if (link.getAttribute('aria-busy') !== 'true') { run(link); }
  });
})();
