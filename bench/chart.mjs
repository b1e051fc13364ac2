// The README's latency chart, drawn as plain SVG so that the benchmark needs no plotting
// library and the same report always gives the same bytes (the file is committed, and a diff
// should show changed figures, not a renderer's whims).

const WIDTH = 900;
const HEIGHT = 420;
const FONT = "-apple-system, BlinkMacSystemFont, 'Segoe UI', Helvetica, Arial, sans-serif";
const INK = '#1f2328';
const MUTED = '#59636e';
const GRID = '#e1e4e8';
/** Okabe-Ito colours: told apart with the common colour-vision deficiencies. */
const PERCENTILES = [
  { key: 'p50', colour: '#0072B2' },
  { key: 'p90', colour: '#009E73' },
  { key: 'p99', colour: '#D55E00' },
];
const BAR_COLOURS = { reference: '#c9ced4', webhook: '#57606a' };
const DASH = '6 4';
/** Text is laid out without a font engine: widths in ems, wide enough for the widest likely font. */
const CHAR_WIDTH = 0.6;
const BOLD_CHAR_WIDTH = 0.66;
const TITLE_SIZE = 16;
const TEXT_SIZE = 12;

const LATENCY_PANEL = { left: 78, right: 572, top: 64, bottom: 318 };
const THROUGHPUT_PANEL = { left: 664, right: 880, top: 64, bottom: 318 };
const LEGEND_ROWS = [386, 406];

/**
 * The latency percentiles of two servers against concurrency, with their throughput beside.
 * `report.servers` holds exactly two: the reference (a bare server: the floor) first, then the webhook.
 * Latencies are in milliseconds; a missing or non-positive figure leaves a gap.
 */
