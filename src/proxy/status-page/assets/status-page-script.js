// @ts-check
/**
 * The status page's script, as the browser runs it: plain JavaScript, inlined into
 * the page by status-page.ts (no file to serve, nothing fetched but `status`).
 * Type-checked against the DOM's types by `npm run lint` (tsconfig.browser.json) and
 * run by the headless-Chromium tests (test/proxy/status-page/status-page*.test.ts).
 *
 * What it does: poll `status?view=compact` (relative, so it works behind an SSH
 * tunnel or a path prefix, and stays same-origin) every 2 s (`?refresh=<seconds>`
 * changes it, 0.1 to 60), one request at a time, passing back the `version` of the
 * last answer as `since` so that each answer holds only the agents whose row changed
 * (proxy/status-page/compact-status.ts), and `agent=<index>` for the agent whose
 * details are on screen. One grid cell per agent, created once and touched only when
 * its row changed; a list of the unhealthy agents with their last error; totals and a
 * request-rate sparkline from the monotonic `requests_total` over the uptime. When
 * the proxy goes away the last picture stays, greyed, without claiming anything
 * about now (no "all healthy", no uptime), and the page keeps trying.
 *
 * A proxy that answers the full `/status` instead (one that predates the compact
 * form) is read too. Every value is checked before use: an odd or missing field
 * degrades to "—" or "health unknown", never to "proxy unreachable". Text from the
 * proxy (hosts, tags, errors) only ever reaches the page as `textContent`.
 *
 * Longer than the other files on purpose: the page is one inline script under one
 * CSP hash, with no module loader to split it by, and its types are JSDoc.
 */
// biome-ignore lint/suspicious/noRedundantUseStrict: a classic <script>, not a module.
'use strict';

