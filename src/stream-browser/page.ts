// The stream browser's page: plain HTML, CSS and JavaScript served as they are (no build
// step). Every value from the store is set as text, never as HTML.

export const pageHtml = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Scribe stream browser</title>
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body>
<header>
  <h1>Scribe <span id="store-name"></span></h1>
  <span id="mode" class="badge"></span>
  <span id="summary"></span>
</header>
<main>
  <section id="streams-panel">
    <h2>Streams</h2>
    <form id="search-form">
      <input id="search" type="search" placeholder="stream id or prefix" autocomplete="off">
      <select id="match"><option value="prefix">prefix</option><option value="contains">contains</option></select>
    </form>
    <ul id="streams"></ul>
  </section>
  <section id="stream-panel">
    <h2>Events <span id="stream-title"></span></h2>
    <p id="stream-hint">Pick a stream on the left.</p>
    <table id="events"><thead><tr><th>version</th><th>type</th><th>data</th><th>metadata</th><th>position</th><th>time</th></tr></thead><tbody></tbody></table>
    <form id="append-form" hidden>
      <h3>Append to this stream</h3>
      <label>type <input id="append-type" required></label>
      <label>data (JSON) <textarea id="append-data" rows="2">{}</textarea></label>
      <label>expected version <input id="append-expected" placeholder="any"></label>
      <button type="submit">Append</button>
    </form>
    <p id="message" role="status"></p>
  </section>
  <aside>
    <section>
      <h2>Live tail</h2>
      <input id="tail-prefix" type="search" placeholder="only streams starting with">
      <ol id="tail"></ol>
    </section>
    <section>
      <h2>Partitions</h2>
      <table id="partitions"><thead><tr><th>partition</th><th>owner</th></tr></thead><tbody></tbody></table>
    </section>
    <section>
      <h2>Subscriptions</h2>
      <table id="subscriptions"><thead><tr><th>name</th><th>state</th><th>lag events</th><th>lag s</th></tr></thead><tbody></tbody></table>
    </section>
  </aside>
