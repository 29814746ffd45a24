/*
 * The desk's charts. Plain browser JavaScript, loaded with `defer` after Chart.js (window.Chart); no inline code,
 * no inline style (the page's CSP forbids both). Each <canvas data-chart="id"> is drawn from the JSON block with
 * that id, which the server wrote beside it: { shape, labels, series: [{ label, cells }], unit?, axis? }.
 * A cell is a number, "<5" (a small count: drawn as no bar, and said as "<5") or null (no figure: "–").
 * The table beside each chart holds the same figures for anyone who does not read the canvas.
 */
(function () {
  'use strict';

  var Chart = window.Chart;
  if (!Chart) return;

  var lang = document.documentElement.lang || 'it';
  var numbers = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
  var FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Helvetica Neue", Arial, sans-serif';
  var INK = '#333333';
  var GRID = '#d9dee3';
  var SMALL = '<5';

  // Okabe–Ito: told apart by the common colour-blindnesses; each series also gets its own pattern or marker.
  var COLOURS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#D55E00', '#56B4E9', '#555555', '#F0E442'];
  // each bar's outline: the same hue, dark enough to stand out 3:1 from the white page (the light fills alone do not)
  var EDGES = ['#0072B2', '#8A5F00', '#007A5A', '#A14F7D', '#B34700', '#1F6F9E', '#555555', '#7A7100'];
  var PATTERNS = ['solid', 'diagonal', 'dots', 'cross', 'horizontal', 'vertical', 'backslash', 'grid'];
  var POINTS = ['circle', 'triangle', 'rect', 'rectRot', 'star', 'crossRot', 'rectRounded', 'cross'];
  var DASHES = [[], [6, 4], [2, 3], [10, 3, 2, 3]];

  Chart.defaults.animation = false;
  Chart.defaults.color = INK;
  Chart.defaults.borderColor = GRID;
  Chart.defaults.font.family = FONT;
  Chart.defaults.font.size = 12;

  /** A fill for bars: the colour, with white lines or dots over it from the second series on. */
  function fill(colour, kind) {
    if (kind === 'solid') return colour;
    var size = 8;
    var tile = document.createElement('canvas');
    tile.width = size;
    tile.height = size;
    var c = tile.getContext('2d');
    c.fillStyle = colour;
    c.fillRect(0, 0, size, size);
    c.strokeStyle = 'rgba(255,255,255,0.85)';
    c.fillStyle = 'rgba(255,255,255,0.85)';
    c.lineWidth = 2;
    c.beginPath();
    if (kind === 'diagonal') {
      c.moveTo(0, size);
      c.lineTo(size, 0);
      c.moveTo(-2, 2);
      c.lineTo(2, -2);
      c.moveTo(size - 2, size + 2);
      c.lineTo(size + 2, size - 2);
    } else if (kind === 'backslash') {
      c.moveTo(0, 0);
      c.lineTo(size, size);
      c.moveTo(size - 2, -2);
      c.lineTo(size + 2, 2);
      c.moveTo(-2, size - 2);
      c.lineTo(2, size + 2);
    } else if (kind === 'cross') {
      c.moveTo(0, size);
      c.lineTo(size, 0);
      c.moveTo(0, 0);
      c.lineTo(size, size);
    } else if (kind === 'horizontal') {
      c.moveTo(0, size / 2);
      c.lineTo(size, size / 2);
    } else if (kind === 'vertical') {
      c.moveTo(size / 2, 0);
      c.lineTo(size / 2, size);
    } else if (kind === 'grid') {
      c.moveTo(0, size / 2);
      c.lineTo(size, size / 2);
      c.moveTo(size / 2, 0);
      c.lineTo(size / 2, size);
    }
    c.stroke();
    if (kind === 'dots') {
      c.beginPath();
      c.arc(size / 2, size / 2, 1.6, 0, 2 * Math.PI);
      c.fill();
    }
    return c.createPattern(tile, 'repeat') || colour;
  }

  /** A cell as words: "<5" as it is, no figure as "–", a number in the page's language (with its unit). */
  function said(cell, unit) {
    if (cell === SMALL) return SMALL;
    if (cell === null || cell === undefined) return '–';
    return numbers.format(cell) + (unit ? ' ' + unit : '');
  }

  /** A long row name shortened on the axis, more on a phone (the tooltip and the table keep it whole). */
  function shortened(label, width) {
    var s = String(label);
    var max = width < 500 ? 16 : 28;
    return s.length > max ? s.slice(0, max - 1) + '…' : s;
  }

  /** Writes "<5" where a small count has no bar, when there is room beside it. */
  function smallCells(spec) {
    return {
      id: 'deskSmallCells',
      afterDatasetsDraw: function (chart) {
        if (spec.shape === 'stacked' || spec.shape === 'line') return; // the tooltip and the table say it
        var ctx = chart.ctx;
        var horizontal = spec.shape === 'hbar';
        ctx.save();
        ctx.font = '11px ' + FONT;
        ctx.fillStyle = INK;
        var textWidth = ctx.measureText(SMALL).width;
        spec.series.forEach(function (s, di) {
          var meta = chart.getDatasetMeta(di);
          if (meta.hidden) return;
          s.cells.forEach(function (cell, i) {
            var bar = meta.data[i];
            if (cell !== SMALL || !bar) return;
            var p = bar.getProps(['x', 'y', 'base', 'width', 'height'], true);
            if (horizontal) {
              if (!(p.height >= 9)) return;
              ctx.textAlign = 'left';
              ctx.textBaseline = 'middle';
              ctx.fillText(SMALL, p.base + 3, p.y);
            } else {
              if (!(p.width >= textWidth)) return;
              ctx.textAlign = 'center';
              ctx.textBaseline = 'bottom';
              ctx.fillText(SMALL, p.x, p.base - 2);
            }
          });
        });
        ctx.restore();
      },
    };
  }

  /** The height a chart needs: a horizontal bar chart grows with its rows, so every name fits on the axis. */
  function heightFor(spec) {
    if (spec.shape !== 'hbar') return window.innerWidth < 640 ? 260 : 320;
    var perRow = Math.max(18, spec.series.length * 11 + 8);
    return Math.max(150, spec.labels.length * perRow + 40 + (spec.series.length > 1 ? 30 : 0) + (spec.axis ? 20 : 0));
  }

  function draw(canvas) {
    var block = document.getElementById(canvas.getAttribute('data-chart'));
    if (!block) return;
    var spec;
    try {
      spec = JSON.parse(block.textContent);
    } catch (e) {
      return;
    }
    var line = spec.shape === 'line';
    var horizontal = spec.shape === 'hbar';
    var stacked = spec.shape === 'stacked';
    var several = spec.series.length > 1;

    var datasets = spec.series.map(function (s, i) {
      var colour = COLOURS[i % COLOURS.length];
      var values = s.cells.map(function (c) {
        return typeof c === 'number' ? c : null;
      });
      if (line) {
        return {
          label: s.label,
          data: values,
          borderColor: EDGES[i % EDGES.length],
          backgroundColor: EDGES[i % EDGES.length],
          borderWidth: 2,
          borderDash: DASHES[i % DASHES.length],
          pointStyle: POINTS[i % POINTS.length],
          pointRadius: 4,
          spanGaps: false,
        };
      }
      return {
        label: s.label,
        data: values,
        backgroundColor: several ? fill(colour, PATTERNS[i % PATTERNS.length]) : colour,
        borderColor: EDGES[i % EDGES.length],
        borderWidth: 1,
        maxBarThickness: 28,
      };
    });

    var valueAxis = {
      beginAtZero: true,
      stacked: stacked,
      grid: { color: GRID },
      ticks: spec.unit ? {} : { precision: 0 },
      title: spec.axis ? { display: true, text: spec.axis } : { display: false },
    };
    var rowAxis = {
      stacked: stacked,
      grid: { display: false },
      ticks: horizontal
        ? {
            autoSkip: false,
            callback: function (value) {
              return shortened(this.getLabelForValue(value), this.chart.width);
            },
          }
        : { maxRotation: 60, autoSkip: true },
    };

    canvas.parentNode.style.height = heightFor(spec) + 'px';
    new Chart(canvas, {
      type: line ? 'line' : 'bar',
      data: { labels: spec.labels, datasets: datasets },
      options: {
        locale: lang,
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        indexAxis: horizontal ? 'y' : 'x',
        interaction: { mode: 'index', intersect: false, axis: horizontal ? 'y' : 'x' },
        scales: horizontal ? { x: valueAxis, y: rowAxis } : { x: rowAxis, y: valueAxis },
        plugins: {
          legend: { display: several, position: 'top', labels: { usePointStyle: line, boxWidth: 18, boxHeight: 12 } },
          tooltip: {
            callbacks: {
              label: function (item) {
                var cell = spec.series[item.datasetIndex].cells[item.dataIndex];
                return (several ? item.dataset.label + ': ' : '') + said(cell, spec.unit);
              },
            },
          },
        },
      },
      plugins: [smallCells(spec)],
    });
  }

  var canvases = document.querySelectorAll('canvas[data-chart]');
  for (var i = 0; i < canvases.length; i++) draw(canvases[i]);
})();