/**
 * One agent's entry of the full `/status` (also `detail` of the compact form). Every
 * field may be missing or odd: each is checked before use.
 * @typedef {object} EndpointStatus
 * @property {number} [index]
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
 * The totals of `/status`, both forms (see EndpointStatus for how they are read).
 * @typedef {object} StatusTotals
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
 * What the page knows of one agent.
 * @typedef {object} Agent
 * @property {string} host
 * @property {string} port
 * @property {Record<string, string> | null} tags
 * @property {boolean | undefined} healthy undefined: not reported
 * @property {number} inFlight
 * @property {number} errors
 * @property {string | null} lastError
 * @property {EndpointStatus | undefined} entry the full entry, when the proxy sent one
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
  // Hovering starts a poll for the agent's details after this pause (mouse sweeps).
  const DETAIL_DELAY_MS = 60;
  // The unhealthy list shows this many; /status has the rest.
  const MAX_LISTED = 200;
  // Row labels of the ruler at least this far apart, in pixels.
  const RULER_SPACING_PX = 12;
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
  const gridWrap = byId('grid-wrap');
  const gridCaption = byId('grid-caption');
  const ruler = byId('ruler');
  const details = byId('details');
  const connection = byId('connection');
  const connectionText = byId('connection-text');
  const updated = byId('updated');
  const empty = byId('empty');
  const totals = {
    agents: byId('total-agents'),
    healthy: byId('total-healthy'),
    healthyCard: byId('total-healthy-card'),
    healthySub: byId('total-healthy-sub'),
    inFlight: byId('total-in-flight'),
    queued: byId('total-queued'),
    queuedCard: byId('total-queued-card'),
    queuedSub: byId('total-queued-sub'),
    rate: byId('total-rate'),
    requests: byId('total-requests'),
  };
  const unhealthyCount = byId('unhealthy-count');
  const unhealthyNote = byId('unhealthy-note');
  const unhealthyList = byId('unhealthy-list');
  const sparkLine = byId('spark-line');
  const sparkArea = byId('spark-area');
  const sparkCaption = byId('spark-caption');

  /** @type {Agent[]} */
  let agents = [];
  /** @type {StatusTotals | undefined} the last totals received */
  let lastTotals;
  /** @type {string | undefined} the last compact answer's version, sent back as `since` */
  let version;
  /** @type {EndpointStatus | undefined} the full entry of the agent asked for with `agent=` */
  let detail;
  /** @type {Cell[]} */
  const cells = [];
  /** @type {Set<number>} cells showing the recent-errors corner, re-checked every poll */
  const errorCorners = new Set();
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
  let sizeClassName = '';
  let columnCount = 0;
  let unhealthyDirty = true;
  // With health checks off (health_checks: false) every agent says healthy: that is no news.
  let healthChecked = true;

  // ---- values from the proxy, checked ----
  /**
   * @param {unknown} value
   * @returns {value is number}
   */
  function isNumber(value) {
    return typeof value === 'number' && Number.isFinite(value);
  }
  /** @param {unknown} value */
  function count(value) {
    return isNumber(value) && value > 0 ? value : 0;
  }
  /**
   * @param {unknown} value
   * @returns {value is Record<string, unknown>}
   */
  function isObject(value) {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  }
  /** @param {unknown} value */
  function textOf(value) {
    return typeof value === 'string' ? value : isNumber(value) ? String(value) : '?';
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

  // ---- the model: what the page knows of each agent, from either form of /status ----
  /**
   * An agent as listed: `hosts` of a full compact answer, or (`isEntry`) an entry of
   * the full form's `endpoints`.
   * @param {unknown} value
   * @param {boolean} isEntry
   * @returns {Agent}
   */
  function agentOf(value, isEntry) {
    const entry = isObject(value) ? value : {};
    return {
      host: textOf(entry.host),
      port: textOf(entry.port),
      tags: isObject(entry.tags) ? /** @type {Record<string, string>} */ (entry.tags) : null,
      healthy: typeof entry.healthy === 'boolean' ? entry.healthy : undefined,
      inFlight: count(entry.in_flight),
      errors: count(entry.errors),
      lastError: typeof entry.last_error === 'string' ? entry.last_error : null,
      entry: isEntry && isObject(value) ? /** @type {EndpointStatus} */ (value) : undefined,
    };
  }
  /**
   * Apply one row of a compact answer; returns its index, or -1 for a row to ignore.
   * @param {unknown} row [index, healthy, in_flight, errors, last_error?]
   */
  function applyRow(row) {
    if (!Array.isArray(row)) return -1;
    const index = row[0];
    if (!Number.isInteger(index) || index < 0 || index >= agents.length) return -1;
    const agent = /** @type {Agent} */ (agents[index]);
    agent.healthy = row[1] === 1 ? true : row[1] === 0 ? false : undefined;
    agent.inFlight = count(row[2]);
    agent.errors = count(row[3]);
    agent.lastError = typeof row[4] === 'string' ? row[4] : null;
    return index;
  }
  /**
   * Take in a parsed answer of either form.
   * @param {unknown} body
   * @returns {{ totals: StatusTotals, changed: number[] | null }} changed: null for all
   */
  function applyAnswer(body) {
    if (!isObject(body)) throw new Error(UNEXPECTED_ANSWER);
    const totals = /** @type {StatusTotals} */ (body);
    if (body.view === 'compact' && Array.isArray(body.rows)) {
      let changed = /** @type {number[] | null} */ ([]);
      if (body.full === true) {
        if (!Array.isArray(body.hosts)) throw new Error(UNEXPECTED_ANSWER);
        agents = body.hosts.map((host) => agentOf(host, false));
        changed = null;
      }
      for (const row of body.rows) {
        const index = applyRow(row);
        if (index >= 0) changed?.push(index);
      }
      version = typeof body.version === 'string' ? body.version : undefined;
      // Rows merged into a list of another length would be wrong: ask for a full answer.
      if (isNumber(body.agents) && body.agents !== agents.length) version = undefined;
      detail = isObject(body.detail) ? /** @type {EndpointStatus} */ (body.detail) : undefined;
      return { totals, changed };
    }
    if (Array.isArray(body.endpoints)) {
      agents = body.endpoints.map((entry) => agentOf(entry, true));
      version = undefined;
      detail = undefined;
      return { totals, changed: null };
    }
    throw new Error(UNEXPECTED_ANSWER);
  }
  /**
   * The full entry of agent `index` if the last answer had one.
   * @param {number} index
   */
  function entryOf(index) {
    const entry = agents[index]?.entry;
    if (entry) return entry;
    return detail && detail.index === index ? detail : undefined;
  }
  /** @param {Agent} agent @returns {Health} */
  function healthOf(agent) {
    if (!healthChecked || agent.healthy === undefined) return 'unknown';
    return agent.healthy ? 'up' : 'down';
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
    if (agentCount <= 256) return 'size-l';
    if (agentCount <= 1024) return 'size-m';
    if (agentCount <= 3000) return 'size-s';
    return 'size-xs';
  }

  // ---- the grid: cells are created once and updated in place ----
  /** @param {number} length */
  function ensureCells(length) {
    empty.hidden = length > 0;
    if (cells.length === length) return;
    // Size and ruler first, while the grid's layout is clean: the width read after
    // the new squares are in would cost a layout of all of them, and another after
    // their classes are set.
    const size = sizeClass(length);
    if (size !== sizeClassName) {
      if (sizeClassName) gridWrap.classList.remove(sizeClassName);
      gridWrap.classList.add(size);
      sizeClassName = size;
    }
    columnCount = 0;
    layoutRuler(length);
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
    while (cells.length > length) {
      cells.pop()?.element.remove();
      errorCorners.delete(cells.length);
    }
    if (activeIndex >= length && length > 0) setActive(length - 1, false);
  }

  /**
   * @param {number} index
   * @param {number} now
   */
  function updateCell(index, now) {
    const cell = cells[index];
    const agent = agents[index];
    if (!cell || !agent) return;
    const key = `${agent.host}:${agent.port}`;
    if (cell.key !== key) {
      // A new agent at this index (hot reload): its history is not the old one's.
      cell.key = key;
      cell.errors = agent.errors;
      cell.errorAt = -Infinity;
    } else if (agent.errors > cell.errors) {
      cell.errorAt = now;
    }
    cell.errors = agent.errors;
    const health = healthOf(agent);
    const recentErrors = now - cell.errorAt < RECENT_ERROR_MS;
    if (recentErrors) errorCorners.add(index);
    else errorCorners.delete(index);
    const className = `cell ${health} load-${loadLevel(agent.inFlight)}${recentErrors ? ' errored' : ''}`;
    if (className !== cell.className) {
      cell.className = className;
      cell.element.className = className;
    }
    const label =
      `Agent ${index}, ${key}: ${HEALTH_TEXT[health]}, ${agent.inFlight} in flight` +
      (recentErrors ? ', recent errors' : '');
    if (label !== cell.label) {
      cell.label = label;
      cell.element.setAttribute('aria-label', label);
    }
  }

  /**
   * @param {number[] | null} changed the rows that changed, null for all
   * @param {number} now
   */
  function updateCells(changed, now) {
    if (changed === null) {
      for (let index = 0; index < agents.length; index++) updateCell(index, now);
      return;
    }
    for (const index of changed) updateCell(index, now);
    // Corners fade after RECENT_ERROR_MS even when the row does not change.
    for (const index of Array.from(errorCorners)) updateCell(index, now);
  }

  // Small swarms have each square numbered (CSS, from data-index); larger ones get a
  // fixed number of columns, a round one, and a ruler with the first index of each row.
  // The ruler depends on the count and the width only (see the ResizeObserver).
  /** @param {number} length the number of squares (about to be) on the grid */
  function layoutRuler(length) {
    const ruled = sizeClassName !== 'size-l' && length > 0;
    gridWrap.classList.toggle('ruled', ruled);
    if (!ruled) {
      ruler.textContent = '';
      columnCount = 0;
      setText(
        gridCaption,
        length > 0
          ? `${grouped(length)} agents in hostfile order, numbered from 0 · hover or focus one for its host and details`
          : '',
      );
      return;
    }
    const style = getComputedStyle(gridWrap);
    const pitch =
      (parseFloat(style.getPropertyValue('--cell')) || 8) +
      (parseFloat(style.getPropertyValue('--gap')) || 1);
    const room = gridWrap.clientWidth - ruler.offsetWidth - 8;
    const fit = Math.max(1, Math.floor(room / pitch));
    const columns = fit >= 20 ? fit - (fit % 10) : fit;
    const rows = Math.ceil(length / columns);
    if (columns === columnCount && ruler.childElementCount === rows) return;
    columnCount = columns;
    gridWrap.style.setProperty('--columns', String(columns));
    const every = Math.max(1, Math.ceil(RULER_SPACING_PX / pitch));
    const fragment = document.createDocumentFragment();
    for (let row = 0; row < rows; row++) {
      const label = document.createElement('span');
      if (row % every === 0) label.textContent = String(row * columns);
      fragment.appendChild(label);
    }
    ruler.textContent = '';
    ruler.appendChild(fragment);
    setText(
      gridCaption,
      `${grouped(length)} agents in hostfile order, ${columns} a row · the number left of a row is the index of its first square · hover or focus one for its host and details`,
    );
  }
  if (typeof ResizeObserver === 'function') {
    new ResizeObserver(() => layoutRuler(cells.length)).observe(gridWrap);
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
  /** @param {unknown} value */
  function percentiles(value) {
    if (!isObject(value)) return '—';
    return `${milliseconds(value.p50)} / ${milliseconds(value.p99)}`;
  }
  /** @param {number} index */
  function showDetails(index) {
    const agent = agents[index];
    const cell = cells[index];
    if (!agent || !cell) {
      hideDetails();
      return;
    }
    if (shownIndex !== index && version !== undefined) {
      // Ask the proxy for this agent's full entry soon (the poll carries agent=).
      if (!polling) schedule(DETAIL_DELAY_MS);
    }
    shownIndex = index;
    const entry = entryOf(index);
    const health = healthOf(agent);
    // While the full entry is on its way: what the rows say, and "…" for the rest.
    const pending = entry ? undefined : '…';
    details.textContent = '';
    const title = document.createElement('p');
    title.className = 'details-title';
    const name = document.createElement('strong');
    name.textContent = `Agent ${index}`;
    const host = document.createElement('span');
    host.className = 'details-host';
    host.textContent = `${agent.host}:${agent.port}`;
    const badge = document.createElement('span');
    badge.className = `badge ${health}`;
    badge.textContent = HEALTH_TEXT[health];
    title.append(name, host, badge);
    details.appendChild(title);
    const list = document.createElement('dl');
    const tags = agent.tags ? Object.keys(agent.tags) : [];
    row(
      list,
      'tags',
      tags.length === 0
        ? 'none'
        : tags.map((key) => `${key}=${textOf(agent.tags?.[key])}`).join(', '),
    );
    row(
      list,
      'healthy',
      !healthChecked
        ? 'not checked'
        : agent.healthy === undefined
          ? 'not reported'
          : agent.healthy
            ? 'yes'
            : 'no',
    );
    row(list, 'in flight', String(entry ? count(entry.in_flight) : agent.inFlight));
    row(list, 'requests', pending ?? grouped(count(entry?.requests)));
    row(list, 'errors', grouped(entry ? count(entry.errors) : agent.errors));
    if (pending || isNumber(entry?.client_aborts))
      row(list, 'client aborts', pending ?? grouped(count(entry?.client_aborts)));
    const lastErrorText = entry
      ? typeof entry.last_error === 'string'
        ? entry.last_error
        : null
      : agent.lastError;
    const lastError = row(
      list,
      'last error',
      lastErrorText ?? (entry || agent.healthy === false ? 'none' : '…'),
    );
    lastError.className = lastErrorText ? 'error-text' : '';
    if (lastErrorText && entry && entry.last_error_at != null)
      row(list, 'last error at', timeOf(entry.last_error_at));
    row(list, 'latency p50 / p99', pending ?? percentiles(entry?.latency_ms));
    row(list, 'first byte p50 / p99', pending ?? percentiles(entry?.ttfb_ms));
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

  // ---- the unhealthy agents, always on screen ----
  function renderUnhealthy() {
    if (!unhealthyDirty) return;
    unhealthyDirty = false;
    /** @type {number[]} */
    const down = [];
    let reported = 0;
    for (let index = 0; index < agents.length; index++) {
      const healthy = /** @type {Agent} */ (agents[index]).healthy;
      if (healthy !== undefined) reported++;
      if (healthy === false) down.push(index);
    }
    const known = healthChecked && reported > 0;
    setText(unhealthyCount, known ? grouped(down.length) : '');
    const section = /** @type {HTMLElement} */ (unhealthyList.parentNode);
    section.classList.toggle('warn', known && down.length > 0);
    setText(
      unhealthyNote,
      !healthChecked
        ? 'Health checks are off (--health-interval 0): the proxy cannot tell which agents are down.'
        : !known
          ? 'This proxy does not report health.'
          : down.length === 0
            ? reported === agents.length
              ? `None: all ${grouped(agents.length)} agents are healthy.`
              : `None reported; ${grouped(agents.length - reported)} agents do not report their health.`
            : down.length > MAX_LISTED
              ? `The first ${MAX_LISTED} by index; /status lists all ${grouped(down.length)}.`
              : '',
    );
    const fragment = document.createDocumentFragment();
    for (const index of known ? down.slice(0, MAX_LISTED) : []) {
      const agent = /** @type {Agent} */ (agents[index]);
      const item = document.createElement('li');
      const link = document.createElement('button');
      link.type = 'button';
      link.className = 'agent-link';
      link.dataset.index = String(index);
      link.textContent = `Agent ${index}`;
      const host = document.createElement('span');
      host.className = 'host';
      host.textContent = `${agent.host}:${agent.port}`;
      const error = document.createElement('span');
      error.className = 'error-text';
      error.textContent = agent.lastError ?? 'no error recorded';
      item.append(link, host, error);
      fragment.appendChild(item);
    }
    unhealthyList.textContent = '';
    unhealthyList.appendChild(fragment);
  }
  unhealthyList.addEventListener('click', (event) => {
    const target = event.target;
    if (!(target instanceof HTMLElement) || !target.classList.contains('agent-link')) return;
    const index = Number(target.dataset.index);
    const cell = cells[index];
    if (!cell) return;
    setActive(index, true);
    cell.element.scrollIntoView({ block: 'nearest' });
  });

  // ---- totals and the request-rate sparkline ----
  /**
   * @param {HTMLElement} element
   * @param {string} text
   */
  function setText(element, text) {
    if (element.textContent !== text) element.textContent = text;
  }
  /**
   * @param {StatusTotals} status
   * @param {number} now
   */
  function renderTotals(status, now) {
    let requests = 0,
      healthy = 0,
      reported = 0;
    for (let index = 0; index < agents.length; index++) {
      const agent = /** @type {Agent} */ (agents[index]);
      requests += count(agent.entry?.requests);
      if (healthChecked && agent.healthy !== undefined) {
        reported++;
        if (agent.healthy) healthy++;
      }
    }
    const agentCount = isNumber(status.agents) ? status.agents : agents.length;
    setText(totals.agents, grouped(agentCount));
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
          : agentCount - healthyCount > 0
            ? `${grouped(agentCount - healthyCount)} unhealthy`
            : 'all healthy',
    );
    totals.healthyCard.classList.toggle('warn', healthyCount !== null && healthyCount < agentCount);
    setText(totals.inFlight, isNumber(status.in_flight) ? grouped(status.in_flight) : '—');
    setText(totals.queued, isNumber(status.queued) ? grouped(status.queued) : '—');
    setText(
      totals.queuedSub,
      isNumber(status.connector_limit) ? `limit ${grouped(status.connector_limit)}` : '',
    );
    totals.queuedCard.classList.toggle('warn', Number(status.queued) > 0);

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
    document.title = `aurora-swarm · ${healthyCount === null ? `${grouped(agentCount)} agents` : `${grouped(healthyCount)}/${grouped(agentCount)} healthy`}`;
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
      // Greys every card, the list and the grid (the stylesheet).
      document.body.dataset.connection = state;
    }
    setText(connectionText, text);
  }
  /** @param {unknown} body the parsed answer */
  function render(body) {
    const { totals: status, changed } = applyAnswer(body);
    const now = performance.now();
    const checked = status.health_checks !== false;
    // Health checks turned on or off changes every cell's look.
    const flipped = checked !== healthChecked;
    healthChecked = checked;
    if (flipped || changed === null || changed.length > 0) unhealthyDirty = true;
    lastTotals = status;
    ensureCells(agents.length);
    updateCells(flipped ? null : changed, now);
    renderTotals(status, now);
    renderUnhealthy();
    if (shownIndex >= 0) showDetails(shownIndex);
  }
  /**
   * Nothing on screen is about now any more: say since when, claim nothing else.
   * @param {string} state
   * @param {string} text
   */
  function notLive(state, text) {
    setConnection(state, text);
    const since = lastSuccessAt ? clock(new Date(lastSuccessAt)) : '';
    setText(updated, since ? `last answer ${since} · the proxy is not answering now` : '');
    if (lastTotals) {
      setText(totals.healthySub, `as of ${since}`);
      setText(totals.rate, '—');
    }
    if (agents.length > 0) {
      setText(unhealthyNote, `As of ${since}; the proxy is not answering now.`);
      unhealthyDirty = true;
    }
    document.title =
      state === 'unauthorized' ? 'aurora-swarm · not authorized' : '(disconnected) aurora-swarm';
    // The rate is computed again from the next two answers.
    lastCount = undefined;
  }
  /** @param {string} reason */
  function failed(reason) {
    const since = lastSuccessAt ? ` · last update ${clock(new Date(lastSuccessAt))}` : '';
    notLive(
      'disconnected',
      `disconnected (${reason}) — retrying every ${refreshMs / 1000} s${since}`,
    );
  }
  /** @param {number} delayMs */
  function schedule(delayMs) {
    clearTimeout(pollTimer);
    pollTimer = setTimeout(poll, delayMs);
  }
  function statusUrl() {
    let url = 'status?view=compact';
    if (version !== undefined) url += `&since=${encodeURIComponent(version)}`;
    if (shownIndex >= 0) url += `&agent=${shownIndex}`;
    return url;
  }
  /**
   * What went wrong with an answer that is not 2xx, in words.
   * @param {Response} response
   */
  function describeFailure(response) {
    return response
      .json()
      .then((body) => (isObject(body) && typeof body.error === 'string' ? `: ${body.error}` : ''))
      .catch(() => '')
      .then((message) => `HTTP ${response.status}${message}`);
  }
  /**
   * @param {Response} response
   * @returns {Promise<void>}
   */
  function take(response) {
    if (response.status === 401) {
      notLive(
        'unauthorized',
        "not authorized: open this page again as /?token=<token> (the proxy's --token)",
      );
      return Promise.resolve();
    }
    if (!response.ok) return describeFailure(response).then(failed);
    // A body cut short rejects here and counts as unreachable (the catch in poll);
    // a body that is there but not what the page expects is said so.
    return response.text().then((text) => {
      try {
        render(JSON.parse(text));
      } catch (error) {
        // An answer the page cannot read is not an unreachable proxy.
        const known =
          error instanceof SyntaxError ||
          (error instanceof Error && error.message === UNEXPECTED_ANSWER);
        failed(known ? UNEXPECTED_ANSWER : `${UNEXPECTED_ANSWER}: ${String(error)}`);
        return;
      }
      lastSuccessAt = Date.now();
      setConnection('live', `live · every ${refreshMs / 1000} s`);
    });
  }
  /** @param {unknown} error a failed fetch or body read */
  function unreachable(error) {
    failed(
      error instanceof Error && error.name === 'AbortError'
        ? `no answer in ${REQUEST_TIMEOUT_MS / 1000} s`
        : 'proxy unreachable',
    );
  }
  function poll() {
    if (polling) return;
    polling = true;
    const controller = new AbortController();
    const timer = setTimeout(() => {
      controller.abort();
    }, REQUEST_TIMEOUT_MS);
    fetch(statusUrl(), {
      cache: 'no-store',
      credentials: 'same-origin',
      headers: { accept: 'application/json' },
      signal: controller.signal,
    })
      .then(take)
      .catch(unreachable)
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