</main>
</body>
</html>
`;

export const pageStyle = String.raw`
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d2330; background: #f5f6f8; }
header { display: flex; gap: 1em; align-items: baseline; padding: .6em 1em; background: #1d2330; color: #fff; }
h1 { font-size: 1.2em; margin: 0; }
h2 { font-size: 1em; margin: .2em 0 .5em; }
h3 { font-size: .95em; margin: .5em 0; }
.badge { padding: .1em .6em; border-radius: 1em; font-size: .85em; }
.read-only { background: #5b6474; }
.appends { background: #b4462b; }
main { display: grid; grid-template-columns: 16em 1fr 22em; gap: 1em; padding: 1em; }
section, aside > section { background: #fff; border-radius: 6px; padding: .6em .8em; box-shadow: 0 1px 2px #0002; }
aside { display: flex; flex-direction: column; gap: 1em; }
#streams { list-style: none; margin: .5em 0 0; padding: 0; max-height: 70vh; overflow: auto; }
#streams li { padding: .25em .4em; cursor: pointer; border-radius: 4px; display: flex; justify-content: space-between; }
#streams li:hover, #streams li.selected { background: #e3e8f2; }
#streams .meta, .muted { color: #6b7280; font-size: .85em; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .25em .4em; border-bottom: 1px solid #e5e7eb; vertical-align: top; }
td.json { font-family: ui-monospace, monospace; font-size: .85em; white-space: pre-wrap; word-break: break-all; }
#tail { list-style: none; margin: .5em 0 0; padding: 0; max-height: 30vh; overflow: auto; font-family: ui-monospace, monospace; font-size: .85em; }
#tail li { border-bottom: 1px solid #eee; padding: .2em 0; }
#tail li.fresh { background: #fff6d6; }
input, select, textarea, button { font: inherit; }
#search { width: 70%; }
#append-form label { display: block; margin: .3em 0; }
#append-form textarea { width: 100%; font-family: ui-monospace, monospace; }
#message.error { color: #b4462b; }
`;

export const pageScript = String.raw`
'use strict';
var state = { stream: null, overview: null };

function el(tag, text, className) {
  var node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function row(cells, jsonColumns) {
  var tr = document.createElement('tr');
  cells.forEach(function (cell, i) { tr.appendChild(el('td', cell, jsonColumns && jsonColumns.indexOf(i) >= 0 ? 'json' : '')); });
  return tr;
}

function api(path, options) {
  return fetch(path, options).then(function (response) {
    return response.json().then(function (body) {
      if (!response.ok) {
        var error = new Error(body.error ? body.error.message : response.statusText);
        error.code = body.error ? body.error.code : String(response.status);
        throw error;
      }
      return body;
    });
  });
}

function say(text, isError) {
  var message = document.getElementById('message');
  message.textContent = text;
  message.className = isError ? 'error' : '';
}

function loadOverview() {
  return api('/api/overview').then(function (overview) {
    state.overview = overview;
    document.getElementById('store-name').textContent = overview.store;
    document.title = 'Scribe: ' + overview.store;
    var mode = document.getElementById('mode');
    mode.textContent = overview.allowAppend ? 'appends allowed' : 'read-only';
    mode.className = 'badge ' + (overview.allowAppend ? 'appends' : 'read-only');
    document.getElementById('summary').textContent = overview.partitions + ' partitions, ' + overview.streams + ' streams, writers ' + overview.writers.state.toLowerCase() + ' (' + overview.writers.members + ')';
    var body = document.querySelector('#partitions tbody');
    body.replaceChildren();
    overview.owners.forEach(function (p) {
      body.appendChild(row([p.partition, p.owner ? p.owner.clientId + '@' + p.owner.host : 'no owner']));
    });
  });
}

function loadStreams() {
  var q = document.getElementById('search').value;
  var match = document.getElementById('match').value;
  return api('/api/streams?q=' + encodeURIComponent(q) + '&match=' + match).then(function (found) {
    var list = document.getElementById('streams');
    list.replaceChildren();
    found.streams.forEach(function (s) {
      var item = el('li');
      item.dataset.stream = s.streamId;
      item.appendChild(el('span', s.streamId, 'id'));
      item.appendChild(el('span', 'v' + s.version + ' p' + s.partition, 'meta'));
      if (s.streamId === state.stream) item.classList.add('selected');
      item.addEventListener('click', function () { openStream(s.streamId); });
      list.appendChild(item);
    });
    if (found.streams.length === 0) list.appendChild(el('li', q ? 'no stream matches' : 'no streams yet', 'muted'));
  });
}

function openStream(streamId) {
  state.stream = streamId;
  document.querySelectorAll('#streams li').forEach(function (li) { li.classList.toggle('selected', li.dataset.stream === streamId); });
  document.getElementById('stream-title').textContent = streamId;
  document.getElementById('stream-hint').hidden = true;
  document.getElementById('append-form').hidden = !(state.overview && state.overview.allowAppend);
  return loadEvents();
}

function loadEvents() {
  if (!state.stream) return Promise.resolve();
  return api('/api/events?stream=' + encodeURIComponent(state.stream)).then(function (result) {
    var body = document.querySelector('#events tbody');
    body.replaceChildren();
    result.events.forEach(function (e) {
      body.appendChild(row([e.version, e.type, JSON.stringify(e.data, null, 1), Object.keys(e.metadata).length ? JSON.stringify(e.metadata, null, 1) : '', e.position.partition + '/' + e.position.offset, e.timestamp], [2, 3]));
    });
  }).catch(function (error) { say(error.code + ': ' + error.message, true); });
}

function loadSubscriptions() {
  return api('/api/subscriptions').then(function (result) {
    var body = document.querySelector('#subscriptions tbody');
    body.replaceChildren();
    result.subscriptions.forEach(function (s) { body.appendChild(row([s.name, s.state.toLowerCase(), s.events, s.seconds.toFixed(1)])); });
    if (result.subscriptions.length === 0) body.appendChild(row(['none', '', '', '']));
  });
}

var tail = null;
var streamsTimer = null;
function startTail() {
  if (tail) tail.close();
  var prefix = document.getElementById('tail-prefix').value;
  tail = new EventSource('/api/tail' + (prefix ? '?prefix=' + encodeURIComponent(prefix) : ''));
  tail.onmessage = function (message) {
    var e = JSON.parse(message.data);
    var list = document.getElementById('tail');
    var item = el('li', e.streamId + '@' + e.version + ' ' + e.type + ' ' + JSON.stringify(e.data), 'fresh');
    item.dataset.stream = e.streamId;
    list.insertBefore(item, list.firstChild);
    while (list.children.length > 200) list.removeChild(list.lastChild);
    setTimeout(function () { item.classList.remove('fresh'); }, 3000);
    if (e.streamId === state.stream) loadEvents();
    // The list shows each stream's last version: refresh it, at most twice a second.
    clearTimeout(streamsTimer);
    streamsTimer = setTimeout(loadStreams, 500);
  };
  tail.onopen = function () { document.body.dataset.tail = 'open'; };
}

function append(event) {
  event.preventDefault();
  var data;
  try { data = JSON.parse(document.getElementById('append-data').value); } catch (error) { return say('data: not JSON: ' + error.message, true); }
  var expected = document.getElementById('append-expected').value.trim();
  var body = { stream: state.stream, type: document.getElementById('append-type').value, data: data };
  if (expected) body.expectedVersion = /^[0-9]+$/.test(expected) ? Number(expected) : expected;
  api('/api/append', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    .then(function (result) { say('appended at version ' + result.version); return loadEvents(); })
    .catch(function (error) { say(error.code + ': ' + error.message, true); });
}

var searchTimer = null;
document.addEventListener('DOMContentLoaded', function () {
  document.getElementById('search-form').addEventListener('submit', function (e) { e.preventDefault(); loadStreams(); });
  document.getElementById('search').addEventListener('input', function () { clearTimeout(searchTimer); searchTimer = setTimeout(loadStreams, 200); });
  document.getElementById('match').addEventListener('change', loadStreams);
  document.getElementById('tail-prefix').addEventListener('change', startTail);
  document.getElementById('append-form').addEventListener('submit', append);
  loadOverview().then(function () { return Promise.all([loadStreams(), loadSubscriptions()]); }).then(function () { document.body.dataset.ready = 'true'; }).catch(function (error) { say(error.code + ': ' + error.message, true); });
  startTail();
  setInterval(function () { loadOverview().catch(function () {}); loadSubscriptions().catch(function () {}); }, 5000);
});
`;
