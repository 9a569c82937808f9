// @ts-check
/**
 * The status page's script, as the browser runs it: plain JavaScript, inlined into
 * the page by status-page.ts (no file to serve, nothing fetched but `status`).
 * Type-checked against the DOM's types by `npm run lint` (tsconfig.browser.json) and
 * run by the headless-Chromium tests (test/proxy/status-page/status-page.test.ts).
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
 *
 * Longer than the other files on purpose: the page is one inline script under one
 * CSP hash, with no module loader to split it by, and its types are JSDoc.
 */
// biome-ignore lint/suspicious/noRedundantUseStrict: a classic <script>, not a module.
'use strict';

/**
 * One agent of `/status` as the page reads it. Only the oldest fields are sure to be
 * there; the rest may be missing (an older proxy) and every value is checked before use.
 * @typedef {object} EndpointStatus
 * @property {string} [host]
 * @property {number} [port]
 * @property {Record<string, string>} [tags]
 * @property {boolean} [healthy]
 * @property {number} [in_flight]
 * @property {number} [requests]
 * @property {number} [errors]
 * @property {number} [client_aborts]
 * @property {string | null} [last_error]
 * @property {string | number | null} [last_error_at]
 * @property {{ p50?: number, p99?: number } | null} [latency_ms]
 * @property {{ p50?: number, p99?: number } | null} [ttfb_ms]
 */

/**
 * The `/status` body as the page reads it (see EndpointStatus).
 * @typedef {object} ProxyStatus
 * @property {EndpointStatus[]} endpoints
 * @property {number} [agents]
 * @property {number} [healthy_agents]
 * @property {number} [in_flight]
 * @property {number} [queued]
 * @property {number} [connector_limit]
 * @property {number} [requests_total]
 * @property {number} [uptime_seconds]
 * @property {number} [timeout_seconds]
 * @property {boolean} [health_checks]
 * @property {{ index?: number, count?: number }} [worker]
 */

/**
 * One cell of the grid and what it last showed.
 * @typedef {object} Cell
 * @property {HTMLElement} element
 * @property {string} className
 * @property {string} label
 * @property {string} key
 * @property {number} errors
 * @property {number} errorAt
 */

/** @typedef {'up' | 'down' | 'unknown'} Health */