export function latencyChart(report) {
  if (report.servers.length !== 2) throw new Error(`latencyChart draws two servers (the reference, then the webhook), not ${report.servers.length}`);
  const [reference, webhook] = report.servers;
  const { concurrency } = report;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="${escapeXml(FONT)}" role="img">`,
    `<title>${escapeXml(report.title)}</title>`,
    // GitHub shows an SVG over its own background; without this the dark theme hides the ink.
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    // A long title is set smaller rather than cut off by the edge.
    text(24, 30, report.title, { size: Math.min(TITLE_SIZE, Math.floor((WIDTH - 48) / (report.title.length * BOLD_CHAR_WIDTH))), weight: 'bold' }),
    ...latencyPanel(concurrency, reference, webhook),
    ...throughputPanel(concurrency, reference, webhook),
    ...legend(reference, webhook),
    '</svg>',
    '',
  ].join('\n');
}

function latencyPanel(concurrency, reference, webhook) {
  const panel = LATENCY_PANEL;
  const values = [reference, webhook].flatMap((server) =>
    concurrency.flatMap((level) => PERCENTILES.map(({ key }) => server.byConcurrency[level]?.[key])),
  );
  const { ticks, y } = logScale(values.filter(isPositive), panel);
  const x = categoryScale(concurrency, panel);
  const parts = [
    text(panel.left, 54, 'Latency percentiles', { size: 13, weight: 'bold' }),
    ...ticks.flatMap((tick) => [
      line(panel.left, y(tick), panel.right, y(tick), GRID),
      text(panel.left - 8, y(tick) + 4, String(tick), { anchor: 'end', colour: MUTED }),
    ]),
    ...categoryAxis(concurrency, x, panel),
    text(22, (panel.top + panel.bottom) / 2, 'latency (ms, log scale)', { anchor: 'middle', colour: MUTED, rotate: true }),
  ];
  // The reference first, so that where the lines meet the webhook's solid line stays on top.
  for (const [server, dashed] of [[reference, true], [webhook, false]]) {
    for (const { key, colour } of PERCENTILES) {
      const points = concurrency.map((level, index) => {
        const value = server.byConcurrency[level]?.[key];
        return isPositive(value) ? { level, value, x: x(index), y: y(value) } : null;
      });
      parts.push(...runs(points).map((run) => polyline(run, colour, dashed)));
      for (const point of points.filter(Boolean)) {
        const label = `${server.name}, ${key} at concurrency ${point.level}: ${formatMs(point.value)}`;
        // Hollow markers for the reference, filled for the webhook: told apart where lines overlap.
        parts.push(
          `<circle cx="${n(point.x)}" cy="${n(point.y)}" r="3.5" fill="${dashed ? '#ffffff' : colour}" stroke="${colour}" stroke-width="1.5"><title>${escapeXml(label)}</title></circle>`,
        );
      }
    }
  }
  return parts;
}

function throughputPanel(concurrency, reference, webhook) {
  const panel = THROUGHPUT_PANEL;
  const rates = [reference, webhook].flatMap((server) => concurrency.map((level) => server.byConcurrency[level]?.rps)).filter(isPositive);
  // Headroom above the tallest bar for the ratio written over it.
  const { ticks, y } = linearScale(Math.max(1, ...rates) * 1.12, panel);
  const x = categoryScale(concurrency, panel);
  const slot = (panel.right - panel.left) / concurrency.length;
  const barWidth = Math.min(28, slot * 0.34);
  const parts = [
    text(panel.left, 54, 'Throughput (requests/s)', { size: 13, weight: 'bold' }),
    ...ticks.flatMap((tick) => [
      line(panel.left, y(tick), panel.right, y(tick), GRID),
      text(panel.left - 8, y(tick) + 4, formatRate(tick), { anchor: 'end', colour: MUTED }),
    ]),
  ];
  concurrency.forEach((level, index) => {
    const pair = [
      { server: reference, fill: BAR_COLOURS.reference, left: x(index) - barWidth - 1 },
      { server: webhook, fill: BAR_COLOURS.webhook, left: x(index) + 1 },
    ].map((bar) => ({ ...bar, rps: bar.server.byConcurrency[level]?.rps }));
    for (const bar of pair.filter((candidate) => isPositive(candidate.rps))) {
      const label = `${bar.server.name} at concurrency ${level}: ${Math.round(bar.rps)} requests/s`;
      parts.push(
        `<rect x="${n(bar.left)}" y="${n(y(bar.rps))}" width="${n(barWidth)}" height="${n(panel.bottom - y(bar.rps))}" fill="${bar.fill}"><title>${escapeXml(label)}</title></rect>`,
      );
    }
    const [referenceRps, webhookRps] = pair.map((bar) => bar.rps);
    if (isPositive(referenceRps) && isPositive(webhookRps)) {
      const top = y(Math.max(referenceRps, webhookRps));
      parts.push(text(x(index), top - 6, `${(webhookRps / referenceRps).toFixed(2)}×`, { anchor: 'middle', size: 11, weight: 'bold' }));
    }
  });
  parts.push(...categoryAxis(concurrency, x, panel));
  return parts;
}

/** The concurrency labels, the baseline and the axis title under a panel. */
function categoryAxis(concurrency, x, panel) {
  return [
    line(panel.left, panel.bottom, panel.right, panel.bottom, INK),
    ...concurrency.map((level, index) => text(x(index), panel.bottom + 18, String(level), { anchor: 'middle' })),
    text((panel.left + panel.right) / 2, panel.bottom + 38, 'concurrent requests', { anchor: 'middle', colour: MUTED }),
  ];
}

/** Percentile colours on the first row, the servers' line and bar styles on the second. */
function legend(reference, webhook) {
  const parts = [];
  let x = LATENCY_PANEL.left;
  for (const { key, colour } of PERCENTILES) {
    parts.push(sampleLine(x, LEGEND_ROWS[0], colour, false), text(x + 30, LEGEND_ROWS[0] + 4, key));
    x += 30 + textWidth(key) + 24;
  }
  x = LATENCY_PANEL.left;
  for (const [server, dashed] of [[webhook, false], [reference, true]]) {
    parts.push(sampleLine(x, LEGEND_ROWS[1], INK, dashed), text(x + 30, LEGEND_ROWS[1] + 4, server.name));
    x += 30 + textWidth(server.name) + 24;
  }
  [
    [reference, BAR_COLOURS.reference],
    [webhook, BAR_COLOURS.webhook],
  ].forEach(([server, fill], index) => {
    const row = LEGEND_ROWS[index];
    parts.push(
      `<rect x="${THROUGHPUT_PANEL.left}" y="${row - 6}" width="12" height="12" fill="${fill}"/>`,
      text(THROUGHPUT_PANEL.left + 18, row + 4, server.name),
    );
  });
  return parts;
}

function sampleLine(x, y, colour, dashed) {
  return [
    line(x, y, x + 24, y, colour, dashed, 2),
    `<circle cx="${n(x + 12)}" cy="${n(y)}" r="3.5" fill="${dashed ? '#ffffff' : colour}" stroke="${colour}" stroke-width="1.5"/>`,
  ].join('');
}

/**
 * A log scale from the 1-2-5 tick at or under the smallest value to the one at or over the
 * largest; over more than four decades only the powers of ten, so that labels do not crowd.
 */
function logScale(values, panel) {
  const smallest = values.length > 0 ? Math.min(...values) : 1;
  const largest = values.length > 0 ? Math.max(...values) : 1;
  const mantissas = Math.log10(largest / smallest) > 4 ? [1] : [1, 2, 5];
  const candidates = [];
  for (let exponent = Math.floor(Math.log10(smallest)) - 1; exponent <= Math.ceil(Math.log10(largest)) + 1; exponent++) {
    for (const mantissa of mantissas) candidates.push(Number((mantissa * 10 ** exponent).toPrecision(1)));
  }
  const low = candidates.findLast((candidate) => candidate <= smallest);
  // Strictly above the low end, so that a single value still gets an axis.
  const high = candidates.find((candidate) => candidate >= largest && candidate > low);
  const span = Math.log10(high / low);
  return {
    ticks: candidates.filter((candidate) => candidate >= low && candidate <= high),
    y: (value) => panel.bottom - (Math.log10(value / low) / span) * (panel.bottom - panel.top),
  };
}

/** From zero to a round number at or over `top`, in about four 1-2-5 steps. */
function linearScale(top, panel) {
  const rough = top / 4;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((mantissa) => mantissa * magnitude).find((candidate) => candidate >= rough);
  const high = Math.ceil(top / step) * step;
  return {
    ticks: Array.from({ length: Math.round(high / step) + 1 }, (_, index) => index * step),
    y: (value) => panel.bottom - (value / high) * (panel.bottom - panel.top),
  };
}

/** Evenly spaced categories, each in the middle of its slot. */
function categoryScale(categories, panel) {
  const slot = (panel.right - panel.left) / categories.length;
  return (index) => panel.left + slot * (index + 0.5);
}

/** The stretches of points without a gap, so that a line does not bridge a missing figure. */
function runs(points) {
  const stretches = [[]];
  for (const point of points) {
    if (point) stretches.at(-1).push(point);
    else stretches.push([]);
  }
  return stretches.filter((stretch) => stretch.length >= 2);
}

function polyline(points, colour, dashed) {
  const coordinates = points.map((point) => `${n(point.x)},${n(point.y)}`).join(' ');
  return `<polyline points="${coordinates}" fill="none" stroke="${colour}" stroke-width="2"${dashed ? ` stroke-dasharray="${DASH}"` : ''}/>`;
}

function line(x1, y1, x2, y2, colour, dashed = false, width = 1) {
  return `<line x1="${n(x1)}" y1="${n(y1)}" x2="${n(x2)}" y2="${n(y2)}" stroke="${colour}" stroke-width="${width}"${dashed ? ` stroke-dasharray="${DASH}"` : ''}/>`;
}

function text(x, y, content, { size = TEXT_SIZE, weight = 'normal', anchor = 'start', colour = INK, rotate = false } = {}) {
  const transform = rotate ? ` transform="rotate(-90 ${n(x)} ${n(y)})"` : '';
  return `<text x="${n(x)}" y="${n(y)}" font-size="${size}" font-weight="${weight}" text-anchor="${anchor}" fill="${colour}"${transform}>${escapeXml(content)}</text>`;
}

function textWidth(content) {
  return content.length * TEXT_SIZE * CHAR_WIDTH;
}

function isPositive(value) {
  return Number.isFinite(value) && value > 0;
}

/** Coordinates to a tenth of a pixel: finer is invisible and only bloats the diff. */
function n(value) {
  return String(Math.round(value * 10) / 10);
}

function formatMs(value) {
  return `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
}

function formatRate(value) {
  return value >= 1000 ? `${value / 1000}k` : String(value);
}

function escapeXml(content) {
  return String(content).replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}
