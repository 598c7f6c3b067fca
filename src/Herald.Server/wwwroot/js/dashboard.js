// The live dashboard: asks GET /v1/stats once (to learn whether an API key is needed), then
// follows GET /v1/stats/stream — one snapshot per second — and draws it: with EventSource when no
// key is needed, else with fetch, the key in a header (an API key in a URL is refused: access logs).
// The wire contract is docs/protocol.md ("Stats").

const KEY_STORAGE = 'herald.statsKey';
const RETRY_MS = 3000;
// Sixty points: one minute of the server's default 1 s interval.
const WINDOW = 60;
const SVG = 'http://www.w3.org/2000/svg';

const $ = (id) => document.getElementById(id);
const integer = new Intl.NumberFormat('en');
const rate = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });

const series = { publications: [], deliveries: [] };
let source = null;
let retryTimer = 0;

function storedKey() {
  return sessionStorage.getItem(KEY_STORAGE) ?? '';
}

function setFeed(state, text) {
  // The text sits in a live region: rewriting it unchanged would announce it again.
  if ($('feed').dataset.state === state && $('feed-text').textContent === text) return;
  $('feed').dataset.state = state;
  $('feed-text').textContent = text;
}

function stop() {
  clearTimeout(retryTimer);
  source?.close();
  source = null;
}

function retryLater(why) {
  stop();
  setFeed('disconnected', `${why} — retrying in ${RETRY_MS / 1000} s`);
  retryTimer = setTimeout(start, RETRY_MS);
}

async function start() {
  stop();
  setFeed('connecting', 'Connecting…');
  const key = storedKey();
  let response;
  try {
    response = await fetch('/v1/stats', { cache: 'no-store', headers: key ? { Authorization: `Bearer ${key}` } : {} });
  } catch {
    retryLater('Server unreachable');
    return;
  }

  if (response.status === 401 || response.status === 403) {
    askForKey(key ? 'The server refused this key.' : '');
    return;
  }
  if (!response.ok) {
    retryLater(`The server answered ${response.status}`);
    return;
  }

  showStats(true);
  render(await response.json());
  follow(key);
}

function follow(key) {
  if (key) {
    // EventSource cannot send headers, and the server refuses API keys in ?token=.
    const controller = new AbortController();
    source = { close: () => controller.abort() };
    readStream(key, controller.signal);
    return;
  }

  source = new EventSource('/v1/stats/stream');
  source.addEventListener('open', () => setFeed('connected', 'Live'));
  source.addEventListener('stats', (event) => {
    setFeed('connected', 'Live');
    const stats = JSON.parse(event.data);
    addPoint(stats.rates);
    render(stats);
  });
  source.addEventListener('error', () => {
    // CONNECTING: the browser retries by itself (a restart, a network blip). CLOSED: it gave up —
    // the answer was not a stream (401, 429, …) — so start over and find out why.
    if (source?.readyState === EventSource.CLOSED) retryLater('Disconnected');
    else setFeed('reconnecting', 'Reconnecting…');
  });
}

// The stats stream read with fetch, so that the key travels in a header: SSE blocks split on a
// blank line, each `event:` and `data:` lines (the server sends only `stats` events and comments).
async function readStream(key, signal) {
  let response;
  try {
    response = await fetch('/v1/stats/stream', { cache: 'no-store', signal, headers: { Authorization: `Bearer ${key}`, Accept: 'text/event-stream' } });
  } catch {
    if (!signal.aborted) retryLater('Disconnected');
    return;
  }
  if (!response.ok || !response.body) {
    if (!signal.aborted) retryLater(`The server answered ${response.status}`);
    return;
  }

  setFeed('connected', 'Live');
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let pending = '';
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      pending += value.replaceAll('\r\n', '\n');
      let end;
      while ((end = pending.indexOf('\n\n')) >= 0) {
        const block = pending.slice(0, end);
        pending = pending.slice(end + 2);
        let event = 'message';
        const data = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
        }
        if (event !== 'stats' || data.length === 0) continue;
        setFeed('connected', 'Live');
        const stats = JSON.parse(data.join('\n'));
        addPoint(stats.rates);
        render(stats);
      }
    }
  } catch {
    // Aborted (stop) or cut (the server stopped): decided below.
  }
  if (!signal.aborted) retryLater('Disconnected');
}

function showStats(visible) {
  $('access').hidden = visible;
  for (const card of document.querySelectorAll('[data-needs-stats]')) card.hidden = !visible;
}

function askForKey(error) {
  stop();
  sessionStorage.removeItem(KEY_STORAGE);
  showStats(false);
  setFeed('disconnected', 'API key needed');
  $('access-error').textContent = error;
  $('api-key').focus();
}

