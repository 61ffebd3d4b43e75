// plotly.js with only the trace types this dashboard draws (scatter is in the core).
// Built into plotly-charts-<version>.min.js by `make plotly-bundle`; Dash does not serve
// this file (app.py keeps the vendor folder out of the page assets).
'use strict';
var Plotly = require('plotly.js/lib/core');

Plotly.register([require('plotly.js/lib/bar'), require('plotly.js/lib/heatmap')]);

module.exports = Plotly;
