// clearsim live monitoring page (docs/live.md). Plain browser JavaScript, no build step.
// Every data call goes to this server's guarded API with the key typed in, sent as the
// x-api-key header — also for the decision stream, read with fetch() rather than
// EventSource, which cannot send headers (a key in the URL would end up in access logs).
'use strict';
(function () {
  const KEY_STORAGE = 'clearsim.apiKey';
  /** Decisions kept in the list; marks and fund points kept per series. */
  const MAX_DECISIONS = 500;
  const MAX_POINTS = 5000;
  /** How far back a new connection replays logged decisions and reads marks. */
  const BACKFILL_POSITIONS = 5000;
  /** The stream triggers a refresh of the accounts, the fund and the marks, at most this often. */
  const REFRESH_MS = 300;
  /** Marks also move without any decision: the log is read this often when the stream is quiet. */
  const POLL_MS = 3000;
  const RECONNECT_MS = 2000;

  const $ = (id) => document.getElementById(id);
  let session = null;

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  /** One connection with one key: stopped and replaced when the key changes. */
  class Session {
    constructor(key) {
      this.key = key;
      this.abort = new AbortController();
      this.lastEventId = undefined;
      this.logNext = 1;
      this.decisions = 0;
      this.marks = new Map(); // instrument → [[seconds, price]]
      this.fund = []; // [[seconds, amount]]
      this.refreshTimer = undefined;
      this.refreshing = false;
      this.refreshAgain = false;
      this.priceChart = undefined;
      this.fundChart = undefined;
    }

    get stopped() {
      return this.abort.signal.aborted;
    }

    stop() {
      this.abort.abort();
      clearTimeout(this.refreshTimer);
      clearInterval(this.pollTimer);
    }

    async api(path, headers) {
      const response = await fetch(path, {
        headers: { 'x-api-key': this.key, accept: 'application/json', ...headers },
        signal: this.abort.signal,
        cache: 'no-store',
        credentials: 'omit',
      });
      if (!response.ok) throw new ApiError(response.status, await errorText(response));
      return response;
    }

    async json(path) {
      return (await this.api(path)).json();
    }

    async start() {
      setStatus('connecting', 'connecting…');
      let summary;
      try {
        summary = await this.json('/v1/summary');
      } catch (error) {
        if (!this.stopped) fail(error);
        return;
      }
      $('scope').textContent = summary.scope ? `venue key: accounts ${summary.scope}` : 'admin key: every account';
      this.logNext = Math.max(1, summary.position - BACKFILL_POSITIONS + 1);
      this.noteSummary(summary);
      void this.stream(Math.max(1, summary.position - BACKFILL_POSITIONS + 1));
      this.pollTimer = setInterval(() => this.scheduleRefresh(), POLL_MS);
      await this.refresh();
    }

    /** The decision stream, resumed after the last id seen whenever the connection drops. */
    async stream(from) {
      while (!this.stopped) {
        try {
          const headers = { accept: 'text/event-stream' };
          if (this.lastEventId !== undefined) headers['last-event-id'] = this.lastEventId;
          const path = this.lastEventId === undefined && from > 0 ? `/v1/decisions/stream?from=${from}` : '/v1/decisions/stream';
          const response = await this.api(path, headers);
          setStatus('live', 'live');
          const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
          let buffer = '';
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buffer += value.replace(/\r\n?/g, '\n');
            let end;
            while ((end = buffer.indexOf('\n\n')) >= 0) {
              this.onBlock(buffer.slice(0, end));
              buffer = buffer.slice(end + 2);
            }
          }
        } catch (error) {
          if (this.stopped) return;
          if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return fail(error);
          setStatus('connecting', `reconnecting (${error.message})`);
        }
        if (this.stopped) return;
        setStatus('connecting', 'reconnecting…');
        await sleep(RECONNECT_MS, this.abort.signal);
      }
    }

    /** One server-sent event: `id:`, `event:`, `data:` lines; `:` comments are keep-alives. */
    onBlock(block) {
      let id;
      let event = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line === '' || line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'id') id = value;
        else if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
      }
      if (id !== undefined) this.lastEventId = id;
      if (event === 'reset') return this.onReset();
      if (data.length === 0) return;
      const decision = JSON.parse(data.join('\n'));
      this.onDecision(Number(id), decision);
    }

    onReset() {
      this.decisions = 0;
      this.logNext = 1;
      this.marks.clear();
      this.fund = [];
      $('decisions').replaceChildren();
      this.scheduleRefresh();
    }

    onDecision(position, decision) {
      this.decisions++;
      const list = $('decisions');
      const item = document.createElement('li');
      item.value = position;
      item.dataset.type = decision.type;
      if (decision.account) item.dataset.account = decision.account;
      const type = document.createElement('span');
      type.className = 'type';
      type.textContent = decision.type;
      item.append(`${decision.ts} `, type, ` ${describe(decision)}`);
      const account = decision.account;
      if (account && account !== '*redacted*') item.addEventListener('click', () => showAccount(account));
      list.prepend(item);
      while (list.childElementCount > MAX_DECISIONS) list.lastElementChild.remove();
      $('decisions-count').textContent = `${this.decisions} received`;
      if (decision.type === 'MarkImpacted') this.addMark(decision.instrument, decision.ts, decision.to);
      this.scheduleRefresh();
    }

    scheduleRefresh() {
      if (this.refreshTimer !== undefined || this.stopped) return;
      this.refreshTimer = setTimeout(() => {
        this.refreshTimer = undefined;
        void this.refresh();
      }, REFRESH_MS);
    }

    /** Accounts by health, the fund and the clock (summary), the marks (the log's new inputs). */
    async refresh() {
      if (this.refreshing) {
        this.refreshAgain = true;
        return;
      }
      this.refreshing = true;
      try {
        const [accounts, summary] = await Promise.all([this.json('/v1/accounts?limit=200'), this.json('/v1/summary')]);
        if (this.stopped) return;
        renderAccounts(accounts);
        this.noteSummary(summary);
        await this.readMarks(summary.position);
        this.draw();
      } catch (error) {
        if (!this.stopped) fail(error);
      } finally {
        this.refreshing = false;
        if (this.refreshAgain) {
          this.refreshAgain = false;
          this.scheduleRefresh();
        }
      }
    }

    noteSummary(summary) {
      $('clock').textContent = summary.clock ? `clock ${summary.clock}` : 'clock: no event yet';
      if (summary.insuranceFund === undefined) return;
      $('fund-now').textContent = `${summary.insuranceFund} now`;
      if (!summary.clock) return;
      const t = seconds(summary.clock);
      const amount = Number(summary.insuranceFund);
      const last = this.fund[this.fund.length - 1];
      if (last && last[0] === t) last[1] = amount;
      else if (!last || last[0] < t) this.fund.push([t, amount]);
      if (this.fund.length > MAX_POINTS) this.fund.splice(0, this.fund.length - MAX_POINTS);
    }

    /** The marks posted since the last read: PriceUpdated and MarketMoved inputs of the log. */
    async readMarks(head) {
      for (let pages = 0; pages < 20 && this.logNext <= head && !this.stopped; pages++) {
        const page = await this.json(`/v1/log?from=${this.logNext}&limit=1000`);
        for (const event of page.events) {
          if (event.type === 'PriceUpdated') this.addMark(event.instrument, event.ts, event.price);
          else if (event.type === 'MarketMoved') for (const mark of event.marks) this.addMark(mark.instrument, event.ts, mark.price);
        }
        if (page.next <= this.logNext) break;
        this.logNext = page.next;
      }
    }

    addMark(instrument, ts, price) {
      let series = this.marks.get(instrument);
      if (!series) this.marks.set(instrument, (series = []));
      series.push([seconds(ts), Number(price)]);
      if (series.length > MAX_POINTS) series.splice(0, series.length - MAX_POINTS);
    }

    draw() {
      if (typeof uPlot === 'undefined') return;
      const instruments = [...this.marks.keys()].sort();
      const priceData = align(instruments.map((instrument) => this.marks.get(instrument)));
      const width = $('price-chart').clientWidth || 600;
      if (!this.priceChart || this.priceChart.series.length !== instruments.length + 1) {
        this.priceChart?.destroy();
        $('price-chart').replaceChildren();
        this.priceChart = new uPlot(
          {
            width,
            height: 220,
            tzDate: utc,
            scales: { x: { time: true } },
            series: [{}, ...instruments.map((instrument, i) => ({ label: instrument, stroke: colour(i), spanGaps: true, scale: instruments.length > 1 ? instrument : 'y' }))],
            axes: [{}, ...(instruments.length > 0 ? [{ scale: instruments.length > 1 ? instruments[0] : 'y', size: 64 }] : [])],
          },
          priceData,
          $('price-chart'),
        );
      } else this.priceChart.setData(priceData);
      const fundData = [this.fund.map((p) => p[0]), this.fund.map((p) => p[1])];
      if (!this.fundChart) {
        this.fundChart = new uPlot(
          { width, height: 160, tzDate: utc, scales: { x: { time: true } }, series: [{}, { label: 'insurance fund', stroke: '#5b5f97', fill: 'rgba(91,95,151,0.12)' }], axes: [{}, { size: 64 }] },
          fundData,
          $('fund-chart'),
        );
      } else this.fundChart.setData(fundData);
      // a single sample still gets a readable minute around it, not uPlot's span of years
      if (fundData[0].length === 1) this.fundChart.setScale('x', { min: fundData[0][0] - 60, max: fundData[0][0] + 60 });
      document.body.dataset.pricePoints = String(priceData[0].length);
      document.body.dataset.fundPoints = String(fundData[0].length);
    }
  }

  /** One time axis for every instrument (uPlot's data layout), null where an instrument has no mark. */
  function align(seriesList) {
    const times = [...new Set(seriesList.flatMap((series) => series.map((p) => p[0])))].sort((a, b) => a - b);
    const index = new Map(times.map((t, i) => [t, i]));
    return [
      times,
      ...seriesList.map((series) => {
        const values = new Array(times.length).fill(null);
        for (const [t, price] of series) values[index.get(t)] = price;
        return values;
      }),
    ];
  }

  function renderAccounts(list) {
    const body = $('accounts').tBodies[0];
    const rows = list.accounts.map((account) => {
      const row = document.createElement('tr');
      row.dataset.account = account.account;
      for (const [text, cls] of [
        [account.account],
        [account.status, `s-${account.status}`],
        [account.health ?? '—'],
        [account.equity],
        [account.maintenanceMargin],
        [account.freeCollateral],
        [String(account.positions)],
      ]) {
        const cell = document.createElement('td');
        cell.textContent = text;
        if (cls) cell.className = cls;
        row.append(cell);
      }
      row.addEventListener('click', () => showAccount(account.account));
      return row;
    });
    body.replaceChildren(...rows);
    $('accounts-total').textContent = `${list.accounts.length} of ${list.total}, most at risk first`;
  }

  async function showAccount(id) {
    if (!session) return;
    $('account-id').value = id;
    const detail = $('account-detail');
    try {
      const account = await session.json(`/v1/accounts/${encodeURIComponent(id)}`);
      const fields = document.createElement('dl');
      fields.id = 'account-fields';
      for (const name of ['account', 'status', 'health', 'cash', 'equity', 'initialMargin', 'maintenanceMargin', 'freeCollateral', 'marginMode', 'at', 'position']) {
        if (account[name] === undefined) continue;
        const dt = document.createElement('dt');
        dt.textContent = name;
        const dd = document.createElement('dd');
        dd.textContent = account[name] === null ? '—' : String(account[name]);
        if (name === 'status') dd.className = `s-${account.status}`;
        fields.append(dt, dd);
      }
      const table = document.createElement('table');
      const head = table.createTHead().insertRow();
      const columns = ['instrument', 'qty', 'entryPrice', 'mark', 'unrealizedPnl', 'maintenanceMargin', 'liquidationPrice'];
      for (const column of columns) head.append(Object.assign(document.createElement('th'), { textContent: column }));
      const body = table.createTBody();
      for (const [instrument, position] of Object.entries(account.positions)) {
        const row = body.insertRow();
        for (const column of columns) row.insertCell().textContent = column === 'instrument' ? instrument : (position[column] ?? '—');
      }
      const decided = [...$('decisions').children].filter((item) => item.dataset.account === id);
      const history = document.createElement('ol');
      history.id = 'account-decisions';
      history.reversed = true;
      for (const item of decided) history.append(Object.assign(document.createElement('li'), { value: item.value, textContent: item.textContent }));
      const heading = Object.assign(document.createElement('h3'), { textContent: decided.length > 0 ? `Its decisions received here (${decided.length})` : 'No decision about it received here yet' });
      detail.replaceChildren(fields, table, heading, history);
    } catch (error) {
      detail.replaceChildren(Object.assign(document.createElement('p'), { className: 'error', textContent: error.message }));
    }
  }

  /** A decision in one line: its account and the figures that matter for its type. */
  function describe(d) {
    const parts = [];
    for (const name of ['account', 'instrument', 'qty', 'price', 'amount', 'deficit', 'equity', 'maintenanceMargin', 'counterparty', 'reason', 'from', 'to', 'cause']) {
      if (d[name] !== undefined && typeof d[name] !== 'object') parts.push(name === 'account' ? d[name] : `${name}=${d[name]}`);
    }
    return parts.join(' ');
  }

  async function errorText(response) {
    try {
      const body = await response.json();
      return `${response.status} ${Array.isArray(body.message) ? body.message.join('; ') : (body.message ?? body.error ?? response.statusText)}`;
    } catch {
      return `${response.status} ${response.statusText}`;
    }
  }

  function fail(error) {
    setStatus('error', error.status === 401 ? 'key refused (401): enter another' : error.message);
  }

  function setStatus(state, text) {
    const status = $('status');
    status.dataset.state = state;
    status.textContent = text;
  }

  const seconds = (ts) => Date.parse(ts) / 1000;
  /** The log's clock is UTC: the charts' time axes say so, whatever the browser's zone. */
  const utc = (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC');
  const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f'];
  const colour = (i) => PALETTE[i % PALETTE.length];
  const sleep = (ms, signal) => new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });

  function connect(key) {
    session?.stop();
    $('decisions').replaceChildren();
    $('accounts').tBodies[0].replaceChildren();
    $('price-chart').replaceChildren();
    $('fund-chart').replaceChildren();
    $('scope').textContent = '';
    session = key ? new Session(key) : null;
    if (session) void session.start();
    else setStatus('signed-out', 'no key');
  }

  function init() {
    $('key-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const key = $('key').value.trim();
      $('key').value = '';
      if (key === '') return;
      sessionStorage.setItem(KEY_STORAGE, key);
      connect(key);
    });
    $('forget').addEventListener('click', () => {
      sessionStorage.removeItem(KEY_STORAGE);
      connect(null);
    });
    $('account-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const id = $('account-id').value.trim();
      if (id !== '') void showAccount(id);
    });
    connect(sessionStorage.getItem(KEY_STORAGE));
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