$('access-form').addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY_STORAGE, $('api-key').value.trim());
  $('api-key').value = '';
  start();
});

// ---- rendering -------------------------------------------------------------------------------

function render(stats) {
  const c = stats.connections;
  $('c-ws').textContent = integer.format(c.ws);
  $('c-sse').textContent = integer.format(c.sse);
  $('c-stream').textContent = integer.format(c.stream);
  $('c-longpoll').textContent = integer.format(c.longPoll);
  $('c-shortpoll').textContent = rate.format(stats.rates.shortPolls);
  $('c-total').textContent = integer.format(c.ws + c.sse + c.stream + c.longPoll);

  $('r-publications').textContent = rate.format(stats.rates.publications);
  $('r-deliveries').textContent = rate.format(stats.rates.deliveries);

  $('t-publications').textContent = integer.format(stats.totals.publications);
  $('t-deliveries').textContent = integer.format(stats.totals.deliveries);
  $('t-slow').textContent = integer.format(stats.totals.slowConsumerDisconnects);
  $('t-uptime').textContent = duration(stats.uptimeSeconds);

  renderChannels(stats.topChannels, stats.channels);
  drawChart();
}

function renderChannels(top, count) {
  const body = $('top-channels');
  const rows = [];
  const most = top.length > 0 ? top[0].subscribers : 1;
  for (const { channel, subscribers } of top) {
    const row = document.createElement('tr');
    const name = document.createElement('td');
    name.className = 'channel';
    name.textContent = channel;
    const figure = document.createElement('td');
    figure.className = 'num';
    figure.textContent = integer.format(subscribers);
    const share = document.createElement('td');
    share.className = 'share';
    const bar = document.createElement('div');
    bar.className = 'bar';
    bar.style.width = `${Math.max(2, (subscribers / most) * 100)}%`;
    share.append(bar);
    row.append(name, figure, share);
    rows.push(row);
  }
  if (rows.length === 0) {
    const row = document.createElement('tr');
    const cell = document.createElement('td');
    cell.colSpan = 3;
    cell.className = 'muted';
    cell.textContent = 'No subscribers yet';
    row.append(cell);
    rows.push(row);
  }
  body.replaceChildren(...rows);
  $('channel-count').textContent = integer.format(count);
}

function duration(seconds) {
  const s = Math.floor(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

// ---- the chart: two polylines in an SVG sized to its box, no library -------------------------

function addPoint(rates) {
  for (const name of Object.keys(series)) {
    series[name].push(rates[name]);
    if (series[name].length > WINDOW) series[name].shift();
  }
}

/** The smallest 1, 2 or 5 × 10^n at least `value`, so the axis reads in round numbers. */
function niceMax(value) {
  if (value <= 1) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) {
    if (step * magnitude >= value) return step * magnitude;
  }
  return 10 * magnitude;
}

function element(name, attributes, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function drawChart() {
  const svg = $('chart');
  const width = Math.max(200, svg.clientWidth);
  const height = Math.max(120, svg.clientHeight);
  const left = 44;
  const right = 8;
  const top = 10;
  const bottom = 10;
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);

  const values = [...series.publications, ...series.deliveries];
  const max = niceMax(Math.max(0, ...values));
  const y = (v) => top + (1 - v / max) * (height - top - bottom);
  const step = (width - left - right) / (WINDOW - 1);

  const title = svg.querySelector('title');
  const parts = [title];
  for (const fraction of [0, 0.5, 1]) {
    const gy = y(max * fraction);
    parts.push(element('line', { class: 'grid', x1: left, x2: width - right, y1: gy, y2: gy }));
    parts.push(element('text', { x: left - 6, y: gy + 4, 'text-anchor': 'end' }, rate.format(max * fraction)));
  }
  for (const [name, points] of Object.entries(series)) {
    if (points.length === 0) continue;
    // The newest point sits at the right edge; the line grows in from the left.
    const offset = WINDOW - points.length;
    const coordinates = points.map((v, i) => `${(left + (offset + i) * step).toFixed(1)},${y(v).toFixed(1)}`);
    if (points.length === 1) coordinates.unshift(`${(width - right - step).toFixed(1)},${y(points[0]).toFixed(1)}`);
    parts.push(element('polyline', { class: `line ${name}`, points: coordinates.join(' ') }));
  }
  svg.replaceChildren(...parts);

  const last = (name) => series[name].at(-1) ?? 0;
  title.textContent = `Publications and deliveries per second over the last ${series.publications.length} samples: ` +
    `now ${rate.format(last('publications'))} and ${rate.format(last('deliveries'))}; axis up to ${rate.format(max)}.`;
}

new ResizeObserver(() => drawChart()).observe($('chart'));
start();
