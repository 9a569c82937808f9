/**
 * The status page's script, as the browser runs it: plain JavaScript in a string,
 * inlined into the page (no file to serve, nothing fetched but `status`). It is text
 * here because the project is compiled without the DOM's types; the headless-Chromium
 * tests (test/proxy/status-page.test.ts) are what check it.
 *
 * What it does: poll `status` (relative, so it works behind an SSH tunnel or a path
 * prefix) every 2 s (`?refresh=<seconds>` changes it, 0.1 to 60), one request at a
 * time; keep one grid cell per agent and only touch what changed, so 8,000 agents
 * cost a class and a label comparison each per poll; derive requests/s from the
 * monotonic `requests_total` (or the agents' `requests`) over the proxy's uptime;
 * keep the last grid on screen, greyed, when the proxy goes away, and keep trying.
 *
 * Every field of `/status` beyond the oldest subset (`agents`, `endpoints[]` with
 * `index`, `host`, `port`, `tags`, `in_flight`, `requests`, `errors`) is optional:
 * a missing `healthy` shows as "health unknown", missing latencies as "—".
 * Text from the proxy (hosts, tags, errors) only ever reaches the page as
 * `textContent`, never as markup.
 */
export const STATUS_PAGE_SCRIPT = String.raw`
'use strict';
(function () {
  var DEFAULT_REFRESH_MS = 2000;
  var REQUEST_TIMEOUT_MS = 10000;
  var RATE_POINTS = 90;
  var RECENT_ERROR_MS = 30000;
  var UNEXPECTED_ANSWER = 'unexpected answer from /status';

  var refreshSeconds = Number(new URLSearchParams(location.search).get('refresh'));
  var refreshMs = refreshSeconds >= 0.1 && refreshSeconds <= 60 ? refreshSeconds * 1000 : DEFAULT_REFRESH_MS;

  var byId = function (id) { return document.getElementById(id); };
  var grid = byId('grid');
  var details = byId('details');
  var connection = byId('connection');
  var connectionText = byId('connection-text');
  var updated = byId('updated');
  var empty = byId('empty');
  var totals = {
    agents: byId('total-agents'),
    healthy: byId('total-healthy'),
    healthySub: byId('total-healthy-sub'),
    inFlight: byId('total-in-flight'),
    queued: byId('total-queued'),
    queuedSub: byId('total-queued-sub'),
    rate: byId('total-rate'),
    requests: byId('total-requests'),
  };
  var sparkLine = byId('spark-line');
  var sparkArea = byId('spark-area');
  var sparkCaption = byId('spark-caption');

  var cells = [];          // { element, className, label, key, errors, errorAt }
  var endpoints = [];      // the last endpoints[] received
  var activeIndex = 0;     // the cell that holds tabindex=0
  var hoverIndex = -1;
  var focusIndex = -1;
  var shownIndex = -1;     // whose details are on screen
  var lastCount;           // { total, seconds } of the previous poll
  var rates = [];
  var pollTimer;
  var polling = false;
  var lastSuccessAt = 0;
  var cellSize = '';

  function isNumber(value) { return typeof value === 'number' && isFinite(value); }
  function count(value) { return isNumber(value) ? value : 0; }
  function grouped(value) { return Math.round(value).toLocaleString('en-US'); }
  function rateText(value) {
    if (!isNumber(value)) return '—';
    return value < 10 ? value.toFixed(1) : grouped(value);
  }
  function milliseconds(value) {
    if (!isNumber(value)) return '—';
    return value < 10 ? value.toFixed(1) + ' ms' : grouped(value) + ' ms';
  }
  function duration(seconds) {
    if (!isNumber(seconds)) return '—';
    var s = Math.floor(seconds);
    var d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
    if (d > 0) return d + 'd ' + h + 'h';
    if (h > 0) return h + 'h ' + m + 'm';
    if (m > 0) return m + 'm ' + (s % 60) + 's';
    return s + 's';
  }
  function clock(date) { return date.toLocaleTimeString('en-GB', { hour12: false }); }
  function timeOf(value) {
    // last_error_at: ISO text, or seconds / milliseconds since the epoch.
    var ms = isNumber(value) ? (value > 1e12 ? value : value * 1000) : Date.parse(String(value));
    if (!isFinite(ms)) return String(value);
    var ago = Math.max(0, Math.round((Date.now() - ms) / 1000));
    return clock(new Date(ms)) + ' (' + duration(ago) + ' ago)';
  }
  // With health checks off (health_checks: false) every agent says healthy: that is no news.
  var healthChecked = true;
  function healthOf(endpoint) {
    if (!healthChecked) return 'unknown';
    return endpoint.healthy === true ? 'up' : endpoint.healthy === false ? 'down' : 'unknown';
  }
  var HEALTH_TEXT = { up: 'healthy', down: 'unhealthy', unknown: 'health unknown' };
  function loadLevel(inFlight) {
    if (inFlight <= 0) return 0;
    if (inFlight === 1) return 1;
    if (inFlight <= 3) return 2;
    if (inFlight <= 7) return 3;
    return 4;
  }
  function sizeClass(agentCount) {
    if (agentCount <= 128) return 'size-l';
    if (agentCount <= 1024) return 'size-m';
    if (agentCount <= 3000) return 'size-s';
    return 'size-xs';
  }

  // ---- the grid: cells are created once and updated in place ----
  function ensureCells(length) {
    if (cells.length < length) {
      var fragment = document.createDocumentFragment();
      for (var index = cells.length; index < length; index++) {
        var element = document.createElement('div');
        element.className = 'cell';
        element.setAttribute('role', 'listitem');
        element.tabIndex = index === activeIndex ? 0 : -1;
        element.dataset.index = String(index);
        fragment.appendChild(element);
        cells.push({ element: element, className: 'cell', label: '', key: '', errors: 0, errorAt: -Infinity });
      }
      grid.appendChild(fragment);
    }
    while (cells.length > length) cells.pop().element.remove();
    if (activeIndex >= length && length > 0) setActive(length - 1, false);
    var size = sizeClass(length);
    if (size !== cellSize) {
      if (cellSize) grid.classList.remove(cellSize);
      grid.classList.add(size);
      cellSize = size;
    }
    empty.hidden = length > 0;
  }

  function updateCell(index, endpoint, now) {
    var cell = cells[index];
    var key = endpoint.host + ':' + endpoint.port;
    var errors = count(endpoint.errors);
    if (cell.key !== key) {
      // A new agent at this index (hot reload): its history is not the old one's.
      cell.key = key;
      cell.errors = errors;
      cell.errorAt = -Infinity;
    } else if (errors > cell.errors) {
      cell.errorAt = now;
    }
    cell.errors = errors;
    var health = healthOf(endpoint);
    var inFlight = count(endpoint.in_flight);
    var recentErrors = now - cell.errorAt < RECENT_ERROR_MS;
    var className = 'cell ' + health + ' load-' + loadLevel(inFlight) + (recentErrors ? ' errored' : '');
    if (className !== cell.className) {
      cell.className = className;
      cell.element.className = className;
    }
    var label = 'Agent ' + index + ', ' + key + ': ' + HEALTH_TEXT[health] + ', ' + inFlight + ' in flight' +
      (recentErrors ? ', recent errors' : '');
    if (label !== cell.label) {
      cell.label = label;
      cell.element.setAttribute('aria-label', label);
    }
  }

  function setActive(index, focus) {
    var previous = cells[activeIndex];
    if (previous) previous.element.tabIndex = -1;
    activeIndex = index;
    var cell = cells[index];
    if (!cell) return;
    cell.element.tabIndex = 0;
    if (focus) cell.element.focus();
  }

  function columns() {
    var template = getComputedStyle(grid).gridTemplateColumns;
    return Math.max(1, template ? template.split(' ').length : 1);
  }

  grid.addEventListener('keydown', function (event) {
    var index = activeIndex;
    var last = cells.length - 1;
    switch (event.key) {
      case 'ArrowRight': index = Math.min(last, index + 1); break;
      case 'ArrowLeft': index = Math.max(0, index - 1); break;
      case 'ArrowDown': index = Math.min(last, index + columns()); break;
      case 'ArrowUp': index = Math.max(0, index - columns()); break;
      case 'Home': index = 0; break;
      case 'End': index = last; break;
      case 'Escape': hideDetails(); return;
      default: return;
    }
    event.preventDefault();
    setActive(index, true);
  });
  function cellIndexOf(target) {
    var element = target && target.closest ? target.closest('.cell') : null;
    return element && element.parentNode === grid ? Number(element.dataset.index) : -1;
  }
  grid.addEventListener('mouseover', function (event) {
    var index = cellIndexOf(event.target);
    if (index >= 0 && index !== hoverIndex) { hoverIndex = index; showDetails(index); }
  });
  grid.addEventListener('mouseleave', function () {
    hoverIndex = -1;
    if (focusIndex >= 0) showDetails(focusIndex); else hideDetails();
  });
  grid.addEventListener('focusin', function (event) {
    var index = cellIndexOf(event.target);
    if (index < 0) return;
    focusIndex = index;
    if (index !== activeIndex) setActive(index, false);
    showDetails(index);
  });
  grid.addEventListener('focusout', function () {
    focusIndex = -1;
    if (hoverIndex >= 0) showDetails(hoverIndex); else hideDetails();
  });

  // ---- details of one agent, on hover or keyboard focus ----
  function row(list, name, value) {
    var term = document.createElement('dt');
    term.textContent = name;
    var description = document.createElement('dd');
    description.textContent = value;
    list.appendChild(term);
    list.appendChild(description);
    return description;
  }
  function percentiles(value) {
    if (!value || typeof value !== 'object') return '—';
    return milliseconds(value.p50) + ' / ' + milliseconds(value.p99);
  }
  function showDetails(index) {
    var endpoint = endpoints[index];
    var cell = cells[index];
    if (!endpoint || !cell) { hideDetails(); return; }
    shownIndex = index;
    var health = healthOf(endpoint);
    details.textContent = '';
    var title = document.createElement('p');
    title.className = 'details-title';
    var name = document.createElement('strong');
    name.textContent = 'Agent ' + index;
    var badge = document.createElement('span');
    badge.className = 'badge ' + health;
    badge.textContent = HEALTH_TEXT[health];
    title.appendChild(name);
    title.appendChild(badge);
    details.appendChild(title);
    var list = document.createElement('dl');
    row(list, 'address', endpoint.host + ':' + endpoint.port);
    var tags = endpoint.tags && typeof endpoint.tags === 'object' ? Object.keys(endpoint.tags) : [];
    row(list, 'tags', tags.length === 0 ? 'none' : tags.map(function (key) { return key + '=' + endpoint.tags[key]; }).join(', '));
    row(list, 'healthy', !healthChecked ? 'not checked' : endpoint.healthy === true ? 'yes' : endpoint.healthy === false ? 'no' : 'not reported');
    row(list, 'in flight', String(count(endpoint.in_flight)));
    row(list, 'requests', grouped(count(endpoint.requests)));
    row(list, 'errors', grouped(count(endpoint.errors)));
    if (isNumber(endpoint.client_aborts)) row(list, 'client aborts', grouped(endpoint.client_aborts));
    var lastError = row(list, 'last error', endpoint.last_error ? String(endpoint.last_error) : 'none');
    lastError.className = endpoint.last_error ? 'error-text' : '';
    if (endpoint.last_error && endpoint.last_error_at != null) row(list, 'last error at', timeOf(endpoint.last_error_at));
    row(list, 'latency p50 / p99', percentiles(endpoint.latency_ms));
    row(list, 'first byte p50 / p99', percentiles(endpoint.ttfb_ms));
    details.appendChild(list);
    details.hidden = false;
    place(cell.element);
  }
  function place(element) {
    var rect = element.getBoundingClientRect();
    var width = details.offsetWidth, height = details.offsetHeight;
    var left = rect.right + 10;
    if (left + width > innerWidth - 8) left = Math.max(8, rect.left - width - 10);
    var top = Math.min(Math.max(8, rect.top - 8), Math.max(8, innerHeight - height - 8));
    details.style.left = left + 'px';
    details.style.top = top + 'px';
  }
  function hideDetails() {
    shownIndex = -1;
    details.hidden = true;
  }

  // ---- totals and the request-rate sparkline ----
  function setText(element, text) { if (element.textContent !== text) element.textContent = text; }
  function renderTotals(status, now) {
    var list = endpoints;
    var inFlight = 0, requests = 0, healthy = 0, reported = 0;
    for (var index = 0; index < list.length; index++) {
      var endpoint = list[index];
      inFlight += count(endpoint.in_flight);
      requests += count(endpoint.requests);
      if (healthChecked && typeof endpoint.healthy === 'boolean') { reported++; if (endpoint.healthy) healthy++; }
    }
    var agents = isNumber(status.agents) ? status.agents : list.length;
    setText(totals.agents, grouped(agents));
    var healthyCount = !healthChecked ? null : isNumber(status.healthy_agents) ? status.healthy_agents : reported > 0 ? healthy : null;
    setText(totals.healthy, healthyCount === null ? '—' : grouped(healthyCount));
    setText(totals.healthySub, !healthChecked ? 'checks off' : healthyCount === null ? 'not reported' : agents - healthyCount > 0 ? grouped(agents - healthyCount) + ' unhealthy' : 'all healthy');
    totals.healthy.parentNode.classList.toggle('warn', healthyCount !== null && healthyCount < agents);
    setText(totals.inFlight, grouped(isNumber(status.in_flight) ? status.in_flight : inFlight));
    setText(totals.queued, isNumber(status.queued) ? grouped(status.queued) : '—');
    setText(totals.queuedSub, isNumber(status.connector_limit) ? 'limit ' + grouped(status.connector_limit) : '');
    totals.queued.parentNode.classList.toggle('warn', status.queued > 0);

    var total = isNumber(status.requests_total) ? status.requests_total : requests;
    var seconds = isNumber(status.uptime_seconds) ? status.uptime_seconds : now / 1000;
    var rate = null;
    if (lastCount && seconds > lastCount.seconds && total >= lastCount.total) {
      rate = (total - lastCount.total) / (seconds - lastCount.seconds);
    }
    lastCount = { total: total, seconds: seconds };
    setText(totals.requests, grouped(total) + ' in total');
    if (rate !== null) {
      setText(totals.rate, rateText(rate));
      rates.push(rate);
      if (rates.length > RATE_POINTS) rates.shift();
      drawSparkline();
    }
    setText(updated, 'updated ' + clock(new Date()) + ' · proxy up ' + duration(status.uptime_seconds) +
      (isNumber(status.timeout_seconds) ? ' · timeout ' + status.timeout_seconds + ' s' : '') +
      // With --workers each answer is one worker's counters (the connection's worker).
      (status.worker && isNumber(status.worker.count) ? ' · worker ' + status.worker.index + '/' + status.worker.count + ': its counters only' : ''));
    document.title = 'aurora-swarm · ' + (healthyCount === null ? grouped(agents) + ' agents' : grouped(healthyCount) + '/' + grouped(agents) + ' healthy');
  }
  function drawSparkline() {
    var width = 240, height = 48, top = 4;
    var peak = Math.max.apply(null, rates.concat([1]));
    var step = width / (RATE_POINTS - 1);
    var start = width - (rates.length - 1) * step;
    var points = rates.map(function (rate, index) {
      return (start + index * step).toFixed(1) + ',' + (height - (rate / peak) * (height - top)).toFixed(1);
    });
    sparkLine.setAttribute('points', points.join(' '));
    sparkArea.setAttribute('points', start.toFixed(1) + ',' + height + ' ' + points.join(' ') + ' ' + width + ',' + height);
    var minutes = Math.round((rates.length * refreshMs) / 6000) / 10;
    setText(sparkCaption, 'peak ' + rateText(Math.max.apply(null, rates)) + '/s · last ' + (minutes < 1 ? Math.round(rates.length * refreshMs / 1000) + ' s' : minutes + ' min'));
  }

  // ---- connection state and the poll loop ----
  function setConnection(state, text) {
    if (connection.dataset.state !== state) {
      connection.dataset.state = state;
      grid.classList.toggle('stale', state !== 'live');
    }
    setText(connectionText, text);
  }
  function render(status) {
    if (!status || typeof status !== 'object' || !Array.isArray(status.endpoints)) {
      throw new Error(UNEXPECTED_ANSWER);
    }
    var now = performance.now();
    healthChecked = status.health_checks !== false;
    endpoints = status.endpoints;
    ensureCells(endpoints.length);
    for (var index = 0; index < endpoints.length; index++) updateCell(index, endpoints[index] || {}, now);
    renderTotals(status, now);
    if (shownIndex >= 0) showDetails(shownIndex);
  }
  function failed(reason) {
    var since = lastSuccessAt ? ' · last update ' + clock(new Date(lastSuccessAt)) : '';
    setConnection('disconnected', 'disconnected (' + reason + ') — retrying every ' + refreshMs / 1000 + ' s' + since);
    if (!document.title.startsWith('(disconnected)')) document.title = '(disconnected) ' + document.title;
  }
  function schedule(delayMs) {
    clearTimeout(pollTimer);
    pollTimer = setTimeout(poll, delayMs);
  }
  function poll() {
    if (polling) return;
    polling = true;
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS);
    fetch('status', { cache: 'no-store', credentials: 'same-origin', headers: { accept: 'application/json' }, signal: controller.signal })
      .then(function (response) {
        if (response.status === 401) {
          setConnection('unauthorized', 'not authorized: open this page again as /?token=<token> (the proxy\'s --token)');
          return;
        }
        if (!response.ok) { failed('HTTP ' + response.status); return; }
        return response.json().catch(function () {
          throw new Error(UNEXPECTED_ANSWER);
        }).then(function (status) {
          render(status);
          lastSuccessAt = Date.now();
          setConnection('live', 'live · every ' + refreshMs / 1000 + ' s');
        });
      })
      .catch(function (error) {
        failed(error && error.name === 'AbortError' ? 'no answer in ' + REQUEST_TIMEOUT_MS / 1000 + ' s' : error && error.message === UNEXPECTED_ANSWER ? error.message : 'proxy unreachable');
      })
      .finally(function () {
        clearTimeout(timer);
        polling = false;
        schedule(refreshMs);
      });
  }
  document.addEventListener('visibilitychange', function () {
    // Background tabs get their timers throttled; catch up as soon as the tab is back.
    if (document.visibilityState === 'visible' && !polling) schedule(0);
  });
  poll();
})();
`;
