/* The local-data upload on the Data page. Dash's upload silently drops a file that is too
   large or not .csv, so say why here; and name its hidden file input for screen readers. */
(function () {
  var UPLOAD = 'data-local-upload';
  var NOTICE = 'data-local-notice';

  function megabytes(bytes) {
    return (Math.round(bytes / 1048576 * 10) / 10) + ' MB';
  }
  function inUpload(target) {
    return target && target.closest && target.closest('#' + UPLOAD);
  }
  function check(files) {
    var notice = document.getElementById(NOTICE);
    if (!notice || !files || !files.length) { return; }
    var file = files[0];
    var limit = Number(notice.getAttribute('data-max-bytes'));
    var why = '';
    if (!/\.csv$/i.test(file.name)) {
      why = file.name + ' is not a .csv file. In Excel use File > Save As > CSV UTF-8, ' +
            'then upload that file.';
    } else if (limit && file.size > limit) {
      why = file.name + ' is ' + megabytes(file.size) + '; uploads are limited to ' +
            megabytes(limit) + '. Split it into smaller files.';
    }
    notice.textContent = why;
  }
  function label() {
    var input = document.querySelector('#' + UPLOAD + ' input[type=file]');
    if (input && !input.hasAttribute('aria-label')) {
      input.setAttribute('aria-label', 'Choose a local data CSV file to upload');
    }
  }
  document.addEventListener('change', function (event) {
    if (inUpload(event.target)) { check(event.target.files); }
  }, true);
  document.addEventListener('drop', function (event) {
    if (inUpload(event.target) && event.dataTransfer) { check(event.dataTransfer.files); }
  }, true);
  var pending = false;
  new MutationObserver(function () {
    if (pending) { return; }
    pending = true;
    window.requestAnimationFrame(function () { pending = false; label(); });
  }).observe(document.documentElement, {childList: true, subtree: true});
})();