(() => {
  const DEFAULT_REFRESH_MS = 2000;
  const REQUEST_TIMEOUT_MS = 10000;
  const RATE_POINTS = 90;
  const RECENT_ERROR_MS = 30000;
  const UNEXPECTED_ANSWER = 'unexpected answer from /status';

  const refreshSeconds = Number(new URLSearchParams(location.search).get('refresh'));
  const refreshMs =
    refreshSeconds >= 0.1 && refreshSeconds <= 60 ? refreshSeconds * 1000 : DEFAULT_REFRESH_MS;

  /**
   * An element the page's markup (status-page.ts) always has.
   * @param {string} id
   * @returns {HTMLElement}
   */
  const byId = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
  const grid = byId('grid');
  const details = byId('details');
  const connection = byId('connection');
  const connectionText = byId('connection-text');
  const updated = byId('updated');
  const empty = byId('empty');
  const totals = {
    agents: byId('total-agents'),
    healthy: byId('total-healthy'),
    healthySub: byId('total-healthy-sub'),
    inFlight: byId('total-in-flight'),
    queued: byId('total-queued'),
    queuedSub: byId('total-queued-sub'),
    rate: byId('total-rate'),
    requests: byId('total-requests'),
  };
  const sparkLine = byId('spark-line');
  const sparkArea = byId('spark-area');
  const sparkCaption = byId('spark-caption');

  /** @type {Cell[]} */
  const cells = [];
  /** @type {EndpointStatus[]} the last endpoints[] received */
  let endpoints = [];
  let activeIndex = 0; // the cell that holds tabindex=0
  let hoverIndex = -1;
  let focusIndex = -1;
  let shownIndex = -1; // whose details are on screen
  /** @type {{ total: number, seconds: number } | undefined} the previous poll's count */
  let lastCount;
  /** @type {number[]} */
  const rates = [];
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let pollTimer;
  let polling = false;
  let lastSuccessAt = 0;
  let cellSize = '';

  /**
   * @param {unknown} value
   * @returns {value is number}
   */
  function isNumber(value) {
    return typeof value === 'number' && Number.isFinite(value);
  }
  /** @param {unknown} value */
  function count(value) {
    return isNumber(value) ? value : 0;
  }
  /** @param {number} value */
  function grouped(value) {
    return Math.round(value).toLocaleString('en-US');
  }
  /** @param {unknown} value */
  function rateText(value) {
    if (!isNumber(value)) return '—';
    return value < 10 ? value.toFixed(1) : grouped(value);
  }
  /** @param {unknown} value */
  function milliseconds(value) {
    if (!isNumber(value)) return '—';
    return value < 10 ? `${value.toFixed(1)} ms` : `${grouped(value)} ms`;
  }
  /** @param {unknown} seconds */
  function duration(seconds) {
    if (!isNumber(seconds)) return '—';
    const s = Math.floor(seconds);
    const d = Math.floor(s / 86400),
      h = Math.floor(s / 3600) % 24,
      m = Math.floor(s / 60) % 60;
    if (d > 0) return `${d}d ${h}h`;
    if (h > 0) return `${h}h ${m}m`;
    if (m > 0) return `${m}m ${s % 60}s`;
    return `${s}s`;
  }
  /** @param {Date} date */
  function clock(date) {
    return date.toLocaleTimeString('en-GB', { hour12: false });
  }
  /** @param {unknown} value */
  function timeOf(value) {
    // last_error_at: ISO text, or seconds / milliseconds since the epoch.
    const ms = isNumber(value) ? (value > 1e12 ? value : value * 1000) : Date.parse(String(value));
    if (!Number.isFinite(ms)) return String(value);
    const ago = Math.max(0, Math.round((Date.now() - ms) / 1000));
    return `${clock(new Date(ms))} (${duration(ago)} ago)`;
  }
  // With health checks off (health_checks: false) every agent says healthy: that is no news.
  let healthChecked = true;
  /**
   * @param {EndpointStatus} endpoint
   * @returns {Health}
   */
  function healthOf(endpoint) {
    if (!healthChecked) return 'unknown';
    return endpoint.healthy === true ? 'up' : endpoint.healthy === false ? 'down' : 'unknown';
  }
  /** @type {Record<Health, string>} */
  const HEALTH_TEXT = { up: 'healthy', down: 'unhealthy', unknown: 'health unknown' };
  /** @param {number} inFlight */
  function loadLevel(inFlight) {
    if (inFlight <= 0) return 0;
    if (inFlight === 1) return 1;
    if (inFlight <= 3) return 2;
    if (inFlight <= 7) return 3;
    return 4;
  }
  /** @param {number} agentCount */
  function sizeClass(agentCount) {
    if (agentCount <= 128) return 'size-l';
    if (agentCount <= 1024) return 'size-m';
    if (agentCount <= 3000) return 'size-s';
    return 'size-xs';
  }

  // ---- the grid: cells are created once and updated in place ----
  /** @param {number} length */
  function ensureCells(length) {
    if (cells.length < length) {
      const fragment = document.createDocumentFragment();
      for (let index = cells.length; index < length; index++) {
        const element = document.createElement('div');
        element.className = 'cell';
        element.setAttribute('role', 'listitem');
        element.tabIndex = index === activeIndex ? 0 : -1;
        element.dataset.index = String(index);
        fragment.appendChild(element);
        cells.push({
          element: element,
          className: 'cell',
          label: '',
          key: '',
          errors: 0,
          errorAt: -Infinity,
        });
      }
      grid.appendChild(fragment);
    }
    while (cells.length > length) cells.pop()?.element.remove();
    if (activeIndex >= length && length > 0) setActive(length - 1, false);
    const size = sizeClass(length);
    if (size !== cellSize) {
      if (cellSize) grid.classList.remove(cellSize);
      grid.classList.add(size);
      cellSize = size;
    }
    empty.hidden = length > 0;
  }

  /**
   * @param {number} index
   * @param {EndpointStatus} endpoint
   * @param {number} now
   */
  function updateCell(index, endpoint, now) {
    const cell = /** @type {Cell} */ (cells[index]);
    const key = `${endpoint.host}:${endpoint.port}`;
    const errors = count(endpoint.errors);
    if (cell.key !== key) {
      // A new agent at this index (hot reload): its history is not the old one's.
      cell.key = key;
      cell.errors = errors;
      cell.errorAt = -Infinity;
    } else if (errors > cell.errors) {
      cell.errorAt = now;
    }
    cell.errors = errors;
    const health = healthOf(endpoint);
    const inFlight = count(endpoint.in_flight);
    const recentErrors = now - cell.errorAt < RECENT_ERROR_MS;
    const className = `cell ${health} load-${loadLevel(inFlight)}${recentErrors ? ' errored' : ''}`;
    if (className !== cell.className) {
      cell.className = className;
      cell.element.className = className;
    }
    const label =
      'Agent ' +
      index +
      ', ' +
      key +
      ': ' +
      HEALTH_TEXT[health] +
      ', ' +
      inFlight +
      ' in flight' +
      (recentErrors ? ', recent errors' : '');
    if (label !== cell.label) {
      cell.label = label;
      cell.element.setAttribute('aria-label', label);
    }
  }

  /**
   * @param {number} index
   * @param {boolean} focus
   */
  function setActive(index, focus) {
    const previous = cells[activeIndex];
    if (previous) previous.element.tabIndex = -1;
    activeIndex = index;
    const cell = cells[index];
    if (!cell) return;
    cell.element.tabIndex = 0;
    if (focus) cell.element.focus();
  }

  function columns() {
    const template = getComputedStyle(grid).gridTemplateColumns;
    return Math.max(1, template ? template.split(' ').length : 1);
  }

  grid.addEventListener('keydown', (event) => {
    let index = activeIndex;
    const last = cells.length - 1;
    switch (event.key) {
      case 'ArrowRight':
        index = Math.min(last, index + 1);
        break;
      case 'ArrowLeft':
        index = Math.max(0, index - 1);
        break;
      case 'ArrowDown':
        index = Math.min(last, index + columns());
        break;
      case 'ArrowUp':
        index = Math.max(0, index - columns());
        break;
      case 'Home':
        index = 0;
        break;
      case 'End':
        index = last;
        break;
      case 'Escape':
        hideDetails();
        return;
      default:
        return;
    }
    event.preventDefault();
    setActive(index, true);
  });
  /** @param {EventTarget | null} target */
  function cellIndexOf(target) {
    const element = target instanceof Element && target.closest ? target.closest('.cell') : null;
    return element instanceof HTMLElement && element.parentNode === grid
      ? Number(element.dataset.index)
      : -1;
  }
  grid.addEventListener('mouseover', (event) => {
    const index = cellIndexOf(event.target);
    if (index >= 0 && index !== hoverIndex) {
      hoverIndex = index;
      showDetails(index);
    }
  });
  grid.addEventListener('mouseleave', () => {
    hoverIndex = -1;
    if (focusIndex >= 0) showDetails(focusIndex);
    else hideDetails();
  });
  grid.addEventListener('focusin', (event) => {
    const index = cellIndexOf(event.target);
    if (index < 0) return;
    focusIndex = index;
    if (index !== activeIndex) setActive(index, false);
    showDetails(index);
  });
  grid.addEventListener('focusout', () => {
    focusIndex = -1;
    if (hoverIndex >= 0) showDetails(hoverIndex);
    else hideDetails();
  });

  // ---- details of one agent, on hover or keyboard focus ----
  /**
   * @param {HTMLElement} list
   * @param {string} name
   * @param {string} value
   */
  function row(list, name, value) {
    const term = document.createElement('dt');
    term.textContent = name;
    const description = document.createElement('dd');
    description.textContent = value;
    list.appendChild(term);
    list.appendChild(description);
    return description;
  }
  /** @param {{ p50?: number, p99?: number } | null | undefined} value */
  function percentiles(value) {
    if (!value || typeof value !== 'object') return '—';
    return `${milliseconds(value.p50)} / ${milliseconds(value.p99)}`;
  }
  /** @param {number} index */
  function showDetails(index) {
    const endpoint = endpoints[index];
    const cell = cells[index];
    if (!endpoint || !cell) {
      hideDetails();
      return;
    }
    shownIndex = index;
    const health = healthOf(endpoint);
    details.textContent = '';
    const title = document.createElement('p');
    title.className = 'details-title';
    const name = document.createElement('strong');
    name.textContent = `Agent ${index}`;
    const badge = document.createElement('span');
    badge.className = `badge ${health}`;
    badge.textContent = HEALTH_TEXT[health];
    title.appendChild(name);
    title.appendChild(badge);
    details.appendChild(title);
    const list = document.createElement('dl');
    row(list, 'address', `${endpoint.host}:${endpoint.port}`);
    const tagValues = endpoint.tags;
    const tags = tagValues && typeof tagValues === 'object' ? Object.keys(tagValues) : [];
    row(
      list,
      'tags',
      tags.length === 0
        ? 'none'
        : tags
            .map((key) => `${key}=${/** @type {Record<string, string>} */ (tagValues)[key]}`)
            .join(', '),
    );
    row(
      list,
      'healthy',
      !healthChecked
        ? 'not checked'
        : endpoint.healthy === true
          ? 'yes'
          : endpoint.healthy === false
            ? 'no'
            : 'not reported',
    );
    row(list, 'in flight', String(count(endpoint.in_flight)));
    row(list, 'requests', grouped(count(endpoint.requests)));
    row(list, 'errors', grouped(count(endpoint.errors)));
    if (isNumber(endpoint.client_aborts))
      row(list, 'client aborts', grouped(endpoint.client_aborts));
    const lastError = row(
      list,
      'last error',
      endpoint.last_error ? String(endpoint.last_error) : 'none',
    );
    lastError.className = endpoint.last_error ? 'error-text' : '';
    if (endpoint.last_error && endpoint.last_error_at != null)
      row(list, 'last error at', timeOf(endpoint.last_error_at));
    row(list, 'latency p50 / p99', percentiles(endpoint.latency_ms));
    row(list, 'first byte p50 / p99', percentiles(endpoint.ttfb_ms));
    details.appendChild(list);
    details.hidden = false;
    place(cell.element);
  }
  /** @param {HTMLElement} element */
  function place(element) {
    const rect = element.getBoundingClientRect();
    const width = details.offsetWidth,
      height = details.offsetHeight;
    let left = rect.right + 10;
    if (left + width > innerWidth - 8) left = Math.max(8, rect.left - width - 10);
    const top = Math.min(Math.max(8, rect.top - 8), Math.max(8, innerHeight - height - 8));
    details.style.left = `${left}px`;
    details.style.top = `${top}px`;
  }
  function hideDetails() {
    shownIndex = -1;
    details.hidden = true;
  }

  // ---- totals and the request-rate sparkline ----
  /**
   * @param {HTMLElement} element
   * @param {string} text
   */
  function setText(element, text) {
    if (element.textContent !== text) element.textContent = text;
  }
  /**
   * @param {ProxyStatus} status
   * @param {number} now
   */
  function renderTotals(status, now) {
    const list = endpoints;
    let inFlight = 0,
      requests = 0,
      healthy = 0,
      reported = 0;
    for (let index = 0; index < list.length; index++) {
      const endpoint = /** @type {EndpointStatus} */ (list[index]);
      inFlight += count(endpoint.in_flight);
      requests += count(endpoint.requests);
      if (healthChecked && typeof endpoint.healthy === 'boolean') {
        reported++;
        if (endpoint.healthy) healthy++;
      }
    }
    const agents = isNumber(status.agents) ? status.agents : list.length;
    setText(totals.agents, grouped(agents));
    const healthyCount = !healthChecked
      ? null
      : isNumber(status.healthy_agents)
        ? status.healthy_agents
        : reported > 0
          ? healthy
          : null;
    setText(totals.healthy, healthyCount === null ? '—' : grouped(healthyCount));
    setText(
      totals.healthySub,
      !healthChecked
        ? 'checks off'
        : healthyCount === null
          ? 'not reported'
          : agents - healthyCount > 0
            ? `${grouped(agents - healthyCount)} unhealthy`
            : 'all healthy',
    );
    /** @type {HTMLElement} */ (totals.healthy.parentNode).classList.toggle(
      'warn',
      healthyCount !== null && healthyCount < agents,
    );
    setText(totals.inFlight, grouped(isNumber(status.in_flight) ? status.in_flight : inFlight));
    setText(totals.queued, isNumber(status.queued) ? grouped(status.queued) : '—');
    setText(
      totals.queuedSub,
      isNumber(status.connector_limit) ? `limit ${grouped(status.connector_limit)}` : '',
    );
    /** @type {HTMLElement} */ (totals.queued.parentNode).classList.toggle(
      'warn',
      Number(status.queued) > 0,
    );

    const total = isNumber(status.requests_total) ? status.requests_total : requests;
    const seconds = isNumber(status.uptime_seconds) ? status.uptime_seconds : now / 1000;
    let rate = null;
    if (lastCount && seconds > lastCount.seconds && total >= lastCount.total) {
      rate = (total - lastCount.total) / (seconds - lastCount.seconds);
    }
    lastCount = { total: total, seconds: seconds };
    setText(totals.requests, `${grouped(total)} in total`);
    if (rate !== null) {
      setText(totals.rate, rateText(rate));
      rates.push(rate);
      if (rates.length > RATE_POINTS) rates.shift();
      drawSparkline();
    }
    setText(
      updated,
      'updated ' +
        clock(new Date()) +
        ' · proxy up ' +
        duration(status.uptime_seconds) +
        (isNumber(status.timeout_seconds) ? ` · timeout ${status.timeout_seconds} s` : '') +
        // With --workers each answer is one worker's counters (the connection's worker).
        (status.worker && isNumber(status.worker.count)
          ? ` · worker ${status.worker.index}/${status.worker.count}: its counters only`
          : ''),
    );
    document.title = `aurora-swarm · ${healthyCount === null ? `${grouped(agents)} agents` : `${grouped(healthyCount)}/${grouped(agents)} healthy`}`;
  }
  function drawSparkline() {
    const width = 240,
      height = 48,
      top = 4;
    const peak = Math.max.apply(null, rates.concat([1]));
    const step = width / (RATE_POINTS - 1);
    const start = width - (rates.length - 1) * step;
    const points = rates.map(
      (rate, index) =>
        `${(start + index * step).toFixed(1)},${(height - (rate / peak) * (height - top)).toFixed(1)}`,
    );
    sparkLine.setAttribute('points', points.join(' '));
    sparkArea.setAttribute(
      'points',
      `${start.toFixed(1)},${height} ${points.join(' ')} ${width},${height}`,
    );
    const minutes = Math.round((rates.length * refreshMs) / 6000) / 10;
    setText(
      sparkCaption,
      `peak ${rateText(Math.max.apply(null, rates))}/s · last ${minutes < 1 ? `${Math.round((rates.length * refreshMs) / 1000)} s` : `${minutes} min`}`,
    );
  }

  // ---- connection state and the poll loop ----
  /**
   * @param {string} state
   * @param {string} text
   */
  function setConnection(state, text) {
    if (connection.dataset.state !== state) {
      connection.dataset.state = state;
      grid.classList.toggle('stale', state !== 'live');
    }
    setText(connectionText, text);
  }
  /** @param {unknown} value the parsed `/status` body */
  function render(value) {
    const status = /** @type {ProxyStatus} */ (value);
    if (!status || typeof status !== 'object' || !Array.isArray(status.endpoints)) {
      throw new Error(UNEXPECTED_ANSWER);
    }
    const now = performance.now();
    healthChecked = status.health_checks !== false;
    endpoints = status.endpoints;
    ensureCells(endpoints.length);
    for (let index = 0; index < endpoints.length; index++)
      updateCell(index, endpoints[index] || {}, now);
    renderTotals(status, now);
    if (shownIndex >= 0) showDetails(shownIndex);
  }
  /** @param {string} reason */
  function failed(reason) {
    const since = lastSuccessAt ? ` · last update ${clock(new Date(lastSuccessAt))}` : '';
    setConnection(
      'disconnected',
      `disconnected (${reason}) — retrying every ${refreshMs / 1000} s${since}`,
    );
    if (!document.title.startsWith('(disconnected)'))
      document.title = `(disconnected) ${document.title}`;
  }
  /** @param {number} delayMs */
  function schedule(delayMs) {
    clearTimeout(pollTimer);
    pollTimer = setTimeout(poll, delayMs);
  }
  function poll() {
    if (polling) return;
    polling = true;
    const controller = new AbortController();
    const timer = setTimeout(() => {
      controller.abort();
    }, REQUEST_TIMEOUT_MS);
    fetch('status', {
      cache: 'no-store',
      credentials: 'same-origin',
      headers: { accept: 'application/json' },
      signal: controller.signal,
    })
      .then((response) => {
        if (response.status === 401) {
          setConnection(
            'unauthorized',
            "not authorized: open this page again as /?token=<token> (the proxy's --token)",
          );
          return;
        }
        if (!response.ok) {
          failed(`HTTP ${response.status}`);
          return;
        }
        return response
          .json()
          .catch(() => {
            throw new Error(UNEXPECTED_ANSWER);
          })
          .then((status) => {
            render(status);
            lastSuccessAt = Date.now();
            setConnection('live', `live · every ${refreshMs / 1000} s`);
          });
      })
      .catch((error) => {
        failed(
          error && error.name === 'AbortError'
            ? `no answer in ${REQUEST_TIMEOUT_MS / 1000} s`
            : error && error.message === UNEXPECTED_ANSWER
              ? error.message
              : 'proxy unreachable',
        );
      })
      .finally(() => {
        clearTimeout(timer);
        polling = false;
        schedule(refreshMs);
      });
  }
  document.addEventListener('visibilitychange', () => {
    // Background tabs get their timers throttled; catch up as soon as the tab is back.
    if (document.visibilityState === 'visible' && !polling) schedule(0);
  });
  poll();
})();
